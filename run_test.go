package auditprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/metadatatest"
)

// The helpers every test of the package uses to run the processor: one
// place that creates, starts and stops it, builds a batch of one record of
// either signal, and compares output with a golden file.

// signals are the two signals the processor takes, as its metrics name them.
var signals = []string{"traces", "logs"}

// one is a batch of one HTTP record under one resource and one scope: a
// server span (traces) or a log record (logs).
type one struct {
	signal string
	td     ptrace.Traces
	ld     plog.Logs
}

// newOne builds a batch of one record of signal with the given resource and
// record attributes; a span is a server span named spanName.
func newOne(t testing.TB, signal string, resource, attrs map[string]any, spanName string) one {
	t.Helper()
	o := one{signal: signal}
	switch signal {
	case "traces":
		o.td = ptrace.NewTraces()
		s := o.td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetName(spanName)
	case "logs":
		o.ld = plog.NewLogs()
		o.ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	default:
		t.Fatalf("no signal %q", signal)
	}
	res, _, rec := o.levels()
	require.NoError(t, res.FromRaw(resource))
	require.NoError(t, rec.FromRaw(attrs))
	return o
}

// levels returns the attributes of the record's resource, scope and record.
func (o one) levels() (resource, scope, record pcommon.Map) {
	if o.signal == "traces" {
		rs := o.td.ResourceSpans().At(0)
		ss := rs.ScopeSpans().At(0)
		return rs.Resource().Attributes(), ss.Scope().Attributes(), ss.Spans().At(0).Attributes()
	}
	rl := o.ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	return rl.Resource().Attributes(), sl.Scope().Attributes(), sl.LogRecords().At(0).Attributes()
}

// attrs returns the record's attributes.
func (o one) attrs() pcommon.Map {
	_, _, rec := o.levels()
	return rec
}

// spanName is the span's name; a log record has none.
func (o one) spanName() string {
	if o.signal == "traces" {
		return o.td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name()
	}
	return ""
}

// running is a started processor of one signal, its telemetry and the sink
// it passes batches to.
type running struct {
	tel    *componenttest.Telemetry
	traces processor.Traces
	logs   processor.Logs
	tsink  *consumertest.TracesSink
	lsink  *consumertest.LogsSink
}

// start creates and starts the processor of signal with cfg, its telemetry
// recorded apart, and shuts both down when the test ends.
func start(t testing.TB, signal string, cfg component.Config) *running {
	t.Helper()
	r := &running{tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { require.NoError(t, r.tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(r.tel)
	var c component.Component
	var err error
	switch signal {
	case "traces":
		r.tsink = new(consumertest.TracesSink)
		r.traces, err = NewFactory().CreateTraces(t.Context(), set, cfg, r.tsink)
		c = r.traces
	case "logs":
		r.lsink = new(consumertest.LogsSink)
		r.logs, err = NewFactory().CreateLogs(t.Context(), set, cfg, r.lsink)
		c = r.logs
	default:
		t.Fatalf("no signal %q", signal)
	}
	require.NoError(t, err)
	require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, c.Shutdown(context.Background())) })
	return r
}

// consume passes a batch (ptrace.Traces or plog.Logs) to the processor and
// returns what it passed on, or nil when it passed nothing on.
func (r *running) consume(t testing.TB, batch any) any {
	t.Helper()
	switch b := batch.(type) {
	case ptrace.Traces:
		r.tsink.Reset()
		require.NoError(t, r.traces.ConsumeTraces(t.Context(), b))
		if out := r.tsink.AllTraces(); len(out) > 0 {
			require.Len(t, out, 1)
			return out[0]
		}
	case plog.Logs:
		r.lsink.Reset()
		require.NoError(t, r.logs.ConsumeLogs(t.Context(), b))
		if out := r.lsink.AllLogs(); len(out) > 0 {
			require.Len(t, out, 1)
			return out[0]
		}
	default:
		t.Fatalf("not a batch: %T", batch)
	}
	return nil
}

// run passes a batch of one record on and returns the record as it came
// out, and false when the processor dropped it.
func (r *running) run(t testing.TB, o one) (one, bool) {
	t.Helper()
	var batch any = o.td
	if o.signal == "logs" {
		batch = o.ld
	}
	switch out := r.consume(t, batch).(type) {
	case ptrace.Traces:
		return one{signal: o.signal, td: out}, true
	case plog.Logs:
		return one{signal: o.signal, ld: out}, true
	}
	return one{}, false
}

// checkGolden compares out (ptrace.Traces or plog.Logs) with the golden
// file at path, after writing out there when the test runs with -update.
func checkGolden(t *testing.T, path string, out any) {
	t.Helper()
	switch out := out.(type) {
	case ptrace.Traces:
		if *update {
			require.NoError(t, golden.WriteTraces(t, path, out))
		}
		expected, err := golden.ReadTraces(path)
		require.NoError(t, err)
		require.NoError(t, ptracetest.CompareTraces(expected, out))
	case plog.Logs:
		if *update {
			require.NoError(t, golden.WriteLogs(t, path, out))
		}
		expected, err := golden.ReadLogs(path)
		require.NoError(t, err)
		require.NoError(t, plogtest.CompareLogs(expected, out))
	default:
		t.Fatalf("%s: not a batch: %T", path, out)
	}
}

// auditOnly returns the audit.* attributes of m, or with rest the others.
func auditOnly(m pcommon.Map, rest bool) map[string]any {
	got := map[string]any{}
	for k, v := range m.All() {
		if strings.HasPrefix(k, audit.Prefix) != rest {
			got[k] = v.AsRaw()
		}
	}
	return got
}
