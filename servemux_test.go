package auditprocessor

// A differential test against Go's net/http.ServeMux: every API route of the
// built-in catalogs is registered on a ServeMux, translated to its pattern
// syntax, and for each request the event the ServeMux serves is compared with
// the event the processor finds in the telemetry a server would report for
// that request, in each form instrumentations report it.
//
// ServeMux cannot say everything a catalog regex says, so where they differ
// the catalog's own route decides, by an oracle independent of the matcher:
// the route as a Go regular expression (templates translated) run on the
// path. Each difference falls in one of the classes the README lists, and is
// counted; any other difference fails the test.

import (
	"bufio"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/metadata"
	"github.com/otel-audit/auditprocessor/internal/routeregexp"
)

// muxRef is the reference: a ServeMux with every catalog route, and each
// route as an anchored regular expression.
type muxRef struct {
	mux    *http.ServeMux
	events map[string]*catalog.Event // by action
	regex  map[*catalog.Event]*regexp.Regexp
}

const eventHeader = "X-Audit-Event"

// muxPatterns translates a catalog route to ServeMux patterns (without the
// method): a template is one already; in a regex, ".+" at the end becomes
// {rN...}, any other regex segment {rN}, and a final "[/]?" gives the
// pattern with and without "/{$}".
func muxPatterns(ev *catalog.Event) []string {
	if !ev.RouteIsRegex {
		return []string{ev.Route}
	}
	re := strings.TrimSuffix(strings.TrimPrefix(ev.Route, "^"), "$")
	optionalSlash := strings.HasSuffix(re, "[/]?")
	re = strings.TrimSuffix(re, "[/]?")
	segs := strings.Split(strings.TrimPrefix(re, "/"), "/")
	for i, s := range segs {
		switch {
		case s == ".+" && i == len(segs)-1:
			segs[i] = fmt.Sprintf("{r%d...}", i)
		case regexp.QuoteMeta(s) != s:
			segs[i] = fmt.Sprintf("{r%d}", i)
		}
	}
	p := "/" + strings.Join(segs, "/")
	if optionalSlash {
		return []string{p, p + "/{$}"}
	}
	return []string{p}
}

func newMuxRef(t testing.TB) *muxRef {
	r := &muxRef{mux: http.NewServeMux(), events: map[string]*catalog.Event{}, regex: map[*catalog.Event]*regexp.Regexp{}}
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			r.events[ev.Action] = ev
			r.regex[ev] = routeregexp.Of(ev.Route, ev.RouteIsRegex, false)
			for _, p := range muxPatterns(ev) {
				func() {
					defer func() {
						if e := recover(); e != nil {
							t.Fatalf("%s: ServeMux rejects %s %s: %v", ev.Ref(), ev.Method, p, e)
						}
					}()
					r.mux.Handle(ev.Method+" "+p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
						w.Header().Set(eventHeader, ev.Action)
					}))
				}()
			}
		}
	}
	return r
}

// serve parses a raw request line as Go's server does and returns the event
// whose handler runs. A redirect that cleans the path is followed (the
// request is the action, reached in one more round trip); a redirect that
// only adds a trailing slash is not (this request runs no action; the next
// one is a request of its own). final is the request ServeMux routed last,
// status what it answered to the request itself (the status its telemetry
// reports). ok is false when the server rejects the request before routing
// it, so no telemetry exists.
func (r *muxRef) serve(method, target string) (ev *catalog.Event, req, final *http.Request, status int, ok bool) {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: api.example\r\n\r\n")))
	if err != nil {
		return nil, nil, nil, 0, false
	}
	cur := req
	for range 3 {
		rec := httptest.NewRecorder()
		r.mux.ServeHTTP(rec, cur)
		if status == 0 {
			status = rec.Code
		}
		if a := rec.Header().Get(eventHeader); a != "" {
			return r.events[a], req, cur, status, true
		}
		loc := rec.Header().Get("Location")
		if rec.Code/100 != 3 || loc == "" {
			break
		}
		u, err := url.ParseRequestURI(loc)
		p := cur.URL.Path
		if err != nil || strings.HasSuffix(u.Path, "/") && !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
			break // the trailing-slash redirect
		}
		// ServeMux writes the escaped clean path into the Location's
		// unescaped field, so the Location escapes every "%" once more and a
		// client following it reaches another path (/%2576 for /%76); what
		// ServeMux means is the clean path, which u.Path holds
		if u, err = url.ParseRequestURI(u.Path); err != nil {
			break
		}
		u.RawQuery = cur.URL.RawQuery
		next := cur.Clone(cur.Context())
		next.URL = u
		cur = next
	}
	return nil, req, cur, status, true
}

