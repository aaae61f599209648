// Package e2e tests otelcol-audit from the outside: a collector built with OCB
// receives spans and access logs from an application instrumented with
// otelhttp and the OTel Go SDK, and exports to an OTLP backend the test runs.
// A second backend receives what the collector received, through pipelines
// without the audit processor. Both record what they receive as the file
// exporter would, and auditcatalog coverage is run on the recordings.
package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// request is one HTTP request the test sends, and what the catalog says about it.
type request struct {
	service, region string
	method, target  string
	// action and outcome are what the catalog and status code make of the
	// request; action is "" when no catalog route matches.
	action, outcome string
	// forged is the audit.action the handler forges, if any.
	forged string
	// severity and code are audit.severity and audit.reason.code of a matched request.
	severity string
	code     int
}

// texts holds audit.target.type and audit.message (on success) of each
// action the requests reach, from the catalogs' display names and descriptions.
var texts = map[string][2]string{
	"speech-to-text.custom-language-model.create":           {"speech-to-text/custom-language-model", "Speech to Text: Create a custom language model"},
	"speech-to-text.custom-language-model-word-list.create": {"speech-to-text/custom-language-model-word-list", "Speech to Text: Create a word list for a custom language model"},
	"speech-to-text.custom-language-model-word.create":      {"speech-to-text/custom-language-model-word", "Speech to Text: Create a word for a custom language model"},
	"speech-to-text.custom-language-model.read":             {"speech-to-text/custom-language-model", "Speech to Text: Read a custom language model"},
	"speech-to-text.custom-language-model.train":            {"speech-to-text/custom-language-model", "Speech to Text: Train a custom language model"},
	"speech-to-text.async-recognition-job.create":           {"speech-to-text/async-recognition-job", "Speech to Text: Create an asynchronous recognition job"},
	"speech-to-text.async-recognition-job.read":             {"speech-to-text/async-recognition-job", "Speech to Text: Read an asynchronous recognition job"},
	"speech-to-text.async-recognition-job.delete":           {"speech-to-text/async-recognition-job", "Speech to Text: Delete an asynchronous recognition job"},
	"backup-recovery.protection-group-run.update":           {"backup-recovery/protection-group-run", "Backup and Recovery: Update runs of a particular protection group"},
	"backup-recovery.protection-policy.create":              {"backup-recovery/protection-policy", "Backup and Recovery: Create a new Protection Policy"},
	"backup-recovery.protection-policy.delete":              {"backup-recovery/protection-policy", "Backup and Recovery: Delete a particular policy"},
}

const (
	stt = "speech-to-text"
	br  = "backup-recovery"
)

var requests = []request{
	{stt, "eu-de", "POST", "/v1/customizations", "speech-to-text.custom-language-model.create", "success", "", "normal", 201},
	{stt, "eu-de", "POST", "/v1/customizations/cust-1/words", "speech-to-text.custom-language-model-word-list.create", "success", "", "normal", 201},
	{stt, "eu-de", "PUT", "/v1/customizations/cust-1/words/hello", "speech-to-text.custom-language-model-word.create", "success", "", "normal", 201},
	{stt, "eu-de", "GET", "/v1/customizations/missing?status=404", "speech-to-text.custom-language-model.read", "failure", "", "warning", 404},
	{stt, "eu-de", "POST", "/v1/customizations/cust-1/train?status=500", "speech-to-text.custom-language-model.train", "failure", "", "warning", 500},
	{stt, "eu-de", "POST", "/v1/recognitions", "speech-to-text.async-recognition-job.create", "pending", "", "normal", 202},
	{stt, "eu-de", "GET", "/v1/recognitions/job-1?forge=speech-to-text.gdpr-user-data.delete", "speech-to-text.async-recognition-job.read", "success", "speech-to-text.gdpr-user-data.delete", "normal", 200},
	{stt, "eu-de", "DELETE", "/v1/recognitions/job-1", "speech-to-text.async-recognition-job.delete", "success", "", "critical", 204},
	{stt, "eu-de", "GET", "/healthz", "", "", "", "", 0},
	{stt, "eu-de", "GET", "/healthz?forge=speech-to-text.custom-language-model.delete", "", "", "speech-to-text.custom-language-model.delete", "", 0},
	{stt, "eu-de", "GET", "/v1/not-a-route", "", "", "", "", 0},
	{stt, "us-south", "POST", "/v1/customizations", "speech-to-text.custom-language-model.create", "success", "", "normal", 201},
	{stt, "us-south", "GET", "/v1/recognitions/job-2", "speech-to-text.async-recognition-job.read", "success", "", "normal", 200},
	{stt, "us-south", "GET", "/healthz", "", "", "", "", 0},
	{br, "us-south", "PUT", "/v2/data-protect/protection-groups/7/runs", "backup-recovery.protection-group-run.update", "success", "", "warning", 200},
	{br, "us-south", "POST", "/v2/data-protect/policies?status=400", "backup-recovery.protection-policy.create", "failure", "", "warning", 400},
	{br, "us-south", "DELETE", "/v2/data-protect/policies/p-1", "backup-recovery.protection-policy.delete", "success", "", "critical", 204},
	{br, "eu-de", "PUT", "/v2/data-protect/protection-groups/7/runs", "backup-recovery.protection-group-run.update", "success", "", "warning", 200},
	{br, "eu-de", "GET", "/healthz", "", "", "", "", 0},
}

