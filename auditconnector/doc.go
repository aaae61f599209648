//go:generate sh ../internal/tools/generate.sh auditconnector

// Package auditconnector is an OpenTelemetry Collector connector that turns
// audited HTTP requests into audit events: for every span or log record that
// the audit processor would keep and tag, it emits one log record in the
// provider's (CADF-based) event model to a logs pipeline, and nothing for
// any other record. It reads records exactly as the audit processor does
// (internal/audit) and takes the same configuration, plus event options.
package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"
