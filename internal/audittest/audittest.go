// Package audittest holds what the tests of the processor, the connector
// and auditcatalog share to run the audit processor: one place that creates,
// starts and stops it, builds a batch of one record of either signal, walks
// a batch's records and compares output with a golden file. Only tests
// import it.
package audittest // import "github.com/otel-audit/auditprocessor/internal/audittest"

import (
	"context"
	"flag"
	"iter"
	"os"
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
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

// Update is the -update flag of every test that compares with golden files
// or transcripts.
var Update = flag.Bool("update", false, "rewrite the golden files and transcripts in testdata/ from what the code does now (then read them record by record)")

// Signals are the two signals the processor takes, as its metrics name them.
var Signals = []string{"traces", "logs"}

// Record is one record of a batch: its attributes, its span id, a span's
// name and kind (a log record has no name, and counts as a server record),
// and the log record itself, for a test of the connector's events.
type Record struct {
	Log    plog.LogRecord
	Attrs  pcommon.Map
	SpanID pcommon.SpanID
	Name   string
	Kind   ptrace.SpanKind
}

// Records yields every record of a batch (ptrace.Traces or plog.Logs), read
// through the components' own view of a record (audit.View).
func Records(batch any) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		audit.Walk(batch, func(pcommon.Resource, string) {}, func(v audit.View) bool {
			r := Record{Log: v.Log(), Attrs: v.Attrs, SpanID: v.SpanID(), Name: v.SpanName, Kind: v.Kind()}
			if !v.IsSpan() {
				r.Kind = ptrace.SpanKindServer // a log record counts as a server record
			}
			return yield(r)
		})
	}
}

// AttrsByID returns the attributes of each record of a batch by its span id.
func AttrsByID(batch any) map[string]pcommon.Map {
	m := map[string]pcommon.Map{}
	for r := range Records(batch) {
		m[r.SpanID.String()] = r.Attrs
	}
	return m
}

// One is a batch of one HTTP record under one resource and one scope: a
// server span (traces) or a log record (logs).
type One struct {
	Signal string
	Traces ptrace.Traces
	Logs   plog.Logs
}

// NewOne builds a batch of one record of signal with the given resource and
// record attributes; a span is a server span named spanName.
func NewOne(t testing.TB, signal string, resource, attrs map[string]any, spanName string) One {
	t.Helper()
	o := One{Signal: signal}
	switch signal {
	case "traces":
		o.Traces = ptrace.NewTraces()
		s := o.Traces.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetName(spanName)
	case "logs":
		o.Logs = plog.NewLogs()
		o.Logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	default:
		t.Fatalf("no signal %q", signal)
	}
	res, _, rec := o.Levels()
	require.NoError(t, res.FromRaw(resource))
	require.NoError(t, rec.FromRaw(attrs))
	return o
}

// Levels returns the attributes of the record's resource, scope and record.
func (o One) Levels() (resource, scope, record pcommon.Map) {
	if o.Signal == "traces" {
		rs := o.Traces.ResourceSpans().At(0)
		ss := rs.ScopeSpans().At(0)
		return rs.Resource().Attributes(), ss.Scope().Attributes(), ss.Spans().At(0).Attributes()
	}
	rl := o.Logs.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	return rl.Resource().Attributes(), sl.Scope().Attributes(), sl.LogRecords().At(0).Attributes()
}

// Attrs returns the record's attributes.
func (o One) Attrs() pcommon.Map {
	_, _, rec := o.Levels()
	return rec
}

// SpanName is the span's name; a log record has none.
func (o One) SpanName() string {
	if o.Signal == "traces" {
		return o.Traces.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name()
	}
	return ""
}

// Batch is the batch itself: ptrace.Traces or plog.Logs.
func (o One) Batch() any {
	if o.Signal == "traces" {
		return o.Traces
	}
	return o.Logs
}

// Running is a started processor of one signal, the telemetry it records
// and the sink it passes batches to.
type Running struct {
	Tel        *componenttest.Telemetry
	Traces     processor.Traces
	Logs       processor.Logs
	TracesSink *consumertest.TracesSink
	LogsSink   *consumertest.LogsSink
}

// Start creates the processor of signal from f with cfg, its telemetry
// recorded apart, starts it, and shuts both down when the test ends.
func Start(t testing.TB, f processor.Factory, signal string, cfg component.Config) *Running {
	t.Helper()
	r := &Running{Tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { require.NoError(t, r.Tel.Shutdown(context.Background())) })
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = r.Tel.NewTelemetrySettings()
	var c component.Component
	var err error
	switch signal {
	case "traces":
		r.TracesSink = new(consumertest.TracesSink)
		r.Traces, err = f.CreateTraces(t.Context(), set, cfg, r.TracesSink)
		c = r.Traces
	case "logs":
		r.LogsSink = new(consumertest.LogsSink)
		r.Logs, err = f.CreateLogs(t.Context(), set, cfg, r.LogsSink)
		c = r.Logs
	default:
		t.Fatalf("no signal %q", signal)
	}
	require.NoError(t, err)
	require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, c.Shutdown(context.Background())) })
	return r
}

