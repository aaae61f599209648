package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// Look-alike events. A sender can post to a logs pipeline a record built
// like the audit connector's events: its event name, its scope name, its
// body. The connector's own batches reach the processor marked
// (audit.IsEvents) and pass unchanged; any other record loses what makes it
// look like an event (as it loses this project's audit.* attributes), so
// that a backend, and `auditcatalog verify`, can tell it apart.

// unmarkScope removes the connector's scope name from a scope that is not
// the connector's.
func unmarkScope(s pcommon.InstrumentationScope) {
	if s.Name() == integrity.ScopeName {
		s.SetName("")
	}
}

// unmarkRecord removes the event names of the connector's records.
func unmarkRecord(r plog.LogRecord) {
	if n := r.EventName(); n == integrity.EventName || n == integrity.CheckpointEventName {
		r.SetEventName("")
	}
}
