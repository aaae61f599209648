package auditconnector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	auditprocessor "github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// fixedNow is the observed time of every event in these tests.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testConfig is the default configuration with backup-recovery sending
// events from us-south and eu-de (where the golden inputs' backup-recovery
// records come from), so that both built-in catalogs give events.
func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Services = map[string]audit.ServiceConfig{"backup-recovery": {Regions: []string{"us-south", "eu-de"}}}
	return cfg
}

type harness struct {
	sink *consumertest.LogsSink
	tel  *componenttest.Telemetry
	c    *auditConnector
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	h := &harness{sink: new(consumertest.LogsSink), tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { require.NoError(t, h.tel.Shutdown(context.Background())) })
	c, err := newConnector(metadatatest.NewSettings(h.tel), cfg, h.sink)
	require.NoError(t, err)
	c.now = func() time.Time { return fixedNow }
	h.c = c
	return h
}

// events returns the events the sink received, by the span id of their source.
func (h *harness) events() map[string]plog.LogRecord {
	m := map[string]plog.LogRecord{}
	for _, ld := range h.sink.AllLogs() {
		for r := range audittest.Records(ld) {
			m[r.SpanID.String()] = r.Log
		}
	}
	return m
}

// event is what the event of one source record must say; a zero event
// means the record gives none.
type event struct {
	action, outcome, severity, reasonType string
	code                                  int64
}

// statusCodes are the spans of statusTraces: one POST /v1/customizations
// (a create, normal on success) in eu-de per status, with its span id's
// last byte.
var statusCodes = []struct {
	code                          int64
	outcome, severity, reasonType string
}{
	{201, "success", "normal", "Created"},
	{202, "pending", "normal", "Accepted"},
	{400, "failure", "warning", "Bad Request"},
	{401, "failure", "critical", "Unauthorized"},
	{403, "failure", "critical", "Forbidden"},
	{409, "failure", "warning", "Conflict"},
	{424, "failure", "warning", "Failed Dependency"},
	{500, "failure", "warning", "Internal Server Error"},
	{502, "failure", "warning", "Bad Gateway"},
	{503, "failure", "critical", "Service Unavailable"},
	{504, "failure", "warning", "Gateway Timeout"},
	{505, "failure", "warning", "HTTP Version Not Supported"},
	{507, "failure", "critical", "Insufficient Storage"},
}

func statusSpanID(i int) pcommon.SpanID {
	return pcommon.SpanID{0xc0, 0xde, 0, 0, 0, 0, 0, byte(i + 1)}
}

// statusTraces has one span per status code of statusCodes.
func statusTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "stt-api")
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i, sc := range statusCodes {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3c, 0xc0, byte(i + 1)})
		s.SetSpanID(statusSpanID(i))
		s.SetKind(ptrace.SpanKindServer)
		s.SetName("POST /v1/customizations")
		s.SetStartTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
		s.SetEndTimestamp(pcommon.Timestamp(1_700_000_000_250_000_000 + int64(i)*10_000_000))
		s.Attributes().PutStr("http.request.method", "POST")
		s.Attributes().PutStr("http.route", "/v1/customizations")
		s.Attributes().PutInt("http.response.status_code", sc.code)
	}
	// the older semantic conventions: http.method, http.target, http.status_code
	s := spans.AppendEmpty()
	s.SetTraceID(pcommon.TraceID{0x5b, 15: 0xff})
	s.SetSpanID(oldSemconvSpanID)
	s.SetKind(ptrace.SpanKindServer)
	s.SetName("HTTP PUT")
	s.SetEndTimestamp(pcommon.Timestamp(1_700_000_001_000_000_000))
	s.Attributes().PutStr("http.method", "PUT")
	s.Attributes().PutStr("http.target", "/v1/customizations/c-7/words/hello?x=1")
	s.Attributes().PutInt("http.status_code", 409)
	s.Attributes().PutStr("user.id", "legacy-user")
	s.Attributes().PutStr("http.user_agent", "curl/8.0")
	s.Attributes().PutStr("net.peer.ip", "10.1.2.3")
	return td
}