// Consume passes a batch (ptrace.Traces or plog.Logs) to the processor and
// returns what it passed on, or nil when it passed nothing on.
func (r *Running) Consume(t testing.TB, batch any) any {
	t.Helper()
	var out []any
	switch b := batch.(type) {
	case ptrace.Traces:
		r.TracesSink.Reset()
		require.NoError(t, r.Traces.ConsumeTraces(t.Context(), b))
		for _, td := range r.TracesSink.AllTraces() {
			out = append(out, td)
		}
	case plog.Logs:
		r.LogsSink.Reset()
		require.NoError(t, r.Logs.ConsumeLogs(t.Context(), b))
		for _, ld := range r.LogsSink.AllLogs() {
			out = append(out, ld)
		}
	default:
		t.Fatalf("not a batch: %T", batch)
	}
	if len(out) == 0 {
		return nil
	}
	require.Len(t, out, 1, "one batch in, at most one out")
	return out[0]
}

// Run passes a batch of one record on and returns the record as it came
// out, and false when the processor dropped it.
func (r *Running) Run(t testing.TB, o One) (One, bool) {
	t.Helper()
	switch out := r.Consume(t, o.Batch()).(type) {
	case ptrace.Traces:
		return One{Signal: o.Signal, Traces: out}, true
	case plog.Logs:
		return One{Signal: o.Signal, Logs: out}, true
	}
	return One{}, false
}

// ReadBatch reads a golden file of signal: ptrace.Traces or plog.Logs.
func ReadBatch(t testing.TB, signal, path string) any {
	t.Helper()
	var batch any
	var err error
	switch signal {
	case "traces":
		batch, err = golden.ReadTraces(path)
	case "logs":
		batch, err = golden.ReadLogs(path)
	default:
		t.Fatalf("no signal %q", signal)
	}
	require.NoError(t, err)
	return batch
}

// CheckGolden compares out (ptrace.Traces or plog.Logs) with the golden
// file at path, after writing out there when the test runs with -update.
func CheckGolden(t testing.TB, path string, out any) {
	t.Helper()
	var err error
	switch out := out.(type) {
	case ptrace.Traces:
		if *Update {
			require.NoError(t, golden.WriteTraces(t, path, out))
		}
		err = ptracetest.CompareTraces(ReadBatch(t, "traces", path).(ptrace.Traces), out)
	case plog.Logs:
		if *Update {
			require.NoError(t, golden.WriteLogs(t, path, out))
		}
		err = plogtest.CompareLogs(ReadBatch(t, "logs", path).(plog.Logs), out)
	default:
		t.Fatalf("%s: not a batch: %T", path, out)
	}
	require.NoError(t, err, path)
}

// AuditOnly returns the audit.* attributes of m, or with rest the others.
func AuditOnly(m pcommon.Map, rest bool) map[string]any {
	got := map[string]any{}
	for k, v := range m.All() {
		if strings.HasPrefix(k, audit.Prefix) != rest {
			got[k] = v.AsRaw()
		}
	}
	return got
}

// Counter returns the sum of one of the component's counters over its data
// points with the given signal; name is the metric's name after the
// component's prefix (records_matched for processor_audit_records_matched).
// The metric must be one that metadata.yaml (in the test's directory)
// declares, so that a misspelt name fails rather than reads 0; a declared
// counter that was never recorded is 0 (the components record counts above
// zero only).
func Counter(t testing.TB, tel *componenttest.Telemetry, name, signal string) int64 {
	t.Helper()
	data, err := os.ReadFile("metadata.yaml")
	require.NoError(t, err)
	var md struct {
		Type   string `yaml:"type"`
		Status struct {
			Class string `yaml:"class"`
		} `yaml:"status"`
		Telemetry struct {
			Metrics map[string]any `yaml:"metrics"`
		} `yaml:"telemetry"`
	}
	require.NoError(t, yaml.Unmarshal(data, &md))
	metric := md.Status.Class + "_" + md.Type + "_" + name
	require.Contains(t, md.Telemetry.Metrics, metric, "not a metric of metadata.yaml")
	m, err := tel.GetMetric("otelcol_" + metric)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, metric)
	var n int64
	for _, dp := range sum.DataPoints {
		if v, _ := dp.Attributes.Value("signal"); v.AsString() == signal {
			n += dp.Value
		}
	}
	return n
}

// Counter is the counter of the running processor; see Counter.
func (r *Running) Counter(t testing.TB, name, signal string) int64 {
	t.Helper()
	return Counter(t, r.Tel, name, signal)
}

// Count is the data point of a counter with only the signal attribute.
func Count(signal string, n int64) []metricdata.DataPoint[int64] {
	return []metricdata.DataPoint[int64]{{Value: n, Attributes: attribute.NewSet(attribute.String("signal", signal))}}
}

// Drops is the data point of a dropped counter for one reason.
func Drops(signal string, n int64, reason string) []metricdata.DataPoint[int64] {
	return []metricdata.DataPoint[int64]{{Value: n, Attributes: attribute.NewSet(attribute.String("signal", signal), attribute.String("reason", reason))}}
}

// EveryRegion is the services configuration under which every region of
// both built-in catalogs sends events, so that the processor drops nothing
// it matched and every decision shows on the record.
func EveryRegion(t testing.TB) map[string]audit.ServiceConfig {
	t.Helper()
	services := map[string]audit.ServiceConfig{}
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		var ids []string
		for _, r := range c.Regions {
			ids = append(ids, r.ID)
		}
		services[c.Service] = audit.ServiceConfig{Regions: ids, RegionsMode: audit.RegionsAdd}
	}
	return services
}
