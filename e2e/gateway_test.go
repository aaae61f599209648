package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// gatewayConfig is the front tier's example: OTLP in, the load_balancing
// exporter out, routing by trace id.
const gatewayConfig = "../examples/gateway.yaml"

// gatewayDist is otelcol-audit-gateway, the front tier's distribution
// (builder-config-gateway.yaml): $AUDIT_GATEWAY_COLLECTOR, or else built by
// `make dist-gateway` when TestGateway first asks for it. make test-e2e
// does not build it beforehand: only this test needs it.
var gatewayDist = &distribution{env: "AUDIT_GATEWAY_COLLECTOR", target: "dist-gateway", bin: "dist/gateway/otelcol-audit-gateway"}

// gatewayRounds is how many times the requests table is sent through the
// gateway, each request with a trace of its own.
const gatewayRounds = 4

// tier is one audit collector of the gateway test and the backends that
// only it exports to, so that the test sees which collector handled what.
type tier struct {
	col             *harness.Collector
	records, events *harness.Backend
}

// startFront runs the front tier's example, spreading traces over the
// audit collectors at hostnames (their OTLP/gRPC endpoints).
func startFront(t *testing.T, gateway string, hostnames []string) *harness.Collector {
	t.Helper()
	return startCollector(t, "front collector", harness.CollectorOptions{
		Binary: gateway, BaseConfig: gatewayConfig,
		Env: []string{"AUDIT_GATEWAY_QUEUE_DIR=" + t.TempDir()},
		Overrides: []string{fmt.Sprintf(`
exporters:
  load_balancing:
    resolver:
      static:
        hostnames: [%s]
`, strings.Join(hostnames, ", "))},
	})
}

