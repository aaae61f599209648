// Package harness was the harness's home before bench/cmd/loadgen came to
// share it; it is now github.com/otel-audit/auditprocessor/e2e/harness
// (internal packages cannot be imported from another module). What is left
// here is an alias for coverage_test.go, the one file that still imports
// this path: delete this package when that file imports e2e/harness.
package harness

import "github.com/otel-audit/auditprocessor/e2e/harness"

// Backend is harness.Backend.
type Backend = harness.Backend