// scenario is one configuration of the audit processor and the regions in
// which each service then sends audit events.
type scenario struct {
	name        string
	auditConfig string
	sends       map[string][]string
}

var scenarios = []scenario{
	{
		name:  "defaults",
		sends: map[string][]string{stt: {"eu-de"}},
	},
	{
		name: "backup-recovery_added_in_us-south",
		auditConfig: `
services:
  backup-recovery:
    regions: [us-south]
    regions_mode: add
`,
		sends: map[string][]string{stt: {"eu-de"}, br: {"us-south"}},
	},
}

// message is the audit.message of a matched request: its action's
// description, and " -failure" when it failed.
func (r request) message() string {
	if r.outcome == "failure" {
		return texts[r.action][1] + " -failure"
	}
	return texts[r.action][1]
}

// wantAudit returns the audit.* attributes of a matched request's records;
// with initiator, audit.initiator.id too, which only the span and the event
// have (the handler sets enduser.id on its span, not on the access log).
func (r request) wantAudit(initiator bool) map[string]string {
	want := map[string]string{
		"audit.action":      r.action,
		"audit.outcome":     r.outcome,
		"audit.region":      r.region,
		"audit.severity":    r.severity,
		"audit.reason.code": strconv.Itoa(r.code),
		"audit.target.type": texts[r.action][0],
		"audit.message":     r.message(),
	}
	if initiator {
		want["audit.initiator.id"] = e2eUser
	}
	return want
}

// kept reports whether the processor lets r through in scenario s.
func (s scenario) kept(r request) bool {
	if r.action == "" {
		return true // unmatched records are kept by default
	}
	for _, region := range s.sends[r.service] {
		if region == r.region {
			return true
		}
	}
	return false
}

func TestEndToEnd(t *testing.T) {
	binary := collectorBinary(t)
	tool := auditcatalogBinary(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, binary, tool, sc) })
	}
}

// recordingEnv names a directory to keep the recordings in, one directory
// per scenario; without it they go to a temporary directory.
const recordingEnv = "AUDIT_RECORDING_DIR"

func runScenario(t *testing.T, binary, tool string, sc scenario) {
	recording := t.TempDir()
	if dir := os.Getenv(recordingEnv); dir != "" {
		abs, err := filepath.Abs(filepath.Join(dir, sc.name))
		require.NoError(t, err)
		recording = abs
		t.Logf("recording in %s", recording)
	}
	// backend receives what the collector exports, input what it received.
	backend := startBackend(t, filepath.Join(recording, "output"))
	input := startBackend(t, filepath.Join(recording, "input"))
	// events receives the audit connector's events.
	events := startBackend(t, "")

	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, AuditConfig: sc.auditConfig,
		ExportEndpoint: backend.URL, InputEndpoint: input.URL, EventsEndpoint: events.URL,
	})

	// One instrumented app per service and region, all on 127.0.0.1.
	apps := startFleet(t, requests, col.GRPCEndpoint, col.HTTPEndpoint, nil)

	// Each request carries a trace context of its own, so that what reaches
	// the backend can be traced back to the request, and so that the test
	// can check that trace ids survive the collector.
	traceIDs := make([]pcommon.TraceID, len(requests))
	for i, r := range requests {
		traceIDs[i] = send(t, apps.url(r), r)
	}
	apps.flush(t)

	metrics := waitAccounted(t, col.MetricsURL, len(requests))
	assertBackend(t, sc, backend.Records(), traceIDs)
	assertMetrics(t, sc, metrics, backend)
	t.Run("events", func(t *testing.T) { assertEvents(t, sc, col.MetricsURL, events, traceIDs) })

	var kept []request
	for _, r := range requests {
		if sc.kept(r) {
			kept = append(kept, r)
		}
	}
	t.Run("coverage", func(t *testing.T) {
		t.Run("input", func(t *testing.T) { checkCoverage(t, tool, input, requests) })
		t.Run("output", func(t *testing.T) { checkCoverage(t, tool, backend, kept) })
	})
}

