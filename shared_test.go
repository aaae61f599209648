package auditprocessor

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otel-audit/auditprocessor/auditconnector"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// swapCatalog is catalog version A (POST /v1/gadgets is gadgets.gadget.create)
// or B (it is gadgets.gadget.make, and POST /v1/widgets exists too).
func swapCatalog(b bool) string {
	if !b {
		return `service: gadgets
events:
  - {action: gadgets.gadget.create, method: POST, route: /v1/gadgets, description: Create a gadget}
`
	}
	return `service: gadgets
events:
  - {action: gadgets.gadget.make, method: POST, route: /v1/gadgets, description: Make a gadget}
  - {action: gadgets.widget.create, method: POST, route: /v1/widgets, description: Create a widget}
`
}

// swapConfigs writes catalog A to a file and returns it with a processor's
// and a connector's configuration alike that load it (no polling).
func swapConfigs(t *testing.T) (string, *Config, *auditconnector.Config) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	require.NoError(t, os.WriteFile(file, []byte(swapCatalog(false)), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.PollInterval = 0
	ccfg := auditconnector.NewFactory().CreateDefaultConfig().(*auditconnector.Config)
	ccfg.Config = cfg.Config
	return file, cfg, ccfg
}

// TestSpanAndEventAgreeUnderSwaps: catalogs A and B are swapped as a
// ConfigMap is (a rename over the file) every few milliseconds while
// goroutines send spans through the processor, whose next consumer passes
// them to a records sink and to the audit connector configured alike (as
// the collector's fanout does). For every span, its audit.action and its
// event's action come from one catalog version: a tagged span has exactly
// one event with its action, and an untagged span (POST /v1/widgets under
// A) has none.
func TestSpanAndEventAgreeUnderSwaps(t *testing.T) {
	file, cfg, ccfg := swapConfigs(t)
	events := new(consumertest.LogsSink)
	conn, err := auditconnector.NewFactory().CreateTracesToLogs(t.Context(), connectortest.NewNopSettings(auditconnector.NewFactory().Type()), ccfg, events)
	require.NoError(t, err)
	records := new(consumertest.TracesSink)
	fanout := consumer.Traces(fanoutTraces{records, conn})
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	pset := processortest.NewNopSettings(metadata.Type)
	pset.TelemetrySettings = tel.NewTelemetrySettings()
	proc, err := NewFactory().CreateTraces(t.Context(), pset, cfg, fanout)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	require.NoError(t, conn.Start(t.Context(), host))
	require.NoError(t, proc.Start(t.Context(), host))

	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	var swaps atomic.Int64
	go func() {
		defer writer.Done()
		for b := true; ; b = !b {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			tmp := file + ".tmp"
			if os.WriteFile(tmp, []byte(swapCatalog(b)), 0o600) == nil && os.Rename(tmp, file) == nil {
				swaps.Add(1)
			}
		}
	}()

	var sent atomic.Int64
	var wg sync.WaitGroup
	enough := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !closed(enough); i++ {
				td := ptrace.NewTraces()
				spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
				for j, path := range []string{"/v1/gadgets", "/v1/widgets", "/v1/gadgets", "/v1/widgets"} {
					s := spans.AppendEmpty()
					s.SetKind(ptrace.SpanKindServer)
					s.SetSpanID([8]byte{byte(g), byte(i >> 8), byte(i), byte(j), 1})
					s.SetTraceID([16]byte{1})
					s.Attributes().PutStr("http.request.method", "POST")
					s.Attributes().PutStr("url.path", path)
					s.Attributes().PutInt("http.response.status_code", 201)
				}
				sent.Add(int64(spans.Len()))
				if !assert.NoError(t, proc.ConsumeTraces(context.Background(), td)) {
					return
				}
				time.Sleep(200 * time.Microsecond) // let the swaps interleave
			}
		}()
	}
	// the spans flow until a dozen reloads have been applied
	require.Eventually(t, func() bool { return sumOf(tel, "otelcol_processor_audit_catalog_reloads") >= 12 },
		30*time.Second, 10*time.Millisecond, "the catalog is reloaded while the spans flow")
	close(enough)
	wg.Wait()
	close(stop)
	writer.Wait()
	require.NoError(t, proc.Shutdown(context.Background()))
	require.NoError(t, conn.Shutdown(context.Background()))

	eventAction := map[string]string{}
	for _, ld := range events.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					id := r.SpanID().String()
					_, dup := eventAction[id]
					require.False(t, dup, "one event per span")
					eventAction[id] = r.Body().Map().AsRaw()["action"].(string)
				}
			}
		}
	}
	tagged, byAction := 0, map[string]int{}
	var spans int64
	for _, td := range records.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					spans++
					id := s.SpanID().String()
					action, ok := s.Attributes().Get("audit.action")
					event, hasEvent := eventAction[id]
					if !ok {
						assert.False(t, hasEvent, "span %s is untagged, yet has an event %q", id, event)
						continue
					}
					tagged++
					byAction[action.Str()]++
					require.True(t, hasEvent, "span %s is tagged %s, yet has no event", id, action.Str())
					require.Equal(t, action.Str(), event, "span %s: its action and its event's", id)
				}
			}
		}
	}
	assert.Equal(t, sent.Load(), spans, "every span passed on")
	assert.Equal(t, tagged, len(eventAction), "one event per tagged span, none other")
	// both versions were in force while the spans flowed
	assert.Positive(t, byAction["gadgets.gadget.create"], "catalog A decided some")
	assert.Positive(t, byAction["gadgets.gadget.make"], "catalog B decided some")
	t.Logf("%d spans, %d tagged, %d swaps written, %d applied, by action %v", spans, tagged, swaps.Load(), sumOf(tel, "otelcol_processor_audit_catalog_reloads"), byAction)
}

