// Package bench measures the audit processor against the pdata floor and the
// OTTL peer on one shared input. It is a module of its own so that contrib
// code never enters the processor's go.mod.
package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/catalog"
)

// RecordsPerBatch is the size of every benchmark batch.
const RecordsPerBatch = 1000

// Request is one HTTP request of the input: what the server saw and how its
// instrumentation reports the route. Event is the catalog event it belongs
// to, nil for the requests that match nothing.
type Request struct {
	Method string
	Path   string // concrete, as received
	Query  string // without '?', may be empty
	// Template is the route as a Go ServeMux would name it ({id}); Express
	// is the same route in Express syntax (:id). Both are empty when the
	// server matched no route.
	Template string
	Express  string
	Event    *catalog.Event
}

// Requests derives one request per API event of the catalogs, with concrete
// ids in place of parameters, and a set of requests that match none of them.
func Requests(catalogs []*catalog.Catalog, rng *rand.Rand) (matched, unmatched []Request) {
	for _, c := range catalogs {
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			r := instantiate(ev, rng)
			r.Event = ev
			matched = append(matched, r)
		}
	}
	// Requests no catalog describes: probes, other APIs, a known path with a
	// method it does not have, a known prefix with an unknown tail.
	for _, u := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/metrics"},
		{"GET", "/v1/models"},
		{"GET", "/v1/models/en-US_BroadbandModel"},
		{"POST", "/v1/recognize"},
		{"PATCH", "/v1/customizations"},
		{"GET", "/v1/customizations/9a1f/unknown"},
		{"GET", "/v2/data-protect/unknown/17"},
		{"OPTIONS", "/v2/data-protect/policies"},
		{"GET", "/api/v3/orders/77"},
		{"GET", "/"},
		{"HEAD", "/static/app.js"},
	} {
		unmatched = append(unmatched, Request{Method: u.method, Path: u.path})
	}
	return matched, unmatched
}