// send makes request r to the app at baseURL with a fresh trace context and
// returns its trace id.
func send(t *testing.T, baseURL string, r request) pcommon.TraceID {
	t.Helper()
	var tid pcommon.TraceID
	var parent pcommon.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(parent[:])
	req, err := http.NewRequestWithContext(t.Context(), r.method, baseURL+r.target, nil)
	require.NoError(t, err)
	req.Header.Set("traceparent", fmt.Sprintf("00-%s-%s-01", tid, parent))
	req.Header.Set(userHeader, e2eUser)
	req.Header.Set("User-Agent", e2eAgent)
	resp, err := plainClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return tid
}

// signals names each signal as the collector's metrics do.
var signals = []struct {
	signal string // otel_signal / backend Record.Signal
	items  string // suffix of the receiver and exporter counters
}{
	{"traces", "spans"},
	{"logs", "log_records"},
}

// waitAccounted waits until the collector has accepted n records of each
// signal, every one the audit processor let through has been exported and
// the input pipelines have exported all n, and returns that scrape.
func waitAccounted(t *testing.T, metricsURL string, n int) harness.Metrics {
	t.Helper()
	return waitMetrics(t, metricsURL, "records", func(m harness.Metrics) bool {
		done := true
		for _, s := range signals {
			accepted := m.Sum("otelcol_receiver_accepted_"+s.items, map[string]string{"receiver": "otlp"})
			out := m.Sum("otelcol_processor_outgoing_items", map[string]string{"processor": "audit", "otel_signal": s.signal})
			sent := m.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "otlp_http"})
			inputSent := m.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "otlp_http/input"})
			done = done && accepted == float64(n) && sent == out && inputSent == float64(n)
		}
		return done
	})
}

// waitMetrics scrapes the collector's metrics until done holds, for up to
// 30 seconds, and returns that scrape; what names what is waited for.
func waitMetrics(t *testing.T, metricsURL, what string, done func(harness.Metrics) bool) harness.Metrics {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	m, err := harness.WaitMetrics(ctx, metricsURL, done)
	if err != nil {
		t.Fatalf("%s not accounted for: %v; last scrape:\n%s", what, err, dump(m))
	}
	return m
}

// scrape returns one scrape of the collector's metrics at metricsURL.
func scrape(t *testing.T, metricsURL string) harness.Metrics {
	t.Helper()
	m, err := harness.Scrape(t.Context(), metricsURL)
	require.NoError(t, err)
	return m
}

func dump(m harness.Metrics) string {
	var b strings.Builder
	for _, s := range m.Named("otelcol_") {
		if !strings.HasPrefix(s.Name, "otelcol_process_") && !strings.Contains(s.Name, "_bucket") {
			b.WriteString(s.String() + "\n")
		}
	}
	return b.String()
}

