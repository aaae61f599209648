package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// The kinds of request TestFrameworks sends, as the end-to-end test's
// requests are: every catalog row, then variants of it.
const (
	kindRow          = "row"
	kindHandler404   = "handler answers 404"
	kindSlash        = "trailing slash"
	kindUpperPath    = "upper-case path"
	kindLowerMethod  = "lower-case method"
	kindHead         = "HEAD"
	kindOptions      = "OPTIONS"
	kindWrongMethod  = "wrong method"
	kindRestSegments = "rest of two segments"
	kindMidSegments  = "middle .+ of two segments"
	kindHeadMid      = "HEAD, middle .+ of two segments"
	kindNotDigits    = `not digits for \d+`
	kindUnknown      = "unknown route"
)

// The by-design differences between the handler that ran and the action
// of its span, as the README lists them.
const (
	diffMid404        = "a 404 without a route: the path is matched, and the catalog's middle .+ spans segments"
	diffSlashRedirect = "ServeMux's trailing-slash redirect: otelhttp names the span after the pattern it redirects to"
)

// frameworkRequest is one request and the catalog row it was made from
// (nil for an unknown route).
type frameworkRequest struct {
	method, target, kind string
	row                  *catalogRow
}

// frameworkRequests makes the requests for every row, without repeating a
// method and target.
func frameworkRequests(rows []catalogRow) []frameworkRequest {
	var out []frameworkRequest
	seen := map[string]bool{}
	add := func(r *catalogRow, method, target, kind string) {
		if !seen[method+" "+target] {
			seen[method+" "+target] = true
			out = append(out, frameworkRequest{method, target, kind, r})
		}
	}
	methodsOf := map[string][]string{} // by catalog route
	for _, r := range rows {
		methodsOf[r.ev.Route] = append(methodsOf[r.ev.Route], r.ev.Method)
	}
	for i := range rows {
		r := &rows[i]
		p := r.path(-1, "")
		add(r, r.ev.Method, p, kindRow)
		add(r, r.ev.Method, p+"?"+statusParam+"=404", kindHandler404)
		add(r, r.ev.Method, p+"/", kindSlash)
		add(r, r.ev.Method, strings.ToUpper(p), kindUpperPath)
		add(r, strings.ToLower(r.ev.Method), p, kindLowerMethod)
		add(r, http.MethodHead, p, kindHead)
		add(r, http.MethodOptions, p, kindOptions)
		for _, m := range []string{http.MethodPatch, http.MethodDelete, http.MethodPut, http.MethodPost, http.MethodGet} {
			if !slices.Contains(methodsOf[r.ev.Route], m) {
				add(r, m, p, kindWrongMethod)
				break
			}
		}
		for j, s := range r.segs {
			switch s.kind {
			case segRest:
				add(r, r.ev.Method, r.path(j, "7/8"), kindRestSegments)
			case segMidSpan:
				add(r, r.ev.Method, r.path(j, "7/8"), kindMidSegments)
				if r.ev.Method == http.MethodGet {
					add(r, http.MethodHead, r.path(j, "7/8"), kindHeadMid)
				}
			case segDigits:
				add(r, r.ev.Method, r.path(j, "abc"), kindNotDigits)
			}
		}
	}
	for _, u := range [][2]string{
		{"GET", "/"}, {"GET", "/v1/not-a-route"}, {"POST", "/v2/data-protect/unknown"}, {"GET", "/v1/customizations/7/unknown"},
	} {
		add(nil, u[0], u[1], kindUnknown)
	}
	return out
}

// frameworksConfig makes every service of the built-in catalogs send
// events from us-south, where the apps run, so that nothing is dropped.
const frameworksConfig = `
services:
  backup-recovery:
    regions: [us-south]
    regions_mode: add
  speech-to-text:
    regions: [us-south]
    regions_mode: add
`

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// TestFrameworks serves every route of the built-in catalogs with ServeMux,
// gin, echo and chi, each with its own instrumentation, through a
// collector, and checks that each span's audit.action, and its event, is
// the row of the handler that ran, as the handler itself says: none for a
// request no handler ran. The one by-design difference: a 404 that reports
// no route (ServeMux, echo) cannot be told from a handler's 404, so its
// path is matched, and the catalog's middle .+ spans segments where the
// frameworks' parameter is one segment.
func TestFrameworks(t *testing.T) {
	binary := collectorBinary(t)
	rows := builtinRows(t)
	reqs := frameworkRequests(rows)
	for _, fw := range frameworks {
		t.Run(fw.name, func(t *testing.T) { runFramework(t, binary, fw, rows, reqs) })
	}
}

// frameworkResult is what one request gave: the response, and the span
// the app recorded for it (nil when its instrumentation made none).
type frameworkResult struct {
	status      int
	ran, route  string // the row's action and route, as the handler said
	span        sdktrace.ReadOnlySpan
	trace       pcommon.TraceID
	want        string // the action the span must carry
	refusedWant bool   // the span shows a refusal: 405, or 404 with an empty route
}