// form is one way an instrumentation reports the request's path, with the
// response status (http.response.status_code) unless noStatus.
type form struct {
	name string
	// attrs gives the attributes for a request sent as target and parsed as req.
	attrs    func(target string, req *http.Request) map[string]any
	noStatus bool
}

// record gives the attributes a form reports for a request and its status.
func (f form) record(method, target string, req *http.Request, status int) map[string]any {
	raw := f.attrs(target, req)
	raw["http.request.method"] = method
	if !f.noStatus {
		raw["http.response.status_code"] = status
	}
	return raw
}

var forms = []form{
	// Node's HTTP instrumentation, older conventions: the raw target
	{name: "http.target raw", attrs: func(target string, _ *http.Request) map[string]any {
		return map[string]any{"http.target": target}
	}},
	// an access log with the method and the target only: nothing shows
	// whether a handler ran
	{name: "http.target raw, no status", noStatus: true, attrs: func(target string, _ *http.Request) map[string]any {
		return map[string]any{"http.target": target}
	}},
	// what Go's server understood, re-escaped, with the query
	{name: "http.target RequestURI", attrs: func(_ string, req *http.Request) map[string]any {
		return map[string]any{"http.target": req.URL.RequestURI()}
	}},
	// Node, current conventions: the raw path
	{name: "url.path escaped", attrs: func(_ string, req *http.Request) map[string]any {
		return map[string]any{"url.path": req.URL.EscapedPath()}
	}},
	// Go's otelhttp: the decoded path
	{name: "url.path decoded", attrs: func(_ string, req *http.Request) map[string]any {
		return map[string]any{"url.path": req.URL.Path}
	}},
	{name: "url.full", attrs: func(_ string, req *http.Request) map[string]any {
		return map[string]any{"url.full": "https://api.example" + req.URL.RequestURI()}
	}},
}

// by-design differences, as the README lists them
const (
	diffNone         = ""
	diffConstraint   = "ServeMux has no constraints: the catalog regex rejects the segment"
	diffEmptyRest    = "ServeMux {x...} matches nothing; the catalog's .+ needs a character"
	diffMidRest      = "the catalog's .+ in the middle spans segments; ServeMux {x} is one"
	diffFragment     = "a raw '#' in the target: the processor cuts a fragment; ServeMux routes it as part of the path"
	diffDecodedPath  = "a decoded url.path loses %2F and %25, and encoded dots become dot segments"
	diffGoReencoded  = "Go's server re-encodes a raw target that holds a character needing escape, and its %2F then splits the segment"
	diffSlashSegment = "a segment that is just %2F: ServeMux takes it for a trailing slash, the processor for a segment"
	diffInvalidPath  = "a decoded url.path holds a '%' that is no escape: malformed, counted"
	diffHeadUnproven = "HEAD with neither a route nor a 2xx/3xx status: nothing shows that the GET handler ran"
	diffUnexplained  = "UNEXPLAINED"
	muxSampleTargets = 40
)

type differ struct {
	t      testing.TB
	ref    *muxRef
	p      *auditProcessor
	counts map[string]int
	agreed int
}