func assertBackend(t *testing.T, sc scenario, got []harness.Record, traceIDs []pcommon.TraceID) {
	byTrace := map[pcommon.TraceID]map[string][]harness.Record{}
	for _, rec := range got {
		if byTrace[rec.TraceID] == nil {
			byTrace[rec.TraceID] = map[string][]harness.Record{}
		}
		byTrace[rec.TraceID][rec.Signal] = append(byTrace[rec.TraceID][rec.Signal], rec)
	}
	known := 0
	for i, r := range requests {
		name := fmt.Sprintf("%s %s %s %s", r.service, r.region, r.method, r.target)
		recs := byTrace[traceIDs[i]]
		spans, logs := recs["traces"], recs["logs"]
		known += len(spans) + len(logs)
		if !sc.kept(r) {
			assert.Empty(t, spans, "%s: span should be dropped (unsupported region)", name)
			assert.Empty(t, logs, "%s: access log should be dropped (unsupported region)", name)
			continue
		}
		// The record with this trace id arriving at all shows the trace id was preserved.
		if !assert.Len(t, spans, 1, "%s: spans with the request's trace id", name) ||
			!assert.Len(t, logs, 1, "%s: access logs with the request's trace id", name) {
			continue
		}
		span, log := spans[0], logs[0]
		assert.Equal(t, ptrace.SpanKindServer, span.Kind, name)
		assert.Equal(t, span.SpanID, log.SpanID, "%s: the access log keeps the server span's id", name)
		for _, rec := range []harness.Record{span, log} {
			path, _, _ := strings.Cut(r.target, "?")
			assert.Equal(t, path, rec.Str("url.path"), "%s %s: url.path", name, rec.Signal)
			assert.Equal(t, r.region, resourceStr(rec, "cloud.region"), "%s %s: resource", name, rec.Signal)
			if r.action == "" {
				// Untouched, except that forged audit.* attributes are removed.
				assert.Empty(t, auditAttrs(rec), "%s %s: unmatched records carry no audit.* attributes", name, rec.Signal)
				continue
			}
			assert.Equal(t, r.wantAudit(rec.Signal == "traces"), auditAttrs(rec), "%s %s", name, rec.Signal)
		}
	}
	assert.Equal(t, len(got), known, "the backend received records no request explains")
}

func resourceStr(r harness.Record, key string) string {
	if v, ok := r.Resource.Get(key); ok {
		return v.AsString()
	}
	return ""
}

// auditAttrs returns the record's audit.* attributes.
func auditAttrs(r harness.Record) map[string]string {
	out := map[string]string{}
	r.Attrs.Range(func(k string, v pcommon.Value) bool {
		if strings.HasPrefix(k, "audit.") {
			out[k] = v.AsString()
		}
		return true
	})
	return out
}

func assertMetrics(t *testing.T, sc scenario, m harness.Metrics, backend *harness.Backend) {
	var matched, dropped, forged int
	for _, r := range requests {
		if r.action != "" {
			matched++
		}
		if !sc.kept(r) {
			dropped++
		}
		if r.forged != "" {
			forged++
		}
	}
	n := len(requests)
	for _, s := range signals {
		sig := map[string]string{"signal": s.signal}
		t.Run(s.signal, func(t *testing.T) {
			accepted := m.Sum("otelcol_receiver_accepted_"+s.items, map[string]string{"receiver": "otlp"})
			exported := m.Sum("otelcol_exporter_sent_"+s.items, map[string]string{"exporter": "otlp_http"})
			auditDropped := m.Sum("otelcol_processor_audit_records_dropped", sig)

			assert.Equal(t, float64(n), accepted, "records in")
			assert.Equal(t, float64(backend.Count(s.signal)), exported, "exported = what the backend received")
			assert.Equal(t, accepted, exported+auditDropped, "records in = exported + dropped")

			ph := map[string]string{"processor": "audit", "otel_signal": s.signal}
			assert.Equal(t, float64(n), m.Sum("otelcol_processor_incoming_items", ph), "processorhelper incoming")
			assert.Equal(t, float64(n-dropped), m.Sum("otelcol_processor_outgoing_items", ph), "processorhelper outgoing")

			assert.Equal(t, float64(matched), m.Sum("otelcol_processor_audit_records_matched", sig), "matched")
			assert.Equal(t, float64(n-matched), m.Sum("otelcol_processor_audit_records_unmatched", sig), "unmatched")
			assert.Equal(t, float64(dropped), auditDropped, "dropped")
			assert.Equal(t, float64(dropped), m.Sum("otelcol_processor_audit_records_dropped",
				map[string]string{"signal": s.signal, "reason": "unsupported_region"}), "dropped for unsupported_region")
			assert.Equal(t, float64(forged), m.Sum("otelcol_processor_audit_attributes_removed", sig), "forged attributes removed")
		})
	}
}

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

	eachEvent(t, sc, events.Records(), traceIDs, func(i int, r request, name string, ev harness.Record) {
		assert.Equal(t, "audit.event", ev.EventName, name)
		assert.Equal(t, "github.com/otel-audit/auditprocessor/auditconnector", ev.ScopeName, name)
		assert.Equal(t, r.severity, ev.SeverityText, name)
		assert.Equal(t, severityNumbers[r.severity], ev.SeverityNumber, name)
		assert.Equal(t, r.service, resourceStr(ev, "service.name"), name)
		assert.Equal(t, r.region, resourceStr(ev, "cloud.region"), name)
		assert.NotZero(t, ev.SpanID, name)
		assert.Equal(t, r.wantAudit(true), auditAttrs(ev), name)
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
			"message":       r.message(),
			"target":        map[string]any{"typeURI": texts[r.action][0]},
			"initiator":     map[string]any{"id": e2eUser, "host": map[string]any{"address": "127.0.0.1", "agent": e2eAgent}},
			"observer":      map[string]any{"name": "ActivityTracker"},
			"correlationId": traceIDs[i].String(),
			"id":            wantEventID(traceIDs[i], ev.SpanID, r.action),
			"dataEvent":     false,
			"requestData":   map[string]any{"method": r.method, "route": catalogRoutes[r.action]},
			"responseData":  map[string]any{"statusCode": int64(r.code)},
		}, body, name)
	})
}