var oldSemconvSpanID = pcommon.SpanID{0xc0, 0xde, 0, 0, 0, 0, 0, 0xff}

// traceEvents: what each span of ../testdata/traces_input.yaml (the
// processor's golden input) gives under testConfig; spans not listed give
// no event.
var traceEvents = map[string]event{
	"eee19b7ec3c1b101": {"speech-to-text.custom-language-model-word-list.create", "success", "normal", "Created", 201},
	"eee19b7ec3c1b102": {"speech-to-text.async-recognition-job.read", "success", "normal", "OK", 200},
	"eee19b7ec3c1b103": {"speech-to-text.async-recognition-job-list.read", "failure", "warning", "Internal Server Error", 500},
	"eee19b7ec3c1b104": {"speech-to-text.async-recognition-job.create", "pending", "normal", "Accepted", 202},
	// 105 /healthz unmatched; 107 INTERNAL; 108 CLIENT; 109 speech in us-south
	"eee19b7ec3c1b106": {"speech-to-text.gdpr-user-data.delete", "success", "critical", "No Content", 204},
	// backup-recovery in zone EU-DE-2: eu-de; an update is a warning
	"eee19b7ec3c1b10b": {"backup-recovery.protection-group-run.update", "success", "warning", "OK", 200},
	"eee19b7ec3c1b10c": {"backup-recovery.protection-group-run-action.update", "success", "warning", "OK", 200},
	"eee19b7ec3c1b10d": {"speech-to-text.custom-language-model-list.read", "unknown", "normal", "", 0},
	"eee19b7ec3c1b10e": {"speech-to-text.custom-language-model-word.create", "success", "normal", "OK", 200},
	// 10a /v1/models: unmatched; 10f _OTHER PURGE answered 405: refused
}

var logEvents = map[string]event{
	"fee19b7ec3c1b110": {"speech-to-text.custom-language-model.delete", "success", "critical", "No Content", 204},
	"fee19b7ec3c1b112": {"speech-to-text.async-recognition-notification-url.create", "failure", "warning", "Bad Request", 400},
	"fee19b7ec3c1b115": {"speech-to-text.custom-acoustic-model-audio-list.read", "failure", "warning", "Not Found", 404},
	"fee19b7ec3c1b117": {"backup-recovery.recover-task.download", "success", "normal", "OK", 200},
	// 111 not HTTP; 113 a plain log with a forged audit.action; 114 a
	// method only; 116 speech in us-south
}

// checkEvents compares every event with its stated expectation, field by
// field, and checks that no other record gave one.
func checkEvents(t *testing.T, got map[string]plog.LogRecord, want map[string]event) {
	t.Helper()
	for id, w := range want {
		r, ok := got[id]
		if !assert.True(t, ok, "%s: no event", id) {
			continue
		}
		body := r.Body().Map().AsRaw()
		assert.Equal(t, w.action, body["action"], id)
		assert.Equal(t, w.outcome, body["outcome"], id)
		assert.Equal(t, w.severity, body["severity"], id)
		assert.Equal(t, w.severity, r.SeverityText(), id)
		assert.Equal(t, severityNumbers[w.severity], r.SeverityNumber(), id)
		if w.code == 0 {
			assert.NotContains(t, body, "reason", id)
			assert.NotContains(t, body, "responseData", id)
		} else {
			assert.Equal(t, map[string]any{"reasonCode": w.code, "reasonType": w.reasonType}, body["reason"], id)
			assert.Equal(t, map[string]any{"statusCode": w.code}, body["responseData"], id)
		}
		attrs := r.Attributes().AsRaw()
		assert.Equal(t, w.action, attrs[audit.AttrAction], id)
		assert.Equal(t, w.outcome, attrs[audit.AttrOutcome], id)
		assert.Equal(t, EventName, r.EventName(), id)
		assert.Equal(t, r.TraceID().String(), body["correlationId"], id)
	}
	for id := range got {
		_, ok := want[id]
		assert.True(t, ok, "%s: an event for a record that should give none", id)
	}
}

