package audit

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// View is one record as the shared code reads it: a span or a log record,
// through one adapter per signal (SpanView, LogView), as contrib's filter
// and transform processors give their shared code a context per signal.
// The processor, the connector, auditcatalog coverage and the tests' helpers
// read records through it, and walk batches with Walk (the processor, which
// removes records as it goes, walks its own way and views each record).
type View struct {
	// Attrs are the record's attributes.
	Attrs pcommon.Map
	// SpanName is a span's name; "" for a log record.
	SpanName string
	span     ptrace.Span
	log      plog.LogRecord
	isSpan   bool
}

// SpanView views a span.
func SpanView(s ptrace.Span) View {
	return View{Attrs: s.Attributes(), SpanName: s.Name(), span: s, isSpan: true}
}

// LogView views a log record.
func LogView(r plog.LogRecord) View { return View{Attrs: r.Attributes(), log: r} }

// IsSpan tells a span from a log record.
func (v *View) IsSpan() bool { return v.isSpan }

// Kind is a span's kind; a log record has none (SpanKindUnspecified).
func (v *View) Kind() ptrace.SpanKind {
	if v.isSpan {
		return v.span.Kind()
	}
	return ptrace.SpanKindUnspecified
}

// Error tells whether a span's status is Error; never for a log record.
func (v *View) Error() bool { return v.isSpan && v.span.Status().Code() == ptrace.StatusCodeError }

// Time is when the request ended: a span's end time, else its start time;
// a log record's timestamp, else its observed time. 0 when it has none.
func (v *View) Time() pcommon.Timestamp {
	if v.isSpan {
		if ts := v.span.EndTimestamp(); ts != 0 {
			return ts
		}
		return v.span.StartTimestamp()
	}
	if ts := v.log.Timestamp(); ts != 0 {
		return ts
	}
	return v.log.ObservedTimestamp()
}

// TraceID is the record's trace id.
func (v *View) TraceID() pcommon.TraceID {
	if v.isSpan {
		return v.span.TraceID()
	}
	return v.log.TraceID()
}

// SpanID is the record's span id.
func (v *View) SpanID() pcommon.SpanID {
	if v.isSpan {
		return v.span.SpanID()
	}
	return v.log.SpanID()
}

// Log is the log record viewed; a zero LogRecord for a span.
func (v *View) Log() plog.LogRecord { return v.log }

// Walk reads a batch (ptrace.Traces or plog.Logs; anything else is
// nothing): resource is called for each resource, then record for each of
// its records, in order, until record returns false. The View is passed by
// value: a pointer given to a function value would move every record's View
// to the heap.
func Walk(batch any, resource func(res pcommon.Resource, schemaURL string), record func(v View) bool) {
	switch b := batch.(type) {
	case ptrace.Traces:
		for _, rs := range b.ResourceSpans().All() {
			resource(rs.Resource(), rs.SchemaUrl())
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					if !record(SpanView(s)) {
						return
					}
				}
			}
		}
	case plog.Logs:
		for _, rl := range b.ResourceLogs().All() {
			resource(rl.Resource(), rl.SchemaUrl())
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					if !record(LogView(r)) {
						return
					}
				}
			}
		}
	}
}