func newDiffer(t testing.TB) *differ {
	cfg := createDefaultConfig().(*Config)
	p, err := newAuditProcessor(processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	return &differ{t: t, ref: newMuxRef(t), p: p, counts: map[string]int{}}
}

// check compares one request in every form; it returns false on an
// unexplained difference, having reported it.
func (d *differ) check(method, target string) bool {
	want, req, final, status, ok := d.ref.serve(method, target)
	if !ok {
		return true // rejected before routing: no telemetry
	}
	good := true
	for _, f := range forms {
		attrs := pcommon.NewMap()
		if req.URL.Opaque != "" && !strings.HasPrefix(f.name, "http.target raw") {
			continue // "a:b/c" has no path: there is none to report
		}
		raw := f.record(method, target, req, status)
		require.NoError(d.t, attrs.FromRaw(raw))
		got := d.p.live.Auditor().Match(attrs, nil, "").Event
		if got != nil {
			got = d.ref.events[got.Action] // the same event of the reference's catalogs
		}
		if got == want {
			d.agreed++
			continue
		}
		why := d.explain(f, method, target, req, final, want, got)
		d.counts[why]++
		if why == diffUnexplained {
			good = false
			d.t.Errorf("%s %q (%s = %v): ServeMux serves %s, the processor finds %s", method, target, f.name, raw, evName(want), evName(got))
		}
	}
	return good
}

func evName(ev *catalog.Event) string {
	if ev == nil {
		return "nothing"
	}
	return ev.Action + " (" + ev.Route + ")"
}

// explain names the by-design class of a difference, checking it against
// the catalog's routes as regular expressions on the path ServeMux routed
// (cleaned, each segment decoded, an encoded slash kept as %2F).
func (d *differ) explain(f form, method, target string, req, final *http.Request, want, got *catalog.Event) string {
	raw := strings.HasPrefix(f.name, "http.target raw")
	switch {
	case f.noStatus && method == http.MethodHead && got == nil && want != nil && want.Method == http.MethodGet:
		return diffHeadUnproven
	case raw && strings.Contains(target, "#"):
		return diffFragment
	case raw && strings.Contains(strings.ToLower(target), "%2f") && !strings.Contains(strings.ToLower(req.URL.EscapedPath()), "%2f"):
		return diffGoReencoded
	case f.name == "url.path decoded":
		esc := strings.ToLower(req.URL.EscapedPath())
		if strings.Contains(esc, "%2f") || strings.Contains(esc, "%25") || strings.Contains(esc, "%2e") {
			return diffDecodedPath
		}
		if got == nil && strings.Contains(req.URL.Path, "%") {
			return diffInvalidPath
		}
	}
	path := routedPath(final)
	if slices.Contains(strings.Split(path, "/"), "%2F") {
		return diffSlashSegment
	}
	accepts := func(ev *catalog.Event) bool { return ev != nil && d.ref.regex[ev].MatchString(path) }
	switch {
	case want != nil && !accepts(want) && (got == nil || accepts(got)):
		// ServeMux served a route whose catalog regex rejects the path
		if strings.Contains(want.Route, `\d+`) {
			return diffConstraint
		}
		if strings.HasSuffix(want.Route, ".+") {
			return diffEmptyRest
		}
	case accepts(got) && strings.Contains(strings.TrimSuffix(got.Route, ".+"), ".+") && (want == nil || accepts(want)):
		// the processor's route spans segments where ServeMux's {x} could not
		return diffMidRest
	}
	return diffUnexplained
}

// routedPath is the path ServeMux routed, each segment decoded, an encoded
// slash kept as %2F.
func routedPath(final *http.Request) string {
	segs := strings.Split(final.URL.EscapedPath(), "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = strings.ReplaceAll(u, "/", "%2F")
		}
	}
	return strings.Join(segs, "/")
}

// muxSegments are path segments that stress canonicalisation and encoding.
var muxSegments = []string{
	"", ".", "..", "%2e", "%2e%2e", ".%2e", "%2F", "a%2Fb", "a%2fb", "%2f", "%25", "%2541", "%63ustomizations",
	"%ff", "\xff", "%C3%A9", "é", "%00", "%", "%zz", "a%2", "~", "a;b", "%3F", "%23", "x",
	"7", "42", "0", "abc", "Customizations", "CUSTOMIZATIONS", "runs", "actions", "words",
}

