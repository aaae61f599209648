package e2e

// Instrumented servers of four Go web frameworks, each with its own
// OpenTelemetry instrumentation: net/http.ServeMux with otelhttp, gin with
// otelgin, echo with otelecho and chi with otelchi. Each registers every
// route of the built-in catalogs in its own syntax, and each handler says in
// its response which catalog row it is, so that a test can compare the
// action the processor finds in the span with the handler that really ran
// (TestFrameworks, frameworks_e2e_test.go).

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"
	"github.com/riandyrn/otelchi"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otel-audit/auditprocessor/catalog"
)

// The headers a handler answers with: the action and the route of its
// catalog row. A response without them ran no handler of a row.
const (
	rowActionHeader = "X-Audit-Row-Action"
	rowRouteHeader  = "X-Audit-Row-Route"
)

// segKind is what a segment of a catalog route is, for translating it.
type segKind uint8

const (
	segLiteral segKind = iota
	segParam           // {name}
	segDigits          // \d+
	segMidSpan         // .+ before the last segment: one or more segments
	segRest            // a final .+, or {name...}: the rest of the path
)

type routeSeg struct {
	kind segKind
	text string // the literal, or the parameter's name
}

// catalogRow is one route of a built-in catalog, split into segments.
type catalogRow struct {
	ev   *catalog.Event
	segs []routeSeg
	// optSlash: the regex ends in [/]?, so the route matches with and
	// without a trailing slash.
	optSlash bool
}

// builtinRows reads every route of the built-in catalogs through the
// catalog package. A regex row is read as the catalogs write them: literal
// segments, \d+, .+ (in the middle, one or more segments; last, the rest)
// and a final [/]?; anything else fails the test.
func builtinRows(t testing.TB) []catalogRow {
	t.Helper()
	var rows []catalogRow
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			row, err := splitRoute(ev)
			require.NoError(t, err, "%s", ev.Ref())
			rows = append(rows, row)
		}
	}
	return rows
}

func splitRoute(ev *catalog.Event) (catalogRow, error) {
	r := catalogRow{ev: ev}
	route := ev.Route
	if ev.RouteIsRegex {
		route = strings.TrimSuffix(strings.TrimPrefix(route, "^"), "$")
		if strings.HasSuffix(route, "[/]?") {
			route, r.optSlash = strings.TrimSuffix(route, "[/]?"), true
		}
	}
	parts := strings.Split(strings.TrimPrefix(route, "/"), "/")
	for i, p := range parts {
		last := i == len(parts)-1
		name := "r" + strconv.Itoa(i) // regex segments are named by position
		switch {
		case !ev.RouteIsRegex && strings.HasSuffix(p, "...}") && last:
			r.segs = append(r.segs, routeSeg{segRest, strings.TrimSuffix(p[1:], "...}")})
		case !ev.RouteIsRegex && strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			r.segs = append(r.segs, routeSeg{segParam, p[1 : len(p)-1]})
		case !ev.RouteIsRegex || regexp.QuoteMeta(p) == p:
			r.segs = append(r.segs, routeSeg{segLiteral, p})
		case p == `\d+`:
			r.segs = append(r.segs, routeSeg{segDigits, name})
		case p == ".+" && last:
			r.segs = append(r.segs, routeSeg{segRest, name})
		case p == ".+":
			r.segs = append(r.segs, routeSeg{segMidSpan, name})
		default:
			return r, fmt.Errorf("route %q: segment %q is not one the frameworks' syntax is written for", ev.Route, p)
		}
	}
	return r, nil
}

// path makes a concrete path of the row: every parameter is "7", except
// that the segment at index vary (-1: none) is value.
func (r catalogRow) path(vary int, value string) string {
	var b strings.Builder
	for i, s := range r.segs {
		b.WriteByte('/')
		switch {
		case i == vary:
			b.WriteString(value)
		case s.kind == segLiteral:
			b.WriteString(s.text)
		default:
			b.WriteString("7")
		}
	}
	return b.String()
}

// syntax writes a route's segments in a framework's pattern syntax.
type syntax struct {
	param, digits, midSpan, rest func(name string) string
}

// pattern writes the row in syn; with slash, with a trailing slash.
func (r catalogRow) pattern(syn syntax, slash bool) string {
	var b strings.Builder
	for _, s := range r.segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(s.text)
		case segParam:
			b.WriteString(syn.param(s.text))
		case segDigits:
			b.WriteString(syn.digits(s.text))
		case segMidSpan:
			b.WriteString(syn.midSpan(s.text))
		case segRest:
			b.WriteString(syn.rest(s.text))
		}
	}
	if slash {
		b.WriteByte('/')
	}
	return b.String()
}

// patterns are the row's patterns: with and without a trailing slash for
// an optional one.
func (r catalogRow) patterns(syn syntax) []string {
	if r.optSlash {
		return []string{r.pattern(syn, false), r.pattern(syn, true)}
	}
	return []string{r.pattern(syn, false)}
}

// rowHandler is the handler of a row: it names the row in its response and
// answers 200, or the status the request asks for (statusParam).
func rowHandler(ev *catalog.Event) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(rowActionHeader, ev.Action)
		w.Header().Set(rowRouteHeader, ev.Route)
		code := http.StatusOK
		if s, err := strconv.Atoi(r.URL.Query().Get(statusParam)); err == nil {
			code = s
		}
		w.WriteHeader(code)
	}
}