// TestGateway runs a gateway tier on loopback: instrumented services send
// their spans (OTLP/gRPC) and access logs (OTLP/HTTP) to one front
// collector, otelcol-audit-gateway running examples/gateway.yaml, whose
// load_balancing exporter spreads the traces over two audit collectors,
// otelcol-audit running examples/collector.yaml. Each audit collector exports to backends of its
// own. Every kept request's span and access log arrive exactly once, and
// every audited request's event exactly once, at the backends of the audit
// collector that had the span; both collectors took a share of each signal;
// and their counters add up to what the front received.
func TestGateway(t *testing.T) {
	binary := collectorBinary(t)
	gateway := gatewayDist.binary(t)
	// examples/collector.yaml allows backup-recovery in us-south.
	sc := scenarios[1]
	require.Equal(t, "backup-recovery_added_in_us-south", sc.name)

	var tiers [2]tier
	var hostnames []string
	for i := range tiers {
		tr := &tiers[i]
		tr.records = startBackend(t, "")
		tr.events = startBackend(t, "")
		tr.col = startCollector(t, fmt.Sprintf("audit collector %d", i+1), harness.CollectorOptions{
			Binary: binary, BaseConfig: exampleConfig,
			ExportEndpoint: tr.records.URL, EventsEndpoint: tr.events.URL,
			Env: []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
		})
		hostnames = append(hostnames, tr.col.GRPCEndpoint)
	}
	front := startFront(t, gateway, hostnames)

	// The instrumented services of the end-to-end test, sending to the front.
	apps := startFleet(t, requests, front.GRPCEndpoint, front.HTTPEndpoint, nil)
	type sent struct {
		r  request
		id pcommon.TraceID
	}
	var all []sent
	for range gatewayRounds {
		for _, r := range requests {
			all = append(all, sent{r, send(t, apps.url(r), r)})
		}
	}
	apps.flush(t)

	// What the backends must end with.
	n := len(all)
	var kept, audited, matched, dropped int
	for _, s := range all {
		if s.r.action != "" {
			matched++
		}
		if sc.kept(s.r) {
			kept++
			if s.r.action != "" {
				audited++
			}
		} else {
			dropped++
		}
	}
	require.Positive(t, dropped, "the requests include some the audit collectors drop")
	total := func() (records, events int) {
		for _, tr := range tiers {
			records += len(tr.records.Records())
			events += len(tr.events.Records())
		}
		return records, events
	}
	waitFor(t, 60*time.Second, "every kept record and every event at the backends", func() (bool, string) {
		records, events := total()
		return records >= 2*kept && events >= audited,
			fmt.Sprintf("%d of %d records and %d of %d events", records, 2*kept, events, audited)
	})
	// Every collector has exported all it let through: nothing more is on
	// its way that could be a duplicate.
	metrics := make([]harness.Metrics, len(tiers))
	waitFor(t, 30*time.Second, "the audit collectors' exporters to have sent everything", func() (bool, string) {
		var missing []string
		for i, tr := range tiers {
			m, err := harness.Scrape(t.Context(), tr.col.MetricsURL)
			if err != nil {
				return false, err.Error()
			}
			metrics[i] = m
			for _, s := range signals {
				out := m.Sum("otelcol_processor_outgoing_items", map[string]string{"processor": "audit", "otel_signal": s.signal})
				exported := m.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "otlp_http"})
				if out != exported {
					missing = append(missing, fmt.Sprintf("collector %d %s: %g out, %g sent", i+1, s.signal, out, exported))
				}
			}
		}
		return len(missing) == 0, strings.Join(missing, "; ")
	})

	// Exactly once, whole, and each request at one audit collector.
	type where struct{ spans, logs, events []int }
	byID := map[pcommon.TraceID]*where{}
	at := func(id pcommon.TraceID) *where {
		if byID[id] == nil {
			byID[id] = &where{}
		}
		return byID[id]
	}
	for i, tr := range tiers {
		for _, rec := range tr.records.Records() {
			w := at(rec.TraceID)
			if rec.Signal == "traces" {
				w.spans = append(w.spans, i)
			} else {
				w.logs = append(w.logs, i)
			}
		}
		for _, rec := range tr.events.Records() {
			w := at(rec.TraceID)
			w.events = append(w.events, i)
		}
	}
	// The load_balancing exporter (v0.160.0) hashes a span's trace id as 16
	// bytes and a log record's as hex: a request's access log may reach
	// another audit collector than its span. Harmless: each collector decides
	// each record alone, and the event is made of the span, where the span is.
	split := 0
	for _, s := range all {
		name := fmt.Sprintf("%s %s %s %s (%s)", s.r.service, s.r.region, s.r.method, s.r.target, s.id)
		w := at(s.id)
		delete(byID, s.id)
		if !sc.kept(s.r) {
			assert.Empty(t, w.spans, "%s: dropped span", name)
			assert.Empty(t, w.logs, "%s: dropped access log", name)
			assert.Empty(t, w.events, "%s: dropped request's event", name)
			continue
		}
		if !assert.Len(t, w.spans, 1, "%s: span", name) || !assert.Len(t, w.logs, 1, "%s: access log", name) {
			continue
		}
		if w.spans[0] != w.logs[0] {
			split++
		}
		if s.r.action == "" {
			assert.Empty(t, w.events, "%s: event of an unmatched request", name)
			continue
		}
		if assert.Len(t, w.events, 1, "%s: event", name) {
			assert.Equal(t, w.spans[0], w.events[0], "%s: the event made by another audit collector than the span's", name)
		}
	}
	assert.Empty(t, byID, "records of traces nobody sent")
	t.Logf("%d of %d kept requests had their span and access log at different audit collectors", split, kept)

	// The tagging survived the tier: spot-check the audited records.
	for i, tr := range tiers {
		for _, rec := range tr.records.Records() {
			if a := rec.Str("audit.action"); a != "" {
				assert.Contains(t, texts, a, "collector %d: %s", i+1, rec.Signal)
			}
		}
	}

	// Both audit collectors took a share, and their counters add up.
	fm := scrape(t, front.MetricsURL)
	assert.Equal(t, 2.0, fm.Sum("otelcol_loadbalancer_num_backends", nil), "the front's backends")
	for _, s := range signals {
		t.Run(s.signal, func(t *testing.T) {
			assert.Equal(t, float64(n), fm.Sum("otelcol_receiver_accepted_"+s.items, map[string]string{"receiver": "otlp"}), "front: in")
			assert.Equal(t, float64(n), fm.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "load_balancing"}), "front: out")
			var accepted, exported, sumMatched, sumDropped float64
			for i, m := range metrics {
				in := m.Sum("otelcol_receiver_accepted_"+s.items, map[string]string{"receiver": "otlp"})
				t.Logf("audit collector %d: %g of %d %s", i+1, in, n, s.items)
				assert.Positive(t, in, "audit collector %d took no share", i+1)
				accepted += in
				exported += m.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "otlp_http"})
				sig := map[string]string{"signal": s.signal}
				sumMatched += m.Sum("otelcol_processor_audit_records_matched", sig)
				sumDropped += m.Sum("otelcol_processor_audit_records_dropped", sig)
			}
			assert.Equal(t, float64(n), accepted, "accepted by the audit collectors")
			assert.Equal(t, float64(kept), exported, "exported by the audit collectors")
			assert.Equal(t, float64(matched), sumMatched, "matched")
			assert.Equal(t, float64(dropped), sumDropped, "dropped")
		})
	}
	var events float64
	for _, m := range metrics {
		events += m.Sum("otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http/events"})
	}
	assert.Equal(t, float64(audited), events, "events sent by the audit collectors")
}

// components returns the components a distribution was built with, by kind,
// as its `components` command lists them.
func components(t *testing.T, binary string) map[string][]string {
	t.Helper()
	out, err := execCommand(t, nil, binary, "components")
	require.NoError(t, err, out)
	var listed map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &listed))
	got := map[string][]string{}
	for _, kind := range []string{"receivers", "processors", "exporters", "connectors", "extensions"} {
		for _, c := range list(listed, kind) {
			got[kind] = append(got[kind], str(c, "name"))
		}
	}
	return got
}

// TestDistributions pins what each distribution is built with: otelcol-audit
// has what an audit collector needs and not the load_balancing exporter,
// whose resolvers' client libraries doubled it; otelcol-audit-gateway has
// the front tier's components and nothing of this repository.
func TestDistributions(t *testing.T) {
	assert.Equal(t, map[string][]string{
		"receivers":  {"otlp"},
		"processors": {"audit", "batch", "memory_limiter"},
		"exporters":  {"debug", "otlp_grpc", "otlp_http"},
		"connectors": {"audit"},
		"extensions": {"file_storage", "health_check", "mtlsauth"},
	}, components(t, collectorBinary(t)), "otelcol-audit")
	assert.Equal(t, map[string][]string{
		"receivers":  {"otlp"},
		"processors": {"memory_limiter"},
		"exporters":  {"load_balancing"},
		"extensions": {"file_storage", "health_check"},
	}, components(t, gatewayDist.binary(t)), "otelcol-audit-gateway")
}