// instantiate turns an event's route into a concrete request.
func instantiate(ev *catalog.Event, rng *rand.Rand) Request {
	route := ev.Route
	if ev.RouteIsRegex {
		route = strings.TrimPrefix(route, "^")
		route = strings.TrimSuffix(route, "$")
		route = strings.TrimSuffix(route, "[/]?")
		route = strings.TrimSuffix(route, "/?")
	}
	segs := strings.Split(strings.TrimPrefix(route, "/"), "/")
	var path, tmpl, expr strings.Builder
	for i, seg := range segs {
		var concrete, name string
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name = strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}")
			concrete = id(rng, false)
		case seg == `\d+` || seg == `[0-9]+`:
			name, concrete = fmt.Sprintf("id%d", i), id(rng, true)
		case seg == ".+" || seg == ".*" || seg == "[^/]+":
			name, concrete = fmt.Sprintf("id%d", i), id(rng, false)
		default:
			concrete = strings.ReplaceAll(seg, `\`, "")
		}
		path.WriteString("/" + concrete)
		if name != "" {
			tmpl.WriteString("/{" + name + "}")
			expr.WriteString("/:" + name)
		} else {
			tmpl.WriteString("/" + concrete)
			expr.WriteString("/" + concrete)
		}
	}
	return Request{Method: ev.Method, Path: path.String(), Template: tmpl.String(), Express: expr.String()}
}

// id returns a concrete resource id, numeric or not.
func id(rng *rand.Rand, numeric bool) string {
	if numeric || rng.IntN(3) == 0 {
		return fmt.Sprint(1 + rng.IntN(99999))
	}
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
}

// Flavor is how an instrumentation library reports a server request.
type Flavor int

// The instrumentations of /work/shared/TELEMETRY.md.
const (
	GoOtelhttp Flavor = iota // new semconv, route only in the span name
	NodeNew                  // new semconv, http.route in Express syntax
	NodeOld                  // old semconv (http.method, http.target, http.status_code)
	numFlavors
)

// Input is a reproducible stream of requests, 20% of them unmatched.
type Input struct {
	matched, unmatched []Request
	rng                *rand.Rand
}

// UnmatchedShare is the share of requests that match no catalog event.
const UnmatchedShare = 0.2

// NewInput derives the requests of the catalogs; seed fixes the stream.
func NewInput(catalogs []*catalog.Catalog, seed uint64) *Input {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	m, u := Requests(catalogs, rng)
	return &Input{matched: m, unmatched: u, rng: rng}
}

// Regions are the resources' cloud.region values: the one region where
// speech-to-text sends events, zones of it, other catalog regions, a region
// no catalog knows and an upper-case spelling.
var Regions = []string{"eu-de", "us-south", "eu-de-2", "eu-gb", "jp-tok", "us-east", "EU-DE", "ap-north"}

var statuses = []int64{200, 200, 200, 200, 201, 201, 202, 204, 200, 200, 200, 200, 200, 400, 401, 403, 404, 404, 500, 503}

var userAgents = []string{
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
	"curl/8.5.0",
	"ibm-cloud-sdk-go/1.4.2",
}

func (in *Input) next() Request {
	var r Request
	if in.rng.Float64() < UnmatchedShare {
		r = in.unmatched[in.rng.IntN(len(in.unmatched))]
	} else {
		r = in.matched[in.rng.IntN(len(in.matched))]
	}
	if r.Method == "GET" && in.rng.IntN(3) == 0 {
		r.Query = fmt.Sprintf("page_size=%d&offset=%d", 10+in.rng.IntN(90), in.rng.IntN(1000))
	}
	return r
}

// Traces returns a batch of n SERVER spans in `resources` resources (one
// service instance and region each), every span with the attributes its
// flavor of instrumentation emits.
func (in *Input) Traces(n, resources int) ptrace.Traces {
	td := ptrace.NewTraces()
	for r := 0; r < resources; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		flavor := Flavor(r % int(numFlavors))
		putResource(rs.Resource().Attributes(), r, flavor)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(scopeName(flavor))
		spans := ss.Spans()
		count := n / resources
		if r < n%resources {
			count++
		}
		spans.EnsureCapacity(count)
		for i := 0; i < count; i++ {
			req := in.next()
			status := statuses[in.rng.IntN(len(statuses))]
			s := spans.AppendEmpty()
			s.SetKind(ptrace.SpanKindServer)
			s.SetTraceID(in.traceID())
			s.SetSpanID(in.spanID())
			s.SetStartTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + uint64(i)*1_000_000))
			s.SetEndTimestamp(s.StartTimestamp() + pcommon.Timestamp(1_000_000+in.rng.IntN(50_000_000)))
			s.SetName(spanName(req, flavor))
			if status >= 500 {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
			in.putHTTP(s.Attributes(), req, flavor, status)
		}
	}
	return td
}

// Logs returns the same kind of batch as access-log records (a Go slog
// bridge or a Node logger: the request's attributes, its trace context and a
// one-line body).
func (in *Input) Logs(n, resources int) plog.Logs {
	ld := plog.NewLogs()
	for r := 0; r < resources; r++ {
		rl := ld.ResourceLogs().AppendEmpty()
		flavor := Flavor(r % int(numFlavors))
		putResource(rl.Resource().Attributes(), r, flavor)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("access-log")
		records := sl.LogRecords()
		count := n / resources
		if r < n%resources {
			count++
		}
		records.EnsureCapacity(count)
		for i := 0; i < count; i++ {
			req := in.next()
			status := statuses[in.rng.IntN(len(statuses))]
			l := records.AppendEmpty()
			l.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + uint64(i)*1_000_000))
			l.SetTraceID(in.traceID())
			l.SetSpanID(in.spanID())
			l.SetSeverityNumber(plog.SeverityNumberInfo)
			l.SetSeverityText("INFO")
			l.Body().SetStr(fmt.Sprintf("%s %s %d", req.Method, req.Path, status))
			in.putHTTP(l.Attributes(), req, flavor, status)
		}
	}
	return ld
}

func (in *Input) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	a, b := in.rng.Uint64(), in.rng.Uint64()
	for i := 0; i < 8; i++ {
		id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	return id
}

func (in *Input) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	a := in.rng.Uint64()
	for i := range id {
		id[i] = byte(a >> (8 * i))
	}
	return id
}

func scopeName(f Flavor) string {
	if f == GoOtelhttp {
		return "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	}
	return "@opentelemetry/instrumentation-http"
}

func putResource(attrs pcommon.Map, r int, f Flavor) {
	attrs.PutStr("service.name", fmt.Sprintf("api-gateway-%d", r))
	attrs.PutStr("service.version", "1.8.3")
	attrs.PutStr("cloud.region", Regions[r%len(Regions)])
	attrs.PutStr("host.name", fmt.Sprintf("ip-10-0-%d-17", r))
	if f == GoOtelhttp {
		attrs.PutStr("telemetry.sdk.language", "go")
	} else {
		attrs.PutStr("telemetry.sdk.language", "nodejs")
		attrs.PutInt("process.pid", int64(4000+r))
	}
}

// spanName is the semantic-convention name: "{method} {route}" when the
// server matched a route, else just the method.
func spanName(req Request, f Flavor) string {
	switch {
	case req.Template == "":
		return req.Method
	case f == GoOtelhttp:
		return req.Method + " " + req.Template
	default:
		return req.Method + " " + req.Express
	}
}

func (in *Input) putHTTP(attrs pcommon.Map, req Request, f Flavor, status int64) {
	ua := userAgents[in.rng.IntN(len(userAgents))]
	client := fmt.Sprintf("10.1.%d.%d", in.rng.IntN(256), in.rng.IntN(256))
	attrs.EnsureCapacity(12)
	switch f {
	case GoOtelhttp:
		attrs.PutStr("http.request.method", req.Method)
		attrs.PutStr("url.scheme", "https")
		attrs.PutStr("url.path", req.Path)
		attrs.PutStr("server.address", "api.example.cloud")
		attrs.PutInt("server.port", 443)
		attrs.PutStr("network.protocol.version", "1.1")
		attrs.PutStr("client.address", client)
		attrs.PutStr("user_agent.original", ua)
		attrs.PutInt("http.request.body.size", int64(in.rng.IntN(4096)))
		attrs.PutInt("http.response.status_code", status)
	case NodeNew:
		attrs.PutStr("http.request.method", req.Method)
		attrs.PutStr("url.scheme", "https")
		attrs.PutStr("url.path", req.Path)
		if req.Query != "" {
			attrs.PutStr("url.query", req.Query)
		}
		if req.Express != "" {
			attrs.PutStr("http.route", req.Express)
		}
		attrs.PutStr("server.address", "api.example.cloud")
		attrs.PutInt("server.port", 443)
		attrs.PutStr("network.protocol.version", "1.1")
		attrs.PutStr("client.address", client)
		attrs.PutStr("user_agent.original", ua)
		attrs.PutInt("http.response.status_code", status)
	case NodeOld:
		target := req.Path
		if req.Query != "" {
			target += "?" + req.Query
		}
		attrs.PutStr("http.method", req.Method)
		attrs.PutStr("http.target", target)
		attrs.PutStr("http.url", "https://api.example.cloud"+target)
		attrs.PutStr("http.scheme", "https")
		attrs.PutStr("http.host", "api.example.cloud")
		if req.Express != "" {
			attrs.PutStr("http.route", req.Express)
		}
		attrs.PutStr("net.host.name", "api.example.cloud")
		attrs.PutInt("net.host.port", 443)
		attrs.PutStr("net.peer.ip", client)
		attrs.PutStr("http.user_agent", ua)
		attrs.PutStr("http.flavor", "1.1")
		attrs.PutInt("http.status_code", status)
		attrs.PutStr("http.status_text", statusText(status))
	}
}

func statusText(code int64) string {
	switch {
	case code < 300:
		return "OK"
	case code == 404:
		return "NOT FOUND"
	case code < 500:
		return "BAD REQUEST"
	}
	return "INTERNAL SERVER ERROR"
}