// framework is a web framework with its instrumentation.
type framework struct {
	name string
	// instrumentation names the instrumentation and its version, for failures.
	instrumentation string
	// serve builds the instrumented handler of every row, exporting spans
	// through tp, and returns it with what it could not register as the
	// catalog says (one line each) and the row of each route it registered.
	serve func(t *testing.T, rows []catalogRow, tp trace.TracerProvider) (http.Handler, []string, map[string]*catalog.Event)
}

var frameworks = []framework{
	{"servemux", "otelhttp v0.70.0", serveMux},
	{"gin", "otelgin v0.65.0", serveGin},
	{"echo", "otelecho v0.60.0", serveEcho},
	{"chi", "otelchi v0.12.2 (WithChiRoutes)", serveChi},
}

var propagators = propagation.TraceContext{}

// serveMux: Go 1.22 patterns; a final .+ is {name...}, which also matches
// an empty rest; a middle .+ is one segment; \d+ is any segment.
func serveMux(t *testing.T, rows []catalogRow, tp trace.TracerProvider) (http.Handler, []string, map[string]*catalog.Event) {
	syn := syntax{
		param:   func(n string) string { return "{" + n + "}" },
		digits:  func(n string) string { return "{" + n + "}" },
		midSpan: func(n string) string { return "{" + n + "}" },
		rest:    func(n string) string { return "{" + n + "...}" },
	}
	mux := http.NewServeMux()
	registered := map[string]*catalog.Event{}
	for _, r := range rows {
		for _, p := range r.patterns(syn) {
			p = strings.Replace(p, "...}/", "...}", 1)
			mux.Handle(r.ev.Method+" "+p, rowHandler(r.ev))
			registered[p] = r.ev
		}
	}
	return otelhttp.NewHandler(mux, "servemux", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagators)), nil, registered
}

// serveGin: :name and *name. A catch-all cannot share its segment with a
// parameter of another route of the same method: such a final .+ is
// registered as :name, one segment.
func serveGin(t *testing.T, rows []catalogRow, tp trace.TracerProvider) (http.Handler, []string, map[string]*catalog.Event) {
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.Use(otelgin.Middleware("gin", otelgin.WithTracerProvider(tp), otelgin.WithPropagators(propagators)))
	syn := syntax{
		param:   func(n string) string { return ":" + n },
		digits:  func(n string) string { return ":" + n },
		midSpan: func(n string) string { return ":" + n },
		rest:    func(n string) string { return "*" + n },
	}
	oneSegment := syn
	oneSegment.rest = syn.param
	handle := func(method, p string, h gin.HandlerFunc) (err error) {
		defer func() {
			if e := recover(); e != nil {
				err = fmt.Errorf("%v", e)
			}
		}()
		g.Handle(method, p, h)
		return nil
	}
	var notes []string
	// the rows with a catch-all go last, so that they meet the others' parameters
	for _, pass := range []bool{false, true} {
		for _, r := range rows {
			if r.hasRest() != pass {
				continue
			}
			for i, p := range r.patterns(syn) {
				err := handle(r.ev.Method, p, gin.WrapF(rowHandler(r.ev)))
				if err != nil && r.hasRest() {
					alt := r.patterns(oneSegment)[i]
					notes = append(notes, fmt.Sprintf("%s %s: registered as %s (%v)", r.ev.Method, p, alt, err))
					err = handle(r.ev.Method, alt, gin.WrapF(rowHandler(r.ev)))
				}
				require.NoError(t, err, "gin: %s %s", r.ev.Method, p)
			}
		}
	}
	return g, notes, nil
}

func (r catalogRow) hasRest() bool {
	return len(r.segs) > 0 && r.segs[len(r.segs)-1].kind == segRest
}

// serveEcho: :name and a final *, which also matches an empty rest; a
// middle .+ is one segment; \d+ is any segment.
func serveEcho(t *testing.T, rows []catalogRow, tp trace.TracerProvider) (http.Handler, []string, map[string]*catalog.Event) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(otelecho.Middleware("echo", otelecho.WithTracerProvider(tp), otelecho.WithPropagators(propagators)))
	syn := syntax{
		param:   func(n string) string { return ":" + n },
		digits:  func(n string) string { return ":" + n },
		midSpan: func(n string) string { return ":" + n },
		rest:    func(string) string { return "*" },
	}
	for _, r := range rows {
		for _, p := range r.patterns(syn) {
			e.Add(r.ev.Method, p, echo.WrapHandler(rowHandler(r.ev)))
		}
	}
	return e, nil, nil
}

// serveChi: {name}, {name:regexp} for \d+, and a final *, which also
// matches an empty rest; a middle .+ is one segment.
func serveChi(t *testing.T, rows []catalogRow, tp trace.TracerProvider) (http.Handler, []string, map[string]*catalog.Event) {
	r := chi.NewRouter()
	r.Use(otelchi.Middleware("chi", otelchi.WithChiRoutes(r), otelchi.WithTracerProvider(tp), otelchi.WithPropagators(propagators)))
	syn := syntax{
		param:   func(n string) string { return "{" + n + "}" },
		digits:  func(n string) string { return "{" + n + `:\d+}` },
		midSpan: func(n string) string { return "{" + n + "}" },
		rest:    func(string) string { return "*" },
	}
	for _, row := range rows {
		for _, p := range row.patterns(syn) {
			r.Method(row.ev.Method, strings.Replace(p, "*/", "*", 1), rowHandler(row.ev))
		}
	}
	return r, nil, nil
}

// startFramework serves the rows with fw on 127.0.0.1.
func startFramework(t *testing.T, fw framework, rows []catalogRow, tp trace.TracerProvider) (string, []string, map[string]*catalog.Event) {
	t.Helper()
	h, notes, registered := fw.serve(t, rows, tp)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, notes, registered
}