func readTraces(t *testing.T) ptrace.Traces {
	td, err := golden.ReadTraces(filepath.Join("..", "testdata", "traces_input.yaml"))
	require.NoError(t, err)
	statusTraces().ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	return td
}

func TestGoldenTracesToLogs(t *testing.T) {
	h := newHarness(t, testConfig())
	in := readTraces(t)
	before := ptrace.NewTraces()
	in.CopyTo(before)
	require.NoError(t, h.c.ConsumeTraces(t.Context(), in))
	assert.Equal(t, before, in, "the connector does not change its input")

	want := map[string]event{}
	for id, e := range traceEvents {
		want[id] = e
	}
	for i, sc := range statusCodes {
		want[statusSpanID(i).String()] = event{"speech-to-text.custom-language-model.create", sc.outcome, sc.severity, sc.reasonType, sc.code}
	}
	want[oldSemconvSpanID.String()] = event{"speech-to-text.custom-language-model-word.create", "failure", "warning", "Conflict", 409}
	got := h.events()
	checkEvents(t, got, want)
	require.Len(t, h.sink.AllLogs(), 1)
	audittest.CheckGolden(t, filepath.Join("testdata", "traces_events.yaml"), h.sink.AllLogs()[0])
	old := got[oldSemconvSpanID.String()].Body().Map().AsRaw()
	assert.Equal(t, map[string]any{"id": "legacy-user", "host": map[string]any{"address": "10.1.2.3", "agent": "curl/8.0"}}, old["initiator"], "the older keys")
	assert.Equal(t, map[string]any{"method": "PUT", "route": "/v1/customizations/{customization_id}/words/{word_name}"}, old["requestData"])

	// an event's attributes are exactly the audit.* attributes the processor
	// writes on its source span, never a forged one
	p := audittest.Start(t, auditprocessor.NewFactory(), "traces", &auditprocessor.Config{Config: testConfig().Config})
	tagged := 0
	for s := range audittest.Records(p.Consume(t, readTraces(t))) {
		id := s.SpanID.String()
		written := audittest.AuditOnly(s.Attrs, false)
		if len(written) == 0 {
			assert.NotContains(t, got, id)
			continue
		}
		tagged++
		if assert.Contains(t, got, id) {
			assert.Equal(t, written, got[id].Attributes().AsRaw(), id)
		}
	}
	assert.Len(t, want, tagged)

	// events = matched - dropped; the counters reconcile with what came out
	n := int64(len(want))
	metadatatest.AssertEqualConnectorAuditEventsEmitted(t, h.tel, audittest.Count("traces", n), metricdatatestIgnore...)
	metadatatest.AssertEqualConnectorAuditRecordsMatched(t, h.tel, audittest.Count("traces", n+1), metricdatatestIgnore...) // + 109, dropped
	metadatatest.AssertEqualConnectorAuditRecordsDropped(t, h.tel, audittest.Drops("traces", 1, "unsupported_region"), metricdatatestIgnore...)
	metadatatest.AssertEqualConnectorAuditRecordsUnmatched(t, h.tel, audittest.Count("traces", 2), metricdatatestIgnore...)
	metadatatest.AssertEqualConnectorAuditRecordsRefused(t, h.tel, audittest.Count("traces", 1), metricdatatestIgnore...)
}

