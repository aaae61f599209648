package auditconnector

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/integrity"
	"github.com/otel-audit/auditprocessor/internal/ocsfcheck"
)

func ocsfConfig() *Config {
	cfg := testConfig()
	cfg.Event.Format = FormatOCSF
	return cfg
}

// checkOCSF runs the schema check on every event of ld and returns their
// bodies, decoded, by the span id of their source.
func checkOCSF(t *testing.T, ld plog.Logs) map[string]map[string]any {
	t.Helper()
	schema, err := ocsfcheck.Load()
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for r := range audittest.Records(ld) {
		id := r.SpanID.String()
		require.Equal(t, pcommon.ValueTypeStr, r.Log.Body().Type(), id)
		text := r.Log.Body().Str()
		assert.NoError(t, schema.CheckJSON([]byte(text)), "%s: %s", id, text)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(text), &m))
		out[id] = m
	}
	return out
}

// ocsfSeverityIDs and ocsfStatusIDs restate the README's table, as the
// oracle of the golden test.
var (
	ocsfSeverityIDs = map[string]float64{"normal": 1, "warning": 3, "critical": 4}
	ocsfStatusIDs   = map[string]float64{"success": 1, "failure": 2, "pending": 99, "unknown": 0}
	ocsfActivityIDs = map[string]float64{"create": 1, "read": 2, "update": 3, "delete": 4}
)

// TestGoldenOCSF: both signals in the OCSF format. The records are the
// provider format's but for the body; each body passes the schema check,
// and says what the provider's body of the same record says, field by
// field, as the README's table maps it.
func TestGoldenOCSF(t *testing.T) {
	for _, signal := range audittest.Signals {
		t.Run(signal, func(t *testing.T) {
			provider, ocsf := newHarness(t, testConfig()), newHarness(t, ocsfConfig())
			for _, h := range []*harness{provider, ocsf} {
				if signal == "traces" {
					require.NoError(t, h.c.ConsumeTraces(t.Context(), readTraces(t)))
				} else {
					ld, err := golden.ReadLogs(filepath.Join("..", "testdata", "logs_input.yaml"))
					require.NoError(t, err)
					require.NoError(t, h.c.ConsumeLogs(t.Context(), ld))
				}
				require.Len(t, h.sink.AllLogs(), 1)
			}
			got := ocsf.sink.AllLogs()[0]
			audittest.CheckGolden(t, filepath.Join("testdata", signal+"_events_ocsf.yaml"), got)
			bodies := checkOCSF(t, got)

			// the same records but for the body
			want := plog.NewLogs()
			provider.sink.AllLogs()[0].CopyTo(want)
			events := provider.events()
			require.Len(t, bodies, len(events))
			for r := range audittest.Records(want) {
				r.Log.Body().SetStr(ocsf.events()[r.SpanID.String()].Body().Str())
			}
			require.NoError(t, plogtest.CompareLogs(want, got))

			for id, ev := range events {
				p, o := ev.Body().Map().AsRaw(), bodies[id]
				require.NotNil(t, o, id)
				action := p["action"].(string)
				verb := action[strings.LastIndexByte(action, '.')+1:]
				activity, ok := ocsfActivityIDs[verb]
				if !ok {
					activity = 99
					assert.Equal(t, verb, o["activity_name"], id)
				}
				assert.Equal(t, activity, o["activity_id"], id)
				assert.Equal(t, 600300+activity, o["type_uid"], id)
				assert.Equal(t, float64(ev.Timestamp()/1e6), o["time"], id)
				assert.Equal(t, ocsfSeverityIDs[p["severity"].(string)], o["severity_id"], id)
				assert.Equal(t, ocsfStatusIDs[p["outcome"].(string)], o["status_id"], id)
				assert.Equal(t, p["message"], o["message"], id)
				md := o["metadata"].(map[string]any)
				assert.Equal(t, p["id"], md["uid"], id)
				assert.Equal(t, p["correlationId"], md["correlation_uid"], id)
				api := o["api"].(map[string]any)
				assert.Equal(t, action, api["operation"], id)
				assert.Equal(t, strings.Split(action, ".")[0], api["service"].(map[string]any)["name"], id)
				assert.Equal(t, map[string]any{"uid": id}, api["request"], id)
				req := p["requestData"].(map[string]any)
				hr := o["http_request"].(map[string]any)
				assert.Equal(t, req["method"], hr["http_method"], id)
				assert.Equal(t, map[string]any{"path": req["route"]}, hr["url"], id)
				if reason, ok := p["reason"].(map[string]any); ok {
					assert.Equal(t, strconv.FormatInt(reason["reasonCode"].(int64), 10), o["status_code"], id)
					assert.Equal(t, reason["reasonType"], o["status_detail"], id)
					assert.Equal(t, map[string]any{"code": float64(reason["reasonCode"].(int64))}, o["http_response"], id)
				} else {
					assert.NotContains(t, o, "status_code", id)
					assert.NotContains(t, o, "http_response", id)
				}
				initiator, _ := p["initiator"].(map[string]any)
				host, _ := initiator["host"].(map[string]any)
				if uid, ok := initiator["id"]; ok {
					assert.Equal(t, map[string]any{"user": map[string]any{"uid": uid}}, o["actor"], id)
				} else {
					assert.Equal(t, map[string]any{}, o["actor"], id)
				}
				assert.Equal(t, host["agent"], hr["user_agent"], id)
				if address, ok := host["address"]; ok {
					assert.Equal(t, map[string]any{"ip": address}, o["src_endpoint"], id)
				}
				if target, ok := p["target"].(map[string]any); ok {
					assert.Equal(t, []any{map[string]any{"type": target["typeURI"]}}, o["resources"], id)
				}
				cloud := map[string]any{"provider": DefaultCloudProvider}
				if region, ok := ev.Attributes().Get(audit.AttrRegion); ok {
					cloud["region"] = region.Str()
				}
				assert.Equal(t, cloud, o["cloud"], id)
				assert.Equal(t, map[string]any{"uid": p["correlationId"]}, o["trace"], id)
				assert.Equal(t, map[string]any{"dataEvent": p["dataEvent"]}, o["unmapped"], id)
			}
		})
	}
}

