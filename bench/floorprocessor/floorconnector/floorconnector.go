// Package floorconnector is the benchmarks' floor for audit events: a
// connector that, for every record the audit processor before it tagged
// (audit.action present), emits one log record of the same shape as the
// audit connector's event (the same attributes and the same body values,
// nested the same way), filled from the record's attributes and constants
// with no decision made: no catalog, no region, no severity rule. What it
// costs per event is what any implementation that emits such records
// pays; the audit connector's cost beside it is the price of its
// decisions (issue 26).
//
// Like the floor processor, it is built for the benchmarks only.
package floorconnector // import "github.com/otel-audit/auditprocessor/bench/floorprocessor/floorconnector"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/pref"
)

// Type is the connector's name in a collector configuration: floor.
var Type = component.MustNewType("floor")

// Config is empty: the floor has nothing to configure.
type Config struct{}

// NewFactory returns the floor connector's factory: traces to logs and logs
// to logs, as the audit connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(Type, func() component.Config { return &Config{} },
		connector.WithTracesToLogs(func(_ context.Context, _ connector.Settings, _ component.Config, next consumer.Logs) (connector.Traces, error) {
			return &floor{next: next}, nil
		}, component.StabilityLevelDevelopment),
		connector.WithLogsToLogs(func(_ context.Context, _ connector.Settings, _ component.Config, next consumer.Logs) (connector.Logs, error) {
			return &floor{next: next}, nil
		}, component.StabilityLevelDevelopment))
}

type floor struct {
	component.StartFunc
	component.ShutdownFunc
	next consumer.Logs
}

// Capabilities: it changes nothing it receives, but asks for a copy of its
// own while pdata's pooling gate is on, as the audit connector does (its
// capabilities).
func (f *floor) Capabilities() consumer.Capabilities {
	pooling := false
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == "pdata.useProtoPooling" {
			pooling = g.IsEnabled()
		}
	})
	return consumer.Capabilities{MutatesData: pooling}
}

// batch is the events of one incoming batch, a resource at a time.
type batch struct {
	out      plog.Logs
	records  plog.LogRecordSlice
	resource pcommon.Resource
	opened   bool
	now      pcommon.Timestamp
}

func (b *batch) emit(attrs pcommon.Map, ts pcommon.Timestamp, traceID pcommon.TraceID, spanID pcommon.SpanID) {
	action, ok := attrs.Get("audit.action")
	if !ok {
		return
	}
	if !b.opened {
		rl := b.out.ResourceLogs().AppendEmpty()
		b.resource.CopyTo(rl.Resource())
		rl.ScopeLogs().AppendEmpty().Scope().SetName("floor")
		b.records, b.opened = rl.ScopeLogs().At(0).LogRecords(), true
	}
	lr := b.records.AppendEmpty()
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(b.now)
	lr.SetTraceID(traceID)
	lr.SetSpanID(spanID)
	lr.SetSeverityText("normal")
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetEventName("audit.event")
	// the audit.* attributes, as the audit connector writes them
	out := lr.Attributes()
	out.EnsureCapacity(8)
	for k, v := range attrs.All() {
		if len(k) > 6 && k[:6] == "audit." {
			v.CopyTo(out.PutEmpty(k))
		}
	}
	str := func(k string) string {
		if v, ok := attrs.Get(k); ok && v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
		return ""
	}
	var code int64
	if v, ok := attrs.Get("http.response.status_code"); ok {
		code = v.Int()
	}
	body := lr.Body().SetEmptyMap()
	body.EnsureCapacity(13) // exactly the entries below: a floor wastes nothing
	body.PutStr("action", action.Str())
	body.PutStr("outcome", str("audit.outcome"))
	reason := body.PutEmptyMap("reason")
	reason.EnsureCapacity(2)
	reason.PutInt("reasonCode", code)
	reason.PutStr("reasonType", "OK")
	body.PutStr("severity", "normal")
	body.PutStr("eventTime", "2026-12-07T00:00:00.00+0000")
	body.PutStr("message", str("audit.message"))
	body.PutEmptyMap("target").PutStr("typeURI", str("audit.target.type"))
	initiator := body.PutEmptyMap("initiator")
	initiator.EnsureCapacity(2)
	initiator.PutStr("id", str("enduser.id"))
	host := initiator.PutEmptyMap("host")
	host.EnsureCapacity(2)
	host.PutStr("address", str("client.address"))
	host.PutStr("agent", str("user_agent.original"))
	body.PutEmptyMap("observer").PutStr("name", "ActivityTracker")
	body.PutStr("correlationId", traceID.String())
	body.PutBool("dataEvent", false)
	request := body.PutEmptyMap("requestData")
	request.EnsureCapacity(2)
	request.PutStr("method", str("http.request.method"))
	request.PutStr("route", str("http.route"))
	body.PutEmptyMap("responseData").PutInt("statusCode", code)
}

func (f *floor) finish(ctx context.Context, b *batch) error {
	if b.out.LogRecordCount() == 0 {
		return nil
	}
	return f.next.ConsumeLogs(ctx, b.out)
}

// ConsumeTraces emits one event per tagged span.
func (f *floor) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	// hold the batch while reading it, as the audit connector does (its
	// hold): with pdata's pooling gate, an exporter sharing it may release
	// it meanwhile
	pref.RefTraces(td)
	defer pref.UnrefTraces(td)
	b := &batch{out: plog.NewLogs(), now: pcommon.Timestamp(1)}
	for _, rs := range td.ResourceSpans().All() {
		b.resource, b.opened = rs.Resource(), false
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				b.emit(s.Attributes(), s.EndTimestamp(), s.TraceID(), s.SpanID())
			}
		}
	}
	return f.finish(ctx, b)
}

// ConsumeLogs emits one event per tagged log record.
func (f *floor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	pref.RefLogs(ld)
	defer pref.UnrefLogs(ld)
	b := &batch{out: plog.NewLogs(), now: pcommon.Timestamp(1)}
	for _, rl := range ld.ResourceLogs().All() {
		b.resource, b.opened = rl.Resource(), false
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				b.emit(r.Attributes(), r.Timestamp(), r.TraceID(), r.SpanID())
			}
		}
	}
	return f.finish(ctx, b)
}