// eachEvent finds each request's events in recs by its trace id: a request
// the scenario gives no event must have none, and one it gives an event
// exactly one, which check is called with (i is the request's index in
// requests, name names it in messages).
func eachEvent(t *testing.T, sc scenario, recs []harness.Record, traceIDs []pcommon.TraceID, check func(i int, r request, name string, ev harness.Record)) {
	t.Helper()
	byTrace := map[pcommon.TraceID][]harness.Record{}
	for _, rec := range recs {
		byTrace[rec.TraceID] = append(byTrace[rec.TraceID], rec)
	}
	for i, r := range requests {
		name := r.service + " " + r.region + " " + r.method + " " + r.target
		got := byTrace[traceIDs[i]]
		if r.action == "" || !sc.kept(r) {
			assert.Empty(t, got, "%s: no event", name)
			continue
		}
		if assert.Len(t, got, 1, "%s: one event", name) {
			check(i, r, name, got[0])
		}
	}
}

// wantEventID is the id the connector's README derives for the event of a
// span: SHA-256 of "otel-audit event id v1", NUL, "span", NUL, the trace
// id, the span id and the action, its first 16 bytes as a version 8 UUID.
// Written here again, from the README, as an oracle of the connector's.
func wantEventID(traceID pcommon.TraceID, spanID pcommon.SpanID, action string) string {
	b := append([]byte("otel-audit event id v1\x00span\x00"), traceID[:]...)
	b = append(append(b, spanID[:]...), action...)
	h := sha256.Sum256(b)
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
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

// distribution is a collector binary the tests run: the one $env names,
// or else the one `make -f build/dist.mk target` builds at bin in the
// repository root, built once per test binary and only by a test that asks.
type distribution struct {
	env, target, bin string

	once sync.Once
	path string
	err  error
}

// auditDist is otelcol-audit, the distribution of builder-config.yaml.
var auditDist = &distribution{env: "AUDIT_COLLECTOR", target: "dist", bin: "dist/otelcol-audit"}

// collectorBinary returns the otelcol-audit to test: $AUDIT_COLLECTOR (what
// `make test-e2e` sets after building it), or else the distribution that
// `make -f build/dist.mk dist` builds in the repository root.
func collectorBinary(t *testing.T) string { return auditDist.binary(t) }

func (d *distribution) binary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(d.env); p != "" {
		return p
	}
	d.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			d.err = err
			return
		}
		// A cold build takes minutes on two cores.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "make", "-f", "build/dist.mk", d.target)
		cmd.Dir = root
		// make starts go, which starts compilers: stop them all on timeout.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		out, err := cmd.CombinedOutput()
		if err != nil {
			d.err = fmt.Errorf("make %s: %w\n%s", d.target, err, out)
			return
		}
		d.path = filepath.Join(root, filepath.FromSlash(d.bin))
	})
	require.NoError(t, d.err)
	return d.path
}

// startBackend starts a backend (recording into dir unless it is "") that
// is closed when the test ends.
func startBackend(t *testing.T, dir string) *harness.Backend {
	t.Helper()
	b, err := harness.StartBackend(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// startCollector starts a collector with opts (in a temporary directory
// unless opts.Dir is set), giving it 30 seconds to come up, and stops it
// when the test ends; name is what failures call it.
func startCollector(t *testing.T, name string, opts harness.CollectorOptions) *harness.Collector {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	col, err := harness.StartCollector(ctx, opts)
	require.NoError(t, err, name)
	t.Cleanup(func() {
		if err := col.Stop(10 * time.Second); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s: configuration %s, log (%s):\n%s", name, col.ConfigPath, col.LogPath, col.Log())
		}
	})
	return col
}