func TestGoldenLogsToLogs(t *testing.T) {
	h := newHarness(t, testConfig())
	in, err := golden.ReadLogs(filepath.Join("..", "testdata", "logs_input.yaml"))
	require.NoError(t, err)
	before := plog.NewLogs()
	in.CopyTo(before)
	require.NoError(t, h.c.ConsumeLogs(t.Context(), in))
	assert.Equal(t, before, in, "the connector does not change its input")
	got := h.events()
	checkEvents(t, got, logEvents)
	require.Len(t, h.sink.AllLogs(), 1)
	audittest.CheckGolden(t, filepath.Join("testdata", "logs_events.yaml"), h.sink.AllLogs()[0])
	metadatatest.AssertEqualConnectorAuditEventsEmitted(t, h.tel, audittest.Count("logs", int64(len(logEvents))), metricdatatestIgnore...)
}

// withEventOptions sets every optional event option: the target's id and
// name keys, logSourceCRN, saveServiceCopy and the observer's name.
func withEventOptions(cfg *Config) *Config {
	cfg.Event.TargetID = []string{"app.target.crn"}
	cfg.Event.TargetName = []string{"app.target.name"}
	cfg.Event.LogSourceCRN = "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst::"
	save := true
	cfg.Event.SaveServiceCopy = &save
	cfg.Event.ObserverName = "ExampleObserver"
	return cfg
}

// TestEventBody asserts every body field of one event, with the optional
// fields configured.
func TestEventBody(t *testing.T) {
	h := newHarness(t, withEventOptions(testConfig()))

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	res := rs.Resource().Attributes()
	res.PutStr("service.name", "stt-api")
	res.PutStr("cloud.region", "EU-DE-2")
	res.PutStr("app.target.name", "acoustic models")
	res.PutStr("audit.forged", "x")
	res.PutEmptyMap("audit").PutStr("action", "forged as a map") // audit.action in a store that flattens maps
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.SetName("DELETE /v1/customizations/{customization_id}")
	s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	s.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Date(2019, 11, 3, 21, 40, 53, 946_000_000, time.UTC)))
	a := s.Attributes()
	a.PutStr("http.request.method", "DELETE")
	a.PutStr("url.path", "/v1/customizations/cust-9")
	a.PutInt("http.response.status_code", 403)
	a.PutStr("enduser.id", "IBMid-120000QUJ0")
	a.PutStr("http.request.header.x-forwarded-for", "169.62.30.22, 10.0.0.1")
	a.PutStr("user_agent.original", "Apache-HttpClient/4.5.9")
	a.PutStr("app.target.crn", "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst:customization:cust-9")
	a.PutStr("audit.action", "forged.action.delete")

	require.NoError(t, h.c.ConsumeTraces(t.Context(), td))
	require.Len(t, h.sink.AllLogs(), 1)
	out := h.sink.AllLogs()[0]
	require.Equal(t, 1, out.LogRecordCount())
	rl := out.ResourceLogs().At(0)
	assert.Equal(t, map[string]any{"service.name": "stt-api", "cloud.region": "EU-DE-2"},
		rl.Resource().Attributes().AsRaw(), "the source resource's allowed attributes (event.resource_attributes)")
	assert.Equal(t, "https://opentelemetry.io/schemas/1.26.0", rl.SchemaUrl())
	sl := rl.ScopeLogs().At(0)
	assert.Equal(t, metadata.ScopeName, sl.Scope().Name())
	r := sl.LogRecords().At(0)
	assert.Equal(t, s.EndTimestamp(), r.Timestamp())
	assert.Equal(t, pcommon.NewTimestampFromTime(fixedNow), r.ObservedTimestamp())
	assert.Equal(t, s.TraceID(), r.TraceID())
	assert.Equal(t, s.SpanID(), r.SpanID())
	assert.Equal(t, "critical", r.SeverityText())
	assert.Equal(t, plog.SeverityNumberError, r.SeverityNumber())
	assert.Equal(t, "audit.event", r.EventName())
	assert.Equal(t, map[string]any{
		"audit.action":       "speech-to-text.custom-language-model.delete",
		"audit.outcome":      "failure",
		"audit.region":       "eu-de",
		"audit.severity":     "critical",
		"audit.reason.code":  int64(403),
		"audit.target.type":  "speech-to-text/custom-language-model",
		"audit.message":      "Speech to Text: Delete a custom language model -failure",
		"audit.initiator.id": "IBMid-120000QUJ0",
	}, r.Attributes().AsRaw())
	assert.Equal(t, map[string]any{
		"id":        spanEventID, // eventid_test.go derives it by the README's formula
		"action":    "speech-to-text.custom-language-model.delete",
		"outcome":   "failure",
		"reason":    map[string]any{"reasonCode": int64(403), "reasonType": "Forbidden"},
		"severity":  "critical",
		"eventTime": "2019-11-03T21:40:53.94+0000",
		"message":   "Speech to Text: Delete a custom language model -failure",
		"target": map[string]any{
			"typeURI": "speech-to-text/custom-language-model",
			"id":      "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst:customization:cust-9",
			"name":    "acoustic models",
		},
		"initiator": map[string]any{
			"id":   "IBMid-120000QUJ0",
			"host": map[string]any{"address": "169.62.30.22", "agent": "Apache-HttpClient/4.5.9"},
		},
		"observer":        map[string]any{"name": "ExampleObserver"},
		"correlationId":   "0102030405060708090a0b0c0d0e0f10",
		"dataEvent":       false,
		"requestData":     map[string]any{"method": "DELETE", "route": "/v1/customizations/{customization_id}"},
		"responseData":    map[string]any{"statusCode": int64(403)},
		"logSourceCRN":    "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst::",
		"saveServiceCopy": true,
	}, r.Body().Map().AsRaw())
}