// sumOf sums the data points of a counter; 0 when it has none yet.
func sumOf(tel *componenttest.Telemetry, name string) int64 {
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

// fanoutTraces passes a batch to each consumer in turn, as the collector's
// fanout passes it to a pipeline's exporters and connectors.
type fanoutTraces []consumer.Traces

func (f fanoutTraces) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f fanoutTraces) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	for _, c := range f {
		if err := c.ConsumeTraces(ctx, td); err != nil {
			return err
		}
	}
	return nil
}

// TestOneCatalogStatePerConfiguration: the processor's traces and logs
// instances and the connector's two edges, configured alike, share one
// catalog state: a changed file is reloaded once, counted once per
// component kind, and every instance decides with the new catalog at once.
func TestOneCatalogStatePerConfiguration(t *testing.T) {
	file, cfg, ccfg := swapConfigs(t)

	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	pset := processortest.NewNopSettings(metadata.Type)
	pset.TelemetrySettings = tel.NewTelemetrySettings()
	cset := connectortest.NewNopSettings(auditconnector.NewFactory().Type())
	cset.TelemetrySettings = tel.NewTelemetrySettings()

	tracesOut, logsOut := new(consumertest.TracesSink), new(consumertest.LogsSink)
	tEvents, lEvents := new(consumertest.LogsSink), new(consumertest.LogsSink)
	pt, err := NewFactory().CreateTraces(t.Context(), pset, cfg, tracesOut)
	require.NoError(t, err)
	pl, err := NewFactory().CreateLogs(t.Context(), pset, cfg, logsOut)
	require.NoError(t, err)
	ct, err := auditconnector.NewFactory().CreateTracesToLogs(t.Context(), cset, ccfg, tEvents)
	require.NoError(t, err)
	cl, err := auditconnector.NewFactory().CreateLogsToLogs(t.Context(), cset, ccfg, lEvents)
	require.NoError(t, err)
	all := []component.Component{pt, pl, ct, cl}
	for _, c := range all {
		require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
	}

	reloads := func(name string) int64 { return sumOf(tel, name) }
	require.NoError(t, os.WriteFile(file, []byte(swapCatalog(true)), 0o600))
	require.Eventually(t, func() bool {
		return reloads("otelcol_processor_audit_catalog_reloads") == 1 && reloads("otelcol_connector_audit_catalog_reloads") == 1
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // a second reload, were there one, would come within the debounce
	assert.Equal(t, int64(1), reloads("otelcol_processor_audit_catalog_reloads"), "one reload, counted once for the processor's two instances")
	assert.Equal(t, int64(1), reloads("otelcol_connector_audit_catalog_reloads"), "and once for the connector's two edges")

	// every instance decides with B at once: no instance lags behind
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.Attributes().PutStr("http.request.method", "POST")
	s.Attributes().PutStr("url.path", "/v1/widgets")
	ld := plog.NewLogs()
	s.Attributes().CopyTo(ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes())
	require.NoError(t, ct.(consumer.Traces).ConsumeTraces(t.Context(), td))
	require.NoError(t, cl.(consumer.Logs).ConsumeLogs(t.Context(), ld))
	require.NoError(t, pt.ConsumeTraces(t.Context(), td))
	require.NoError(t, pl.ConsumeLogs(t.Context(), ld))
	for name, got := range map[string]plog.Logs{"traces events": tEvents.AllLogs()[0], "logs events": lEvents.AllLogs()[0]} {
		assert.Equal(t, "gadgets.widget.create", got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Map().AsRaw()["action"], name)
	}
	v, _ := tracesOut.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("audit.action")
	assert.Equal(t, "gadgets.widget.create", v.Str())
	v, _ = logsOut.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("audit.action")
	assert.Equal(t, "gadgets.widget.create", v.Str())

	// the shared state outlives any one instance: the last one's shutdown ends it
	for _, c := range all {
		require.NoError(t, c.Shutdown(context.Background()))
	}
}
