package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

type auditProcessor struct {
	auditor   *audit.Auditor
	telemetry *metadata.TelemetryBuilder
	counters  *audit.Counters
}

func newAuditProcessor(set processor.Settings, cfg *Config) (*auditProcessor, error) {
	a, err := audit.Load(&cfg.Config)
	if err != nil {
		return nil, err
	}
	t, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &auditProcessor{auditor: a, telemetry: t, counters: (&audit.Counters{
		Matched:    t.ProcessorAuditRecordsMatched,
		Unmatched:  t.ProcessorAuditRecordsUnmatched,
		Malformed:  t.ProcessorAuditRecordsMalformed,
		Dropped:    t.ProcessorAuditRecordsDropped,
		Removed:    t.ProcessorAuditAttributesRemoved,
		Unselected: t.ProcessorAuditRecordsUnselected,
	}).Init()}, nil
}

func (p *auditProcessor) shutdown(context.Context) error {
	p.telemetry.Shutdown()
	return nil
}

func (p *auditProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var c audit.Counts
	removeEmptied(td.ResourceSpans(), func(rs ptrace.ResourceSpans) (int, int) {
		c.Removed += audit.Strip(rs.Resource().Attributes())
		region := p.auditor.NewResource(rs.Resource().Attributes())
		return removeEmptied(rs.ScopeSpans(), func(ss ptrace.ScopeSpans) (int, int) {
			c.Removed += audit.Strip(ss.Scope().Attributes())
			spans := ss.Spans()
			before := spans.Len()
			spans.RemoveIf(func(s ptrace.Span) bool {
				c.Removed += audit.Strip(s.Attributes())
				if !p.auditor.Audits(s.Kind()) {
					return false
				}
				return p.decide(&c, s.Attributes(), &region, s.Name(), s.Status().Code() == ptrace.StatusCodeError)
			})
			return before, spans.Len()
		})
	})
	p.counters.Record(ctx, audit.SignalTraces, &c)
	if c.AllDropped() > 0 && td.ResourceSpans().Len() == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

func (p *auditProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if audit.IsEvents(ctx) {
		return ld, nil // the audit connector's events, passed on as emitted
	}
	var c audit.Counts
	removeEmptied(ld.ResourceLogs(), func(rl plog.ResourceLogs) (int, int) {
		c.Removed += audit.Strip(rl.Resource().Attributes())
		region := p.auditor.NewResource(rl.Resource().Attributes())
		return removeEmptied(rl.ScopeLogs(), func(sl plog.ScopeLogs) (int, int) {
			c.Removed += audit.Strip(sl.Scope().Attributes())
			records := sl.LogRecords()
			before := records.Len()
			records.RemoveIf(func(r plog.LogRecord) bool {
				c.Removed += audit.Strip(r.Attributes())
				return p.decide(&c, r.Attributes(), &region, "", false)
			})
			return before, records.Len()
		})
	})
	p.counters.Record(ctx, audit.SignalLogs, &c)
	if c.AllDropped() > 0 && ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// decide decides one record whose forged audit attributes are gone, counts
// it, tags it when it is kept and matched, and tells whether to drop it.
func (p *auditProcessor) decide(c *audit.Counts, attrs pcommon.Map, rr *audit.Resource, spanName string, spanError bool) bool {
	d := p.auditor.Decide(attrs, rr, spanName, spanError)
	c.Add(&d)
	if d.Emits() {
		p.auditor.Tag(attrs, &d, attrs)
	}
	return d.Drop != audit.Keep
}

// removeEmptied runs each on every element of a slice (resources or scopes)
// and removes the elements that it left empty by dropping records, never
// those that came in empty. each returns the element's child count before
// and after. removeEmptied returns the same for the slice.
func removeEmptied[S interface {
	Len() int
	RemoveIf(func(E) bool)
}, E any](s S, each func(E) (before, after int)) (int, int) {
	before := s.Len()
	s.RemoveIf(func(e E) bool {
		b, a := each(e)
		return a == 0 && b > 0
	})
	return before, s.Len()
}
