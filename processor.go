package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

type auditProcessor struct {
	// live is the catalogs in force, shared by every audit component
	// configured alike (audit.Acquire): read once per batch and pinned in
	// the batch's context for the connector after it (see pin).
	live      *audit.Live
	telemetry *metadata.TelemetryBuilder
	counters  *audit.Counters
	release   func() // stops counting reloads, on shutdown
	started   bool   // Start started the live catalogs: Shutdown stops them
}

func newAuditProcessor(set processor.Settings, cfg *Config) (*auditProcessor, error) {
	live, err := audit.Acquire(&cfg.Config, set.Logger)
	if err != nil {
		return nil, err
	}
	t, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		live.Release()
		return nil, err
	}
	release, err := live.Instrument("processor", audit.Instrumentation{
		Reloads: t.ProcessorAuditCatalogReloads,
		InForce: t.RegisterProcessorAuditCatalogInForceCallback,
		Evicted: t.RegisterProcessorAuditServiceNamesEvictedCallback,
	})
	if err != nil {
		live.Release()
		return nil, err
	}
	return &auditProcessor{live: live, telemetry: t, release: release, counters: (&audit.Counters{
		Matched:    t.ProcessorAuditRecordsMatched,
		Unmatched:  t.ProcessorAuditRecordsUnmatched,
		Malformed:  t.ProcessorAuditRecordsMalformed,
		Refused:    t.ProcessorAuditRecordsRefused,
		Dropped:    t.ProcessorAuditRecordsDropped,
		Removed:    t.ProcessorAuditAttributesRemoved,
		Unselected: t.ProcessorAuditRecordsUnselected,
	}).Init()}, nil
}

func (p *auditProcessor) start(context.Context, component.Host) error {
	if err := p.live.Start(); err != nil {
		return err
	}
	p.started = true
	return nil
}

func (p *auditProcessor) shutdown(context.Context) error {
	if p.started {
		p.live.Shutdown()
		p.started = false
	}
	if p.release != nil {
		p.release()
		p.release = nil
		p.live.Release()
	}
	p.telemetry.Shutdown()
	return nil
}

// pinned wraps the processor so that each batch's context carries the
// catalogs in force when the batch came (audit.Live.Pin): the processor
// decides with them, and so does an audit connector configured alike after
// it, so that a span's tags and its event come from one catalog version
// even while a reload swaps it.
type pinnedTraces struct {
	processor.Traces
	live *audit.Live
}

func (p pinnedTraces) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	ctx, _ = p.live.Pin(ctx)
	return p.Traces.ConsumeTraces(ctx, td)
}

type pinnedLogs struct {
	processor.Logs
	live *audit.Live
}

func (p pinnedLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	ctx, _ = p.live.Pin(ctx)
	return p.Logs.ConsumeLogs(ctx, ld)
}

func (p *auditProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	a := p.live.For(ctx)
	var c audit.Counts
	removeEmptied(td.ResourceSpans(), func(rs ptrace.ResourceSpans) (int, int) {
		c.Removed += audit.Strip(rs.Resource().Attributes())
		region := a.NewResource(rs.Resource().Attributes())
		return removeEmptied(rs.ScopeSpans(), func(ss ptrace.ScopeSpans) (int, int) {
			c.Removed += audit.Strip(ss.Scope().Attributes())
			spans := ss.Spans()
			before := spans.Len()
			spans.RemoveIf(func(s ptrace.Span) bool {
				c.Removed += audit.Strip(s.Attributes())
				v := audit.SpanView(s)
				return decide(a, &c, &v, &region)
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
	a := p.live.For(ctx)
	var c audit.Counts
	removeEmptied(ld.ResourceLogs(), func(rl plog.ResourceLogs) (int, int) {
		c.Removed += audit.Strip(rl.Resource().Attributes())
		region := a.NewResource(rl.Resource().Attributes())
		return removeEmptied(rl.ScopeLogs(), func(sl plog.ScopeLogs) (int, int) {
			c.Removed += audit.Strip(sl.Scope().Attributes())
			unmarkScope(sl.Scope())
			records := sl.LogRecords()
			before := records.Len()
			records.RemoveIf(func(r plog.LogRecord) bool {
				c.Removed += audit.Strip(r.Attributes())
				unmarkRecord(r)
				v := audit.LogView(r)
				return decide(a, &c, &v, &region)
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

// decide decides one record whose forged audit attributes are gone (a
// span of a kind that is not audited is left as it is), counts it, tags it
// when it is kept and matched, and tells whether to drop it.
func decide(a *audit.Auditor, c *audit.Counts, v *audit.View, rr *audit.Resource) bool {
	if !a.Audits(v) {
		return false
	}
	d := a.Decide(v, rr)
	c.Add(&d)
	if d.Emits() {
		a.Tag(v.Attrs, &d, v.Attrs)
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