// targets makes the requests to compare: each route as a concrete path,
// with variants, and random paths from the catalogs' words and muxSegments.
func muxTargets(ref *muxRef, rng *rand.Rand) [][2]string {
	var out [][2]string
	var words []string
	add := func(method, path string) { out = append(out, [2]string{method, path}) }
	actions := slices.Sorted(maps.Keys(ref.events))
	for _, a := range actions {
		ev := ref.events[a]
		for _, p := range muxPatterns(ev) {
			var segs []string
			for _, s := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
				switch {
				case s == "{$}":
					s = ""
				case strings.HasSuffix(s, "...}"):
					s = "a/b"
				case strings.HasPrefix(s, "{"):
					s = "42"
				default:
					words = append(words, s)
				}
				segs = append(segs, s)
			}
			path := "/" + strings.Join(segs, "/")
			add(ev.Method, path)
			for _, v := range []string{
				path + "/", strings.TrimSuffix(path, "/"), "/" + path, strings.Replace(path, "/", "//", 2),
				strings.Replace(path, "/", "/./", 2), strings.Replace(path, "/", "/x/../", 2), path + "/..", path + "/.",
				strings.Replace(path, "42", "4%2F2", 1), strings.Replace(path, "42", "%34%32", 1), strings.Replace(path, "42", "abc", 1),
				strings.Replace(path, "42", "%ff", 1), strings.Replace(path, "42", "\xff\xfe", 1), strings.Replace(path, "42", "%2e%2e", 1),
				strings.Replace(path, "42", strings.Repeat("9", 1<<20), 1), strings.Replace(path, "a/b", "a", 1), strings.Replace(path, "a/b", "", 1),
				strings.Replace(path, "/4", "/%34", 1), strings.Replace(path, "v", "%76", 1), strings.ToUpper(path),
				path + "?q=1&x=/v1/user_data", path + "?", path + "#frag", path + "#/../../v1/user_data", path + "%23x",
				"http://api.example" + path, "http://api.example" + path + "?q=1", "HTTP://api.example:8080" + path,
			} {
				add(ev.Method, v)
			}
			add("HEAD", path)
		}
	}
	words = append(words, muxSegments...)
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	for range 6000 {
		var segs []string
		if rng.IntN(3) > 0 {
			// a real route's concrete path, mutated
			base := out[rng.IntN(len(out))][1]
			if strings.HasPrefix(base, "/") {
				segs = strings.Split(strings.SplitN(base[1:], "?", 2)[0], "/")
			}
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(segs) + 1)
				w := words[rng.IntN(len(words))]
				if i < len(segs) && rng.IntN(2) == 0 {
					segs[i] = w
				} else {
					segs = append(segs[:i:i], append([]string{w}, segs[i:]...)...)
				}
			}
		} else {
			for range 1 + rng.IntN(7) {
				segs = append(segs, words[rng.IntN(len(words))])
			}
		}
		add(methods[rng.IntN(len(methods))], "/"+strings.Join(segs, "/"))
	}
	return out
}

// TestServeMuxDifferential compares the processor with ServeMux on every
// catalog route, its variants and 6,000 generated paths, in every form.
func TestServeMuxDifferential(t *testing.T) {
	d := newDiffer(t)
	targets := muxTargets(d.ref, rand.New(rand.NewPCG(7, 11)))
	for _, tg := range targets {
		d.check(tg[0], tg[1])
	}
	t.Logf("%d requests × %d forms: %d agreed; by design: %v", len(targets), len(forms), d.agreed, d.counts)
	require.Zero(t, d.counts[diffUnexplained])
	// every documented class shows up, so the test shows each of them
	for _, why := range []string{diffConstraint, diffEmptyRest, diffMidRest, diffFragment, diffDecodedPath, diffHeadUnproven} {
		require.Positive(t, d.counts[why], why)
	}
	require.Greater(t, d.agreed, 10*d.counts[diffDecodedPath])
}

// FuzzServeMuxDifferential compares the processor with ServeMux on fuzzed
// methods and request targets.
func FuzzServeMuxDifferential(f *testing.F) {
	ref := newMuxRef(f)
	for _, tg := range muxTargets(ref, rand.New(rand.NewPCG(1, 1)))[:muxSampleTargets*4] {
		if len(tg[1]) < 1024 {
			f.Add(tg[0], tg[1])
		}
	}
	d := newDiffer(f)
	f.Fuzz(func(t *testing.T, method, target string) {
		if method == "" || strings.ContainsAny(method, " \r\n") || strings.ContainsAny(target, " \r\n") {
			t.Skip("not a request line")
		}
		d.t = t
		d.check(method, target)
	})
}