// TestNoEventsNoCall: a batch without audited records passes nothing on.
func TestNoEventsNoCall(t *testing.T) {
	h := newHarness(t, testConfig())
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.Attributes().PutStr("http.request.method", "GET")
	s.Attributes().PutStr("url.path", "/healthz")
	require.NoError(t, h.c.ConsumeTraces(t.Context(), td))
	assert.Empty(t, h.sink.AllLogs())
}

var metricdatatestIgnore = []metricdatatest.Option{metricdatatest.IgnoreTimestamp()}

// TestEventsThroughTheProcessor: the audit processor in the logs pipeline
// that carries the events passes them on as emitted; the same records sent
// by a client (no connector's context) lose their audit.* attributes.
func TestEventsThroughTheProcessor(t *testing.T) {
	direct := newHarness(t, testConfig())
	require.NoError(t, direct.c.ConsumeTraces(t.Context(), readTraces(t)))
	require.Len(t, direct.sink.AllLogs(), 1)
	emitted := direct.sink.AllLogs()[0]
	require.Positive(t, emitted.LogRecordCount())

	p := audittest.Start(t, auditprocessor.NewFactory(), "logs", &auditprocessor.Config{Config: testConfig().Config})
	chained := newHarness(t, testConfig())
	chained.c.next = p.Logs
	require.NoError(t, chained.c.ConsumeTraces(t.Context(), readTraces(t)))
	require.Len(t, p.LogsSink.AllLogs(), 1)
	require.NoError(t, plogtest.CompareLogs(emitted, p.LogsSink.AllLogs()[0]), "events reach the backend as emitted")

	// a client sends the same records over OTLP: every audit.* attribute goes
	forged := plog.NewLogs()
	emitted.CopyTo(forged)
	out := p.Consume(t, forged).(plog.Logs)
	assert.Equal(t, emitted.LogRecordCount(), out.LogRecordCount(), "not HTTP records: kept")
	for r := range audittest.Records(out) {
		assert.Empty(t, audittest.AuditOnly(r.Attrs, false), r.SpanID.String())
	}
}

// TestDataEvent: a catalog entry's data_event is the event's dataEvent.
func TestDataEvent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "orders.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`service: orders
display_name: Orders
regions:
  - {id: eu-de, name: Frankfurt, sends_events: true}
events:
  - {action: orders.order.read, method: GET, route: "/api/orders/{id}", description: Read an order, data_event: true}
  - {action: orders.order.delete, method: DELETE, route: "/api/orders/{id}", description: Delete an order}
`), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	h := newHarness(t, cfg)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	for i, method := range []string{"GET", "DELETE"} {
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		s.Attributes().PutStr("http.request.method", method)
		s.Attributes().PutStr("url.path", "/api/orders/o-1")
	}
	require.NoError(t, h.c.ConsumeTraces(t.Context(), td))
	got := h.events()
	require.Len(t, got, 2)
	read := got[pcommon.SpanID{1}.String()].Body().Map().AsRaw()
	assert.Equal(t, "orders.order.read", read["action"])
	assert.Equal(t, true, read["dataEvent"])
	assert.Equal(t, "unknown", read["outcome"], "no status")
	assert.NotContains(t, read, "reason")
	assert.NotContains(t, read, "correlationId", "no trace id")
	del := got[pcommon.SpanID{2}.String()].Body().Map().AsRaw()
	assert.Equal(t, false, del["dataEvent"])
	assert.Equal(t, "critical", del["severity"])
}

// flatten writes a map's keys as a store that flattens maps does: nested
// keys joined with dots.
func flatten(prefix string, m pcommon.Map, out map[string]bool) {
	for k, v := range m.All() {
		if v.Type() == pcommon.ValueTypeMap {
			flatten(prefix+k+".", v.Map(), out)
			continue
		}
		out[prefix+k] = true
	}
}

// TestEventResource: a sender's resource attributes that a flattening store
// would put beside the body's fields (initiator.id, outcome) do not reach
// the event; those that say where the request was served do.
func TestEventResource(t *testing.T) {
	h := newHarness(t, testConfig())
	td := statusTraces()
	res := td.ResourceSpans().At(0).Resource().Attributes()
	res.PutStr("initiator.id", "bob")
	res.PutStr("outcome", "failure")
	res.PutStr("message", "nothing happened")
	res.PutStr("k8s.pod.name", "stt-api-7d9")
	res.PutStr("service.instance.id", "i-1")
	res.PutStr("host.name", "node-3")
	res.PutStr("app.secret", "x")
	require.NoError(t, h.c.ConsumeTraces(t.Context(), td))
	rl := h.sink.AllLogs()[0].ResourceLogs().At(0)
	got := rl.Resource().Attributes()
	assert.Equal(t, map[string]any{
		"service.name": "stt-api", "service.instance.id": "i-1", "cloud.region": "eu-de",
		"k8s.pod.name": "stt-api-7d9", "host.name": "node-3",
	}, got.AsRaw())
	body := map[string]bool{}
	flatten("", rl.ScopeLogs().At(0).LogRecords().At(0).Body().Map(), body)
	require.Contains(t, body, "reason.reasonCode", "the flattened body")
	for k := range got.All() {
		assert.NotContains(t, body, k, "a resource key beside a body field")
	}

	// An empty list keeps none.
	cfg := testConfig()
	cfg.Event.ResourceAttributes = []string{}
	h = newHarness(t, cfg)
	require.NoError(t, h.c.ConsumeTraces(t.Context(), statusTraces()))
	assert.Zero(t, h.sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Len())
}

// TestBodyFieldsListed: resource.go's list of body fields is every
// top-level field the connector writes.
func TestBodyFieldsListed(t *testing.T) {
	cfg := testConfig()
	cfg.Event.LogSourceCRN = "crn:x"
	yes := true
	cfg.Event.SaveServiceCopy = &yes
	cfg.Event.TargetID = []string{"app.target.crn"}
	h := newHarness(t, cfg)
	require.NoError(t, h.c.ConsumeTraces(t.Context(), statusTraces()))
	seen := map[string]bool{}
	for _, ld := range h.sink.AllLogs() {
		for r := range audittest.Records(ld) {
			for k := range r.Log.Body().Map().All() {
				seen[k] = true
			}
		}
	}
	for k := range seen {
		assert.Contains(t, bodyFields, k)
	}
}