func runFramework(t *testing.T, binary string, fw framework, rows []catalogRow, reqs []frameworkRequest) {
	backend := startBackend(t, "")
	events := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, AuditConfig: frameworksConfig, ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
	})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(col.GRPCEndpoint), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSpanProcessor(recorder),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(fw.name+"-app"), semconv.CloudRegion("us-south"))))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	url, notes, registered := startFramework(t, fw, rows, tp)
	for _, n := range notes {
		t.Logf("%s could not express: %s", fw.name, n)
	}

	results := make([]frameworkResult, len(reqs))
	for i, r := range reqs {
		results[i] = sendTo(t, url, r)
	}
	require.NoError(t, tp.ForceFlush(ctx))
	byTrace := map[pcommon.TraceID]sdktrace.ReadOnlySpan{}
	for _, s := range recorder.Ended() {
		byTrace[pcommon.TraceID(s.SpanContext().TraceID())] = s
	}
	spans, wantEvents, refused := 0, 0, 0
	byDesign := map[string]int{}
	for i, r := range reqs {
		res := &results[i]
		res.span = byTrace[res.trace]
		res.want = res.ran
		if res.span == nil {
			continue
		}
		spans++
		route, hasRoute := spanRoute(res.span)
		res.refusedWant = res.status == http.StatusMethodNotAllowed || res.status == http.StatusNotFound && hasRoute && route == ""
		switch {
		case r.kind == kindMidSegments && res.status == http.StatusNotFound && !hasRoute:
			res.want = r.row.ev.Action // the path is matched, as for a handler's 404
			byDesign[diffMid404]++
		case res.ran == "" && res.status/100 == 3 && hasRoute && registered[route] != nil:
			res.want = registered[route].Action
			byDesign[diffSlashRedirect]++
		}
		if res.refusedWant {
			refused++
		}
		if res.want != "" {
			wantEvents++
		}
	}
	// every span exported, and the events of all of them
	m := waitMetrics(t, col.MetricsURL, "spans and events", func(m harness.Metrics) bool {
		emitted := m.Sum("otelcol_connector_audit_events_emitted", map[string]string{"signal": "traces"})
		return m.Sum("otelcol_exporter_sent_spans", map[string]string{"exporter": "otlp_http"}) == float64(spans) &&
			m.Sum("otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http/events"}) == emitted &&
			m.Sum("otelcol_processor_audit_records_matched", map[string]string{"signal": "traces"}) == emitted
	})

	got, evs := recordsByTrace(backend.Records()), recordsByTrace(events.Records())
	outcomes := map[string]int{}
	for i, r := range reqs {
		res := results[i]
		name := fmt.Sprintf("%s %s %s (%s): %d", fw.name, r.method, r.target, r.kind, res.status)
		if res.span == nil {
			// the framework answered before its instrumentation ran (gin's
			// trailing-slash redirect): there is nothing to audit
			assert.Empty(t, res.ran, "%s: a handler ran without a span", name)
			assert.Empty(t, got[res.trace], name)
			outcomes["no span"]++
			continue
		}
		if !assert.Len(t, got[res.trace], 1, "%s: the span", name) {
			continue
		}
		span := got[res.trace][0]
		assert.Equal(t, res.want, span.Str("audit.action"), "%s: the action (span %q %v)", name, span.Name, span.Attrs.AsRaw())
		if res.ran != "" && res.status >= http.StatusBadRequest {
			assert.Equal(t, "failure", span.Str("audit.outcome"), name)
		}
		ev := evs[res.trace]
		switch {
		case res.want == "":
			assert.Empty(t, ev, "%s: no event", name)
		case assert.Len(t, ev, 1, "%s: one event", name):
			body := ev[0].Body.Map().AsRaw()
			assert.Equal(t, res.want, body["action"], name)
			if res.ran != "" {
				rd, _ := body["requestData"].(map[string]any)
				assert.Equal(t, res.route, rd["route"], "%s: the event's catalog route is the handler's row", name)
			}
		}
		switch {
		case res.refusedWant:
			outcomes["refused"]++
		case res.want != "":
			outcomes["tagged"]++
		default:
			outcomes["untagged"]++
		}
	}
	sig := map[string]string{"signal": "traces"}
	assert.Equal(t, float64(refused), m.Sum("otelcol_processor_audit_records_refused", sig), "refused")
	assert.Equal(t, float64(refused), m.Sum("otelcol_connector_audit_records_refused", sig), "refused, by the connector")
	assert.Equal(t, float64(wantEvents), m.Sum("otelcol_processor_audit_records_matched", sig), "matched")
	assert.Zero(t, m.Sum("otelcol_processor_audit_records_dropped", sig), "dropped")
	t.Logf("%s (%s): %d requests, %d spans: %v; by design: %v", fw.name, fw.instrumentation, len(reqs), spans, outcomes, byDesign)
	// both kinds of result occur, so that the comparison covers each
	for _, k := range []string{"refused", "tagged"} {
		assert.Positive(t, outcomes[k], k)
	}
}

// recordsByTrace groups records by their trace id.
func recordsByTrace(recs []harness.Record) map[pcommon.TraceID][]harness.Record {
	out := map[pcommon.TraceID][]harness.Record{}
	for _, rec := range recs {
		out[rec.TraceID] = append(out[rec.TraceID], rec)
	}
	return out
}

// spanRoute is the route a recorded span reports, from http.route or from
// a span name "{METHOD} {route}"; ok tells whether it reports one at all.
func spanRoute(s sdktrace.ReadOnlySpan) (string, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == "http.route" {
			return kv.Value.AsString(), true
		}
	}
	if _, route, ok := strings.Cut(s.Name(), " "); ok && strings.HasPrefix(route, "/") {
		return route, true
	}
	return "", false
}

// sendTo sends r with a trace context of its own, follows no redirect, and
// returns the response and the trace id.
func sendTo(t *testing.T, baseURL string, r frameworkRequest) frameworkResult {
	t.Helper()
	var res frameworkResult
	var parent [8]byte
	_, _ = rand.Read(res.trace[:])
	_, _ = rand.Read(parent[:])
	req, err := http.NewRequestWithContext(t.Context(), r.method, baseURL+r.target, nil)
	require.NoError(t, err)
	req.Header.Set("traceparent", fmt.Sprintf("00-%s-%x-01", res.trace, parent))
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	res.status, res.ran, res.route = resp.StatusCode, resp.Header.Get(rowActionHeader), resp.Header.Get(rowRouteHeader)
	return res
}