// TestOCSFEventBody asserts every field of one OCSF event, with the
// optional fields configured and an authenticated sender.
func TestOCSFEventBody(t *testing.T) {
	h := newHarness(t, withEventOptions(ocsfConfig()))

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "EU-DE-2")
	rs.Resource().Attributes().PutStr("cloud.provider", "example_cloud")
	rs.Resource().Attributes().PutStr("app.target.name", "acoustic \"models\"")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	s.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Date(2019, 11, 3, 21, 40, 53, 946_123_000, time.UTC)))
	a := s.Attributes()
	a.PutStr("http.request.method", "DELETE")
	a.PutStr("url.path", "/v1/customizations/cust-9")
	a.PutInt("http.response.status_code", 403)
	a.PutStr("enduser.id", "IBMid-120000QUJ0")
	a.PutStr("http.request.header.x-forwarded-for", "2001:db8::1, 10.0.0.1")
	a.PutStr("user_agent.original", "Apache-HttpClient/4.5.9")
	a.PutStr("app.target.crn", "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst:customization:cust-9")

	require.NoError(t, h.c.ConsumeTraces(audittest.SentBy("spiffe://example.org/ns/stt/sa/api"), td))
	require.Len(t, h.sink.AllLogs(), 1)
	bodies := checkOCSF(t, h.sink.AllLogs()[0])
	r := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, "critical", r.SeverityText())
	assert.Equal(t, EventName, r.EventName())
	assert.Equal(t, "speech-to-text.custom-language-model.delete", r.Attributes().AsRaw()[audit.AttrAction])
	require.Len(t, bodies, 1)
	assert.JSONEq(t, `{
	 "activity_id": 4, "activity_name": "Delete",
	 "category_uid": 6, "category_name": "Application Activity",
	 "class_uid": 6003, "class_name": "API Activity",
	 "type_uid": 600304, "type_name": "API Activity: Delete",
	 "time": 1572817253946,
	 "severity_id": 4, "severity": "High",
	 "status_id": 2, "status": "Failure", "status_code": "403", "status_detail": "Forbidden",
	 "message": "Speech to Text: Delete a custom language model -failure",
	 "metadata": {"version": "1.8.0", "profiles": ["cloud", "trace"],
	  "product": {"name": "otelcol", "vendor_name": "otel-audit", "version": "latest"},
	  "log_provider": "ExampleObserver",
	  "uid": "`+spanEventID+`", "correlation_uid": "0102030405060708090a0b0c0d0e0f10",
	  "reporter": {"uid": "spiffe://example.org/ns/stt/sa/api"}},
	 "api": {"operation": "speech-to-text.custom-language-model.delete", "service": {"name": "speech-to-text"},
	  "request": {"uid": "0101010101010101"}, "response": {"code": 403}},
	 "actor": {"user": {"uid": "IBMid-120000QUJ0"}},
	 "src_endpoint": {"ip": "2001:db8::1"},
	 "http_request": {"http_method": "DELETE", "url": {"path": "/v1/customizations/{customization_id}"}, "user_agent": "Apache-HttpClient/4.5.9"},
	 "http_response": {"code": 403},
	 "cloud": {"provider": "example_cloud", "region": "eu-de"},
	 "resources": [{"type": "speech-to-text/custom-language-model",
	  "uid": "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst:customization:cust-9", "name": "acoustic \"models\""}],
	 "trace": {"uid": "0102030405060708090a0b0c0d0e0f10"},
	 "unmapped": {"dataEvent": false, "logSourceCRN": "crn:v1:bluemix:public:speech-to-text:eu-de:a/1:inst::", "saveServiceCopy": true}
	}`, r.Body().Str())
}

