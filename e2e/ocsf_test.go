package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/e2e/harness"
	"github.com/otel-audit/auditprocessor/internal/ocsfcheck"
)

// ocsfLayout is the connector README's layout of both formats, over the
// harness's configuration (the processor's defaults; the audit connector
// the traces pipeline's only exporter, logs/events to otlp_http/events): a
// second connector, audit/ocsf, configured alike but for event.format,
// takes the spans after their provider events (traces/ocsf) and passes
// them to the records exporter after their OCSF events (traces/records),
// its events going through logs/ocsf to otlp_http/ocsf at %s.
const ocsfLayout = `
connectors:
  audit/ocsf:
    event:
      format: ocsf
exporters:
  otlp_http/ocsf:
    endpoint: %s
service:
  pipelines:
    traces/ocsf:
      receivers: [audit]
      exporters: [audit/ocsf]
    traces/records:
      receivers: [audit/ocsf]
    logs/ocsf:
      receivers: [audit/ocsf]
      exporters: [otlp_http/ocsf]
`

// TestOCSFEndToEnd: requests through otelcol-audit with both formats, as
// the connector README wires them: the OCSF backend gets one OCSF event per
// audited request, which passes the schema check of the OCSF release and
// says what the request did; the provider backend gets the same events in
// the provider's model, with the same ids; the records arrive after both.
func TestOCSFEndToEnd(t *testing.T) {
	binary := collectorBinary(t)
	schema, err := ocsfcheck.Load()
	require.NoError(t, err)
	sc := scenarios[0] // the processor's defaults
	backend, events, ocsf := startBackend(t, ""), startBackend(t, ""), startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
		Overrides: []string{fmt.Sprintf(ocsfLayout, ocsf.URL)},
	})
	apps := startFleet(t, requests, col.GRPCEndpoint, col.HTTPEndpoint, nil)
	traceIDs := make([]pcommon.TraceID, len(requests))
	for i, r := range requests {
		traceIDs[i] = send(t, apps.url(r), r)
	}
	apps.flush(t)

	var want, kept int
	for _, r := range requests {
		if sc.kept(r) {
			kept++ // spans
			if r.action != "" {
				want++
			}
		}
	}
	waitMetrics(t, col.MetricsURL, "events and records", func(m harness.Metrics) bool {
		sent := func(exporter, items string) float64 {
			return m.Sum("otelcol_exporter_sent_"+items, map[string]string{"exporter": exporter})
		}
		return sent("otlp_http/events", "log_records") == float64(want) && sent("otlp_http/ocsf", "log_records") == float64(want) &&
			sent("otlp_http", "spans") == float64(kept)
	})
	require.Equal(t, want, ocsf.Count("logs"), "OCSF events")
	require.Equal(t, want, events.Count("logs"), "provider events")
	assert.Equal(t, kept, backend.Count("traces"), "the spans, after both events")

	provider := map[pcommon.TraceID]harness.Record{}
	for _, ev := range events.Records() {
		provider[ev.TraceID] = ev
	}
	eachEvent(t, sc, ocsf.Records(), traceIDs, func(i int, r request, name string, ev harness.Record) {
		assert.Equal(t, "audit.event", ev.EventName, name)
		assert.Equal(t, r.severity, ev.SeverityText, name)
		assert.Equal(t, r.wantAudit(true), auditAttrs(ev), name)
		require.Equal(t, pcommon.ValueTypeStr, ev.Body.Type(), name)
		text := ev.Body.Str()
		assert.NoError(t, schema.CheckJSON([]byte(text)), "%s: %s", name, text)

		var body struct {
			ActivityID int64  `json:"activity_id"`
			Time       int64  `json:"time"`
			StatusCode string `json:"status_code"`
			Message    string `json:"message"`
			Metadata   struct {
				UID            string `json:"uid"`
				CorrelationUID string `json:"correlation_uid"`
			} `json:"metadata"`
			API struct {
				Operation string `json:"operation"`
				Request   struct {
					UID string `json:"uid"`
				} `json:"request"`
			} `json:"api"`
			Actor struct {
				User struct {
					UID string `json:"uid"`
				} `json:"user"`
			} `json:"actor"`
			Src struct {
				IP string `json:"ip"`
			} `json:"src_endpoint"`
			HTTP struct {
				Method string `json:"http_method"`
				URL    struct {
					Path string `json:"path"`
				} `json:"url"`
				UserAgent string `json:"user_agent"`
			} `json:"http_request"`
			Cloud struct {
				Region string `json:"region"`
			} `json:"cloud"`
		}
		require.NoError(t, json.Unmarshal([]byte(text), &body), name)
		verb := r.action[strings.LastIndexByte(r.action, '.')+1:]
		activity := map[string]int64{"create": 1, "read": 2, "update": 3, "delete": 4}[verb]
		if activity == 0 {
			activity = 99
		}
		assert.Equal(t, activity, body.ActivityID, name)
		assert.Equal(t, int64(ev.Timestamp)/1e6, body.Time, "%s: time is the record's, in ms", name)
		assert.Equal(t, strconv.Itoa(r.code), body.StatusCode, name)
		assert.Equal(t, r.message(), body.Message, name)
		assert.Equal(t, wantEventID(traceIDs[i], ev.SpanID, r.action), body.Metadata.UID, name)
		assert.Equal(t, traceIDs[i].String(), body.Metadata.CorrelationUID, name)
		assert.Equal(t, r.action, body.API.Operation, name)
		assert.Equal(t, ev.SpanID.String(), body.API.Request.UID, name)
		assert.Equal(t, e2eUser, body.Actor.User.UID, name)
		assert.Equal(t, "127.0.0.1", body.Src.IP, name)
		assert.Equal(t, r.method, body.HTTP.Method, name)
		assert.Equal(t, catalogRoutes[r.action], body.HTTP.URL.Path, name)
		assert.Equal(t, e2eAgent, body.HTTP.UserAgent, name)
		assert.Equal(t, r.region, body.Cloud.Region, name)

		// the provider's event of the same request: the same decision and id
		p, ok := provider[traceIDs[i]]
		if assert.True(t, ok, "%s: a provider event", name) {
			assert.Equal(t, auditAttrs(p), auditAttrs(ev), name)
			assert.Equal(t, p.SpanID, ev.SpanID, name)
			id, _ := p.Body.Map().Get("id")
			assert.Equal(t, id.Str(), body.Metadata.UID, name)
		}
	})
}
