package e2e

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// What the client sends with every request: the user the handler sets as
// enduser.id, and its user agent.
const (
	e2eUser  = "IBMid-e2e-0001"
	e2eAgent = "auditprocessor-e2e/1.0"
)

// catalogRoutes are the catalog routes of the actions the requests reach,
// as the built-in catalogs write them: an event's requestData.route.
var catalogRoutes = map[string]string{
	"speech-to-text.custom-language-model.create":           "/v1/customizations",
	"speech-to-text.custom-language-model-word-list.create": "/v1/customizations/{customization_id}/words",
	"speech-to-text.custom-language-model-word.create":      "/v1/customizations/{customization_id}/words/{word_name}",
	"speech-to-text.custom-language-model.read":             "/v1/customizations/{customization_id}",
	"speech-to-text.custom-language-model.train":            "/v1/customizations/{customization_id}/train",
	"speech-to-text.async-recognition-job.create":           "/v1/recognitions",
	"speech-to-text.async-recognition-job.read":             "/v1/recognitions/{id}",
	"speech-to-text.async-recognition-job.delete":           "/v1/recognitions/{id}",
	"backup-recovery.protection-group-run.update":           "/v2/data-protect/protection-groups/.+/runs[/]?$",
	"backup-recovery.protection-policy.create":              "/v2/data-protect/policies",
	"backup-recovery.protection-policy.delete":              "/v2/data-protect/policies/.+",
}

var eventTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\+0000$`)

var severityNumbers = map[string]plog.SeverityNumber{
	"normal": plog.SeverityNumberInfo, "warning": plog.SeverityNumberWarn, "critical": plog.SeverityNumberError,
}

// assertEvents checks the audit connector's events: exactly one per
// audited request (matched, and its service sends events from its region),
// none for any other, every body field, and counters that reconcile.
func assertEvents(t *testing.T, sc scenario, metricsURL string, events *harness.Backend, traceIDs []pcommon.TraceID) {
	var want int
	for _, r := range requests {
		if r.action != "" && sc.kept(r) {
			want++
		}
	}
	m := waitEvents(t, metricsURL, want)
	sig := map[string]string{"signal": "traces"}
	// The connector takes the traces pipeline's output, after the processor:
	// it sees the spans the processor kept, and drops none of them itself.
	emitted := m.Sum("otelcol_connector_audit_events_emitted", sig)
	matched := m.Sum("otelcol_processor_audit_records_matched", sig)
	dropped := m.Sum("otelcol_processor_audit_records_dropped", sig)
	assert.Equal(t, float64(want), emitted, "events emitted")
	assert.Equal(t, matched-dropped, emitted, "events = matched - dropped (the processor's counters)")
	assert.Equal(t, emitted, m.Sum("otelcol_connector_audit_records_matched", sig), "the connector matches what the processor kept")
	assert.Zero(t, m.Sum("otelcol_connector_audit_records_dropped", sig), "nothing left for the connector to drop")
	assert.Equal(t, want, events.Count("logs"), "events the backend received")

	byTrace := map[pcommon.TraceID][]harness.Record{}
	for _, rec := range events.Records() {
		byTrace[rec.TraceID] = append(byTrace[rec.TraceID], rec)
	}
	for i, r := range requests {
		name := r.service + " " + r.region + " " + r.method + " " + r.target
		got := byTrace[traceIDs[i]]
		if r.action == "" || !sc.kept(r) {
			assert.Empty(t, got, "%s: no event", name)
			continue
		}
		if !assert.Len(t, got, 1, "%s: one event", name) {
			continue
		}
		ev := got[0]
		message := texts[r.action][1]
		if r.outcome == "failure" {
			message += " -failure"
		}
		assert.Equal(t, "audit.event", ev.EventName, name)
		assert.Equal(t, "github.com/otel-audit/auditprocessor/auditconnector", ev.ScopeName, name)
		assert.Equal(t, r.severity, ev.SeverityText, name)
		assert.Equal(t, severityNumbers[r.severity], ev.SeverityNumber, name)
		assert.Equal(t, r.service, resourceStr(ev, "service.name"), name)
		assert.Equal(t, r.region, resourceStr(ev, "cloud.region"), name)
		assert.NotZero(t, ev.SpanID, name)
		assert.Equal(t, map[string]string{
			"audit.action":       r.action,
			"audit.outcome":      r.outcome,
			"audit.region":       r.region,
			"audit.severity":     r.severity,
			"audit.reason.code":  strconv.Itoa(r.code),
			"audit.target.type":  texts[r.action][0],
			"audit.message":      message,
			"audit.initiator.id": e2eUser,
		}, auditAttrs(ev), name)
		require.Equal(t, pcommon.ValueTypeMap, ev.Body.Type(), name)
		body := ev.Body.Map().AsRaw()
		eventTime, _ := body["eventTime"].(string)
		assert.Regexp(t, eventTimeRE, eventTime, name)
		if at, err := time.Parse("2006-01-02T15:04:05.00-0700", eventTime); assert.NoError(t, err, name) {
			assert.WithinDuration(t, ev.Timestamp.AsTime(), at, 10*time.Millisecond, "%s: eventTime is the span's end", name)
			assert.WithinDuration(t, time.Now(), at, 5*time.Minute, name)
		}
		delete(body, "eventTime")
		assert.Equal(t, map[string]any{
			"action":        r.action,
			"outcome":       r.outcome,
			"reason":        map[string]any{"reasonCode": int64(r.code), "reasonType": http.StatusText(r.code)},
			"severity":      r.severity,
			"message":       message,
			"target":        map[string]any{"typeURI": texts[r.action][0]},
			"initiator":     map[string]any{"id": e2eUser, "host": map[string]any{"address": "127.0.0.1", "agent": e2eAgent}},
			"observer":      map[string]any{"name": "ActivityTracker"},
			"correlationId": traceIDs[i].String(),
			"dataEvent":     false,
			"requestData":   map[string]any{"method": r.method, "route": catalogRoutes[r.action]},
			"responseData":  map[string]any{"statusCode": int64(r.code)},
		}, body, name)
	}
}

// waitEvents waits until the connector has emitted want events and the
// events exporter has sent them all, and returns that scrape.
func waitEvents(t *testing.T, metricsURL string, want int) harness.Metrics {
	t.Helper()
	return waitMetrics(t, metricsURL, "events", func(m harness.Metrics) bool {
		emitted := m.Sum("otelcol_connector_audit_events_emitted", map[string]string{"signal": "traces"})
		sent := m.Sum("otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http/events"})
		return emitted == float64(want) && sent == emitted
	})
}
