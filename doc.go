//go:generate sh internal/tools/generate.sh

// Package auditprocessor is an OpenTelemetry Collector processor that turns
// HTTP server spans and HTTP access-log records into audit events: it matches
// each record's method and route against service catalogs, sets audit.action,
// audit.outcome and audit.region, and drops records from regions where the
// service sends no audit events.
package auditprocessor // import "github.com/otel-audit/auditprocessor"