// TestOCSFActivities: activity_id by the action's verb (99 with the verb
// as activity_name otherwise), status by outcome, and the fields left out
// or empty when the record does not tell them.
func TestOCSFActivities(t *testing.T) {
	file := filepath.Join(t.TempDir(), "orders.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`service: orders
display_name: Orders
events:
  - {action: orders.order.create, method: POST, route: "/api/orders", description: Create an order}
  - {action: orders.order.read, method: GET, route: "/api/orders/{id}", description: Read an order, data_event: true}
  - {action: orders.order.update, method: PUT, route: "/api/orders/{id}", description: Update an order}
  - {action: orders.order.delete, method: DELETE, route: "/api/orders/{id}", description: Delete an order}
  - {action: orders.order.archive, method: POST, route: "/api/orders/{id}/archive", description: Archive an order}
`), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.Event.Format = FormatOCSF
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	h := newHarness(t, cfg)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, r := range []struct {
		method, path string
		status       int64
	}{{"POST", "/api/orders", 202}, {"GET", "/api/orders/o-1", 0}, {"PUT", "/api/orders/o-1", 200}, {"DELETE", "/api/orders/o-1", 500}, {"POST", "/api/orders/o-1/archive", 204}} {
		s := spans.AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		s.Attributes().PutStr("http.request.method", r.method)
		s.Attributes().PutStr("url.path", r.path)
		if r.status > 0 {
			s.Attributes().PutInt("http.response.status_code", r.status)
		}
		if i == 0 {
			s.Attributes().PutStr("client.address", "not-an-ip.example")
		}
	}
	require.NoError(t, h.c.ConsumeTraces(t.Context(), td))
	require.Len(t, h.sink.AllLogs(), 1)
	bodies := checkOCSF(t, h.sink.AllLogs()[0])
	require.Len(t, bodies, 5)
	for i, w := range []struct {
		activity               float64
		activityName, typeName string
		status                 float64
		statusName             string
	}{
		{1, "Create", "API Activity: Create", 99, "Pending"},
		{2, "Read", "API Activity: Read", 0, "Unknown"},
		{3, "Update", "API Activity: Update", 1, "Success"},
		{4, "Delete", "API Activity: Delete", 2, "Failure"},
		{99, "archive", "API Activity: Other", 1, "Success"},
	} {
		b := bodies[pcommon.SpanID{byte(i + 1)}.String()]
		require.NotNil(t, b, i)
		assert.Equal(t, w.activity, b["activity_id"], i)
		assert.Equal(t, w.activityName, b["activity_name"], i)
		assert.Equal(t, 600300+w.activity, b["type_uid"], i)
		assert.Equal(t, w.typeName, b["type_name"], i)
		assert.Equal(t, w.status, b["status_id"], i)
		assert.Equal(t, w.statusName, b["status"], i)
		assert.NotContains(t, b, "trace", "no trace id")
		assert.NotContains(t, b["metadata"], "correlation_uid", "no trace id")
		assert.NotContains(t, b["metadata"], "reporter", "no sender")
		assert.Equal(t, map[string]any{}, b["actor"], "no initiator")
		assert.Equal(t, map[string]any{"provider": DefaultCloudProvider}, b["cloud"], "no region")
		assert.Equal(t, map[string]any{"dataEvent": i == 1}, b["unmapped"], i)
	}
	assert.Equal(t, map[string]any{"hostname": "not-an-ip.example"}, bodies[pcommon.SpanID{1}.String()]["src_endpoint"])
	assert.Equal(t, map[string]any{}, bodies[pcommon.SpanID{2}.String()]["src_endpoint"], "no client address")
	assert.NotContains(t, bodies[pcommon.SpanID{2}.String()], "status_code", "no status")
}

// TestFormatsShareOneCatalog: two connectors configured alike but for
// event.format hold one Live (audit.Acquire keys it by the shared keys,
// which the event options are not among) and decide with one Auditor.
func TestFormatsShareOneCatalog(t *testing.T) {
	provider, ocsf := newHarness(t, testConfig()), newHarness(t, ocsfConfig())
	t.Cleanup(func() {
		require.NoError(t, provider.c.Shutdown(context.Background()))
		require.NoError(t, ocsf.c.Shutdown(context.Background()))
	})
	require.NotNil(t, ocsf.c.ocsf)
	require.Nil(t, provider.c.ocsf)
	assert.Same(t, provider.c.live, ocsf.c.live, "one compiled catalog for both formats")
	assert.Same(t, provider.c.live.For(t.Context()), ocsf.c.live.For(t.Context()))

	other := testConfig()
	other.Unmatched = audit.PolicyDrop
	h := newHarness(t, other)
	t.Cleanup(func() { require.NoError(t, h.c.Shutdown(context.Background())) })
	assert.NotSame(t, provider.c.live, h.c.live, "a shared key that differs: another Live")
}

// TestOCSFIntegrity: with integrity, OCSF events go into the hash chain as
// they are (the chain hashes the body, a string here) and verify; an
// altered body fails.
func TestOCSFIntegrity(t *testing.T) {
	schema, err := ocsfcheck.Load()
	require.NoError(t, err)
	path, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	cfg := ocsfConfig()
	cfg.Integrity = &IntegrityConfig{PrivateKeyFile: path, CheckpointInterval: time.Hour}
	sink := new(consumertest.LogsSink)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	c, err := newConnector(metadatatest.NewSettings(tel), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.Shutdown(t.Context()))

	events := 0
	for _, ld := range sink.AllLogs() {
		for r := range audittest.Records(ld) {
			if r.Log.EventName() != EventName {
				continue
			}
			events++
			_, chained := r.Log.Attributes().Get(integrity.AttrChainSeq)
			assert.True(t, chained)
			assert.NoError(t, schema.CheckJSON([]byte(r.Log.Body().Str())), "an OCSF body")
		}
	}
	require.Equal(t, len(statusCodes)+1, events)
	v := integrity.NewVerifier(pubs)
	for _, ld := range sink.AllLogs() {
		v.Add(ld)
	}
	reps := v.Finish()
	require.Len(t, reps, 1)
	assert.False(t, reps[0].Failed(), "%+v", reps[0])
	assert.Equal(t, events, reps[0].Verified)

	lr := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2)
	lr.Body().SetStr(strings.Replace(lr.Body().Str(), `"status_id":2`, `"status_id":1`, 1))
	v = integrity.NewVerifier(pubs)
	for _, ld := range sink.AllLogs() {
		v.Add(ld)
	}
	reps = v.Finish()
	assert.True(t, reps[0].Failed(), "an altered OCSF body")
	// verify names the altered event by its metadata.uid, the event id
	var ev struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal([]byte(lr.Body().Str()), &ev))
	require.NotEmpty(t, ev.Metadata.UID)
	assert.Equal(t, []string{ev.Metadata.UID}, reps[0].Altered)
}

// BenchmarkEventFormat: the connector's cost per event in each format, in
// one run (compare with benchstat: format=ocsf against format=provider);
// cpu-ns/event is the process's CPU time, which other load on the machine
// disturbs less than the wall clock.
func BenchmarkEventFormat(b *testing.B) {
	td := statusTraces()
	per := eventsPer(b, td)
	for _, format := range []Format{FormatProvider, FormatOCSF} {
		b.Run("format="+string(format), func(b *testing.B) {
			cfg := testConfig()
			cfg.Event.Format = format
			c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
			require.NoError(b, err)
			b.ReportAllocs()
			batches := 0
			cpu := audittest.CPUTime()
			for b.Loop() {
				require.NoError(b, c.ConsumeTraces(context.Background(), td))
				batches++
			}
			events := float64(batches * per)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
			b.ReportMetric(float64((audittest.CPUTime()-cpu).Nanoseconds())/events, "cpu-ns/event")
			require.NoError(b, c.Shutdown(context.Background()))
		})
	}
}

// FuzzOCSF: whatever a sender puts in the fields an OCSF event copies
// (initiator, client address, user agent, target, the resource's cloud
// provider, the authenticated sender), the body is one JSON object that
// passes the schema check and gives each valid UTF-8 value back as sent.
func FuzzOCSF(f *testing.F) {
	f.Add("IBMid-1", "169.62.30.22", "curl/8.0", "crn:v1:x", "ibm_cloud", "stt-api", int64(201))
	f.Add("\"}\\u0000", "::1%eth0", "a\nb\x00c", "\xff\xfe", "", "spiffe://x/\"y\"", int64(202))
	f.Add("", "not an ip", "", "", "aws", "", int64(0))
	schema, err := ocsfcheck.Load()
	require.NoError(f, err)
	cfg := ocsfConfig()
	cfg.Event.TargetID = []string{"app.target"}
	c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, initiator, address, agent, target, provider, sender string, status int64) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
		rs.Resource().Attributes().PutStr("cloud.provider", provider)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{1})
		a := s.Attributes()
		a.PutStr("http.request.method", "POST")
		a.PutStr("http.route", "/v1/customizations")
		a.PutInt("http.response.status_code", status)
		a.PutStr("enduser.id", initiator)
		a.PutStr("client.address", address)
		a.PutStr("user_agent.original", agent)
		a.PutStr("app.target", target)
		sink := new(consumertest.LogsSink)
		c.next = sink
		require.NoError(t, c.ConsumeTraces(audittest.SentBy(sender), td))
		// 405 with a route: the router refused the request, no action
		// and no event; any other status, one event.
		wantEvents := 1
		if status == http.StatusMethodNotAllowed {
			wantEvents = 0
		}
		require.Equal(t, wantEvents, sink.LogRecordCount(), "status %d", status)
		for _, ld := range sink.AllLogs() {
			checkOCSFFuzzed(t, schema, ld, initiator, agent, target)
		}
	})
}

// checkOCSFFuzzed checks FuzzOCSF's events: each body passes the schema
// check and gives back each valid UTF-8 value as it was sent.
func checkOCSFFuzzed(t *testing.T, schema *ocsfcheck.Schema, ld plog.Logs, initiator, agent, target string) {
	t.Helper()
	for r := range audittest.Records(ld) {
		text := r.Log.Body().Str()
		require.NoError(t, schema.CheckJSON([]byte(text)), text)
		var ev struct {
			Actor struct {
				User struct {
					UID string `json:"uid"`
				} `json:"user"`
			} `json:"actor"`
			HTTP struct {
				UserAgent string `json:"user_agent"`
			} `json:"http_request"`
			Resources []struct {
				UID string `json:"uid"`
			} `json:"resources"`
		}
		require.NoError(t, json.Unmarshal([]byte(text), &ev))
		var targetUID string
		if len(ev.Resources) > 0 {
			targetUID = ev.Resources[0].UID
		}
		for _, v := range []struct{ sent, got string }{{initiator, ev.Actor.User.UID}, {agent, ev.HTTP.UserAgent}, {target, targetUID}} {
			if utf8.ValidString(v.sent) && strings.TrimSpace(v.sent) == v.sent {
				assert.Equal(t, v.sent, v.got, text)
			}
		}
	}
}
