package catalog

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/internal/routeregexp"
)

func compileBuiltins(t testing.TB) *Matcher {
	t.Helper()
	m, err := Compile(builtins(t)...)
	require.NoError(t, err)
	return m
}

// TestMatcherEveryEntry resolves every API event of both catalogs from a
// concrete path and from its route in each framework's syntax.
func TestMatcherEveryEntry(t *testing.T) {
	m := compileBuiltins(t)
	n := 0
	for _, c := range m.Catalogs() {
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				assert.Empty(t, ev.Method, ev.Action)
				continue
			}
			n++
			p, err := parseRoute(ev.Route, ev.RouteIsRegex)
			require.NoError(t, err)
			path := concrete(p)
			assert.Same(t, ev, m.MatchPath(ev.Method, path), "%s %s", ev.Method, path)
			if p.trail == trailOptional {
				assert.Same(t, ev, m.MatchPath(ev.Method, path+"/"), "%s %s/", ev.Method, path)
			}
			for _, s := range syntaxes {
				route := template(p, s.param, s.slash)
				assert.Same(t, ev, m.MatchRoute(ev.Method, route), "%s: %s %s", s.name, ev.Method, route)
			}
		}
	}
	assert.Equal(t, 66, n)
	assert.Equal(t, 66, m.Routes())
}

func action(ev *Event) string {
	if ev == nil {
		return "<none>"
	}
	return ev.Action
}

func TestMatcherPrecedenceAndNonMatches(t *testing.T) {
	m := compileBuiltins(t)
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1/recognitions", "speech-to-text.async-recognition-job-list.read"},
		{"GET", "/v1/recognitions/abc", "speech-to-text.async-recognition-job.read"},
		{"POST", "/v1/recognitions", "speech-to-text.async-recognition-job.create"},
		{"PUT", "/v2/data-protect/protection-groups/7/runs", "backup-recovery.protection-group-run.update"},
		{"PUT", "/v2/data-protect/protection-groups/7/runs/", "backup-recovery.protection-group-run.update"},
		{"PUT", "/v2/data-protect/protection-groups/7", "backup-recovery.protection-group.update"},
		{"PUT", "/v2/data-protect/protection-groups/7/runs/x", "backup-recovery.protection-group.update"},
		{"POST", "/v2/data-protect/protection-groups/7/runs/actions", "backup-recovery.protection-group-run-action.update"},
		{"POST", "/v2/data-protect/protection-groups/7/runs", "backup-recovery.protection-group-run.create"},
		{"POST", "/v2/data-protect/protection-groups/states", "backup-recovery.protection-group-state.update"},
		{"POST", "/v2/data-protect/protection-groups", "backup-recovery.protection-group.create"},
		{"POST", "/v2/data-protect/recoveries/download-files-folders", "backup-recovery.recover-task.restore"},
		{"POST", "/v2/data-protect/recoveries/download-files-folders/cancel", "backup-recovery.recover-task.cancel"},
		{"DELETE", "/v2/data-protect/sources/registrations/12", "backup-recovery.protection-source.deregister"},
		{"DELETE", "/v2/data-protect/sources/registrations/ab", "<none>"},
		{"POST", "/v2/data-protect/sources/x/refresh", "<none>"},
		{"GET", "/healthz", "<none>"},
		{"GET", "/v1/models", "<none>"},
		{"PATCH", "/v1/customizations", "<none>"},
		{"HEAD", "/v1/customizations", "speech-to-text.custom-language-model-list.read"},
		{"GET", "/v1/customizations/", "<none>"},
		{"GET", "/v1/customizations//words", "<none>"},
		{"GET", "v1/customizations", "<none>"},
		{"GET", "", "<none>"},
		{"get", "/v1/customizations", "<none>"},
		{"PUT", "/v2/data-protect/protection-groups", "<none>"},
		{"PUT", "/v2/data-protect/protection-groups/", "<none>"},
	} {
		assert.Equal(t, tc.want, action(m.MatchPath(tc.method, tc.path)), "%s %s", tc.method, tc.path)
	}
	for _, tc := range []struct{ method, route, want string }{
		{"GET", "/v1/recognitions/{id}", "speech-to-text.async-recognition-job.read"},
		{"GET", "/v1/recognitions", "speech-to-text.async-recognition-job-list.read"},
		{"PUT", "/v2/data-protect/protection-groups/{id}/runs", "backup-recovery.protection-group-run.update"},
		{"PUT", "/v2/data-protect/protection-groups/{id}/runs/{$}", "backup-recovery.protection-group-run.update"},
		{"PUT", "/v2/data-protect/protection-groups/{id}", "backup-recovery.protection-group.update"},
		{"PUT", "/v2/data-protect/protection-groups/{rest...}", "backup-recovery.protection-group.update"},
		{"PUT", "/v2/data-protect/protection-groups/*", "backup-recovery.protection-group.update"},
		{"POST", "/v2/data-protect/protection-groups/:id/runs/actions", "backup-recovery.protection-group-run-action.update"},
		{"DELETE", "/v2/data-protect/sources/registrations/<int:id>", "backup-recovery.protection-source.deregister"},
		{"GET", "/v1/customizations/{rest...}", "<none>"},
		{"POST", "/v2/data-protect/protection-groups/{rest...}/runs", "<none>"},
		{"GET", "/healthz", "<none>"},
		{"GET", "/v1/{version}", "<none>"},
		{"GET", "", "<none>"},
	} {
		assert.Equal(t, tc.want, action(m.MatchRoute(tc.method, tc.route)), "%s %s", tc.method, tc.route)
	}
}

// TestHeadFallsBackToGet: HEAD gets the GET route unless a HEAD route matches.
func TestHeadFallsBackToGet(t *testing.T) {
	m, err := Compile(parseInline(t, "head", `
  - {action: a.thing.read, method: GET, route: "/v1/things/{id}"}
  - {action: a.thing-list.read, method: GET, route: "/v1/things"}
  - {action: a.thing.check, method: HEAD, route: "/v1/things/{id}"}
  - {action: a.thing.create, method: POST, route: "/v1/things"}
`))
	require.NoError(t, err)
	for _, tc := range []struct{ method, path, route, want string }{
		{"HEAD", "/v1/things", "/v1/things", "a.thing-list.read"},
		{"HEAD", "/v1/things/7", "/v1/things/:id", "a.thing.check"},
		{"GET", "/v1/things/7", "/v1/things/{id}", "a.thing.read"},
		{"OPTIONS", "/v1/things", "/v1/things", "<none>"},
	} {
		assert.Equal(t, tc.want, action(m.MatchPath(tc.method, tc.path)), tc.method+" "+tc.path)
		assert.Equal(t, tc.want, action(m.MatchRoute(tc.method, tc.route)), tc.method+" "+tc.route)
	}
}

// reference matches a path the slow way: every route, as the Go regular
// expression it means (routeregexp), is run on the path, and of the
// matching routes the one more specific than all others wins.
func reference(routes []compiled, res map[*Event]*regexp.Regexp, path string) *Event {
	var matching []compiled
	for _, r := range routes {
		if res[r.ev].MatchString(path) {
			matching = append(matching, r)
		}
	}
	for _, r := range matching {
		best := true
		for _, o := range matching {
			if rel, _ := relate(r.p, o.p); o.ev != r.ev && rel != relASpecific {
				best = false
			}
		}
		if best {
			return r.ev
		}
	}
	return nil
}

// TestMatcherAgreesWithReference checks the tree against the definition of
// precedence on paths made from the catalogs' own segments.
func TestMatcherAgreesWithReference(t *testing.T) {
	agreeWithReference(t, builtins(t), false)
}

// TestMatcherFoldAgreesWithReference does the same with a case-insensitive
// catalog beside case-sensitive ones that reuse its literals in other cases,
// on paths whose letters are randomly upper-cased.
func TestMatcherFoldAgreesWithReference(t *testing.T) {
	cats := builtins(t)
	exact := parseInline(t, "exact", `
  - {action: exact.customization.read, method: GET, route: "/V1/customizations/{id}"}
  - {action: exact.models.read, method: GET, route: "/v1/Models"}
  - {action: exact.model-words.read, method: GET, route: "/v1/Models/{id}/Words"}
`)
	agreeWithReference(t, append(cats, exact), true)
}

// speechFolds compiles speech-to-text case-insensitive.
var speechFolds = Options{CaseInsensitive: map[string]bool{"speech-to-text": true}}

func agreeWithReference(t *testing.T, cats []*Catalog, mixCase bool) {
	opts := Options{}
	if mixCase {
		opts = speechFolds
	}
	m, err := opts.Compile(cats...)
	require.NoError(t, err)
	byMethod := map[string][]compiled{}
	res := map[*Event]*regexp.Regexp{}
	var words []string
	for _, c := range m.Catalogs() {
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			p, err := routeOf(ev, opts.folds(ev))
			require.NoError(t, err)
			byMethod[ev.Method] = append(byMethod[ev.Method], compiled{ev: ev, p: p})
			res[ev] = routeregexp.Of(ev.Route, ev.RouteIsRegex, opts.folds(ev))
			words = append(words, strings.Split(concrete(p)[1:], "/")...)
		}
	}
	words = append(words, "", "7", "x", "runs", "actions")
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		w := words[rng.IntN(len(words))]
		if mixCase && rng.IntN(2) == 0 {
			b := []byte(w)
			for i := range b {
				if rng.IntN(2) == 0 {
					b[i] = upperASCII(string(b[i]))[0]
				}
			}
			w = string(b)
		}
		return w
	}
	agreed, matched := 0, 0
	for method, routes := range byMethod {
		for range 3000 {
			// start from a real route and mutate it, or make one up
			var segs []string
			if rng.IntN(4) > 0 {
				segs = strings.Split(concrete(routes[rng.IntN(len(routes))].p)[1:], "/")
				for range rng.IntN(3) {
					switch i := rng.IntN(len(segs) + 1); rng.IntN(3) {
					case 0:
						segs = append(segs[:i:i], append([]string{word()}, segs[i:]...)...)
					case 1:
						if i < len(segs) {
							segs = append(segs[:i], segs[i+1:]...)
						}
					case 2:
						if i < len(segs) {
							segs[i] = word()
						}
					}
				}
			} else {
				for range 1 + rng.IntN(6) {
					segs = append(segs, word())
				}
			}
			path := "/" + strings.Join(segs, "/")
			want := reference(routes, res, path)
			got := m.MatchPath(method, path)
			if assert.Same(t, want, got, "%s %s: want %s, got %s", method, path, action(want), action(got)) {
				agreed++
			}
			if want != nil {
				matched++
			}
		}
	}
	t.Logf("%d paths agreed, %d of them matched a route", agreed, matched)
	assert.Greater(t, matched, 3000)
}

// TestCaseInsensitiveCatalog: a catalog marked case-insensitive matches its
// routes in any letter case, as paths and as reported routes; the others
// stay case-sensitive.
func TestCaseInsensitiveCatalog(t *testing.T) {
	cats := builtins(t)
	m, err := speechFolds.Compile(cats...)
	require.NoError(t, err)
	folded, exact := 0, 0
	for ev, p := range routed(t, cats) {
		path, route := concrete(p), template(p, syntaxes[1].param, true)
		assert.Same(t, ev, m.MatchPath(ev.Method, path), path)
		upPath, upRoute := upperASCII(path), upperASCII(route)
		if strings.HasPrefix(ev.Action, "speech-to-text.") {
			folded++
			assert.Same(t, ev, m.MatchPath(ev.Method, upPath), upPath)
			assert.Same(t, ev, m.MatchRoute(ev.Method, upRoute), upRoute)
		} else if upPath != path {
			exact++
			assert.NotSame(t, ev, m.MatchPath(ev.Method, upPath), upPath)
			assert.NotSame(t, ev, m.MatchRoute(ev.Method, upRoute), upRoute)
		}
	}
	assert.Equal(t, 38, folded)
	assert.Equal(t, 28, exact)
	assert.Equal(t, "speech-to-text.custom-language-model-list.read", action(m.MatchPath("GET", "/V1/Customizations")))
	// ASCII folding only: the Kelvin sign is not a "k"
	assert.Nil(t, m.MatchPath("GET", "/v1/\u212austomizations"))
}

func TestCaseInsensitivePrecedence(t *testing.T) {
	exact := parseInline(t, "exact", `
  - {action: exact.models.read, method: GET, route: "/v1/Models"}
`)
	fold := parseInline(t, "fold", `
  - {action: fold.model-list.read, method: GET, route: "/v1/models"}
  - {action: fold.model.read, method: GET, route: "/v1/{id}"}
  - {action: fold.x.read, method: GET, route_regex: "/v1/x[a-z]+"}
  - {action: fold.digits.read, method: GET, route_regex: "/v1/\\d+"}
`)
	foldOpts := Options{CaseInsensitive: map[string]bool{"fold": true, "folded": true, "other": true}}
	m, err := foldOpts.Compile(exact, fold)
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/v1/Models": "exact.models.read", "/v1/models": "fold.model-list.read", "/V1/MODELS": "fold.model-list.read",
		"/v1/XYZ": "fold.x.read", "/v1/xyz": "fold.x.read", "/v1/7": "fold.digits.read", "/v1/Other": "fold.model.read",
		"/v2/models": "<none>",
	} {
		assert.Equal(t, want, action(m.MatchPath("GET", path)), path)
	}
	rel, ex, err := foldOpts.Relate(&exact.Events[0], &fold.Events[0])
	require.NoError(t, err)
	assert.Equal(t, MoreSpecific, rel)
	assert.Equal(t, Examples{Both: "/v1/Models", OnlyB: "/v1/models"}, ex)
	assert.Equal(t, `GET
  /v1
    /Models
      $ exact.models.read
  /(?i)v1
    /(?i)models
      $ fold.model-list.read
    /{(?i)x[a-z]+}
      $ fold.x.read
    /{\d+}
      $ fold.digits.read
    /{}
      $ fold.model.read
`, m.String())

	// every spelling of a folding literal is taken by exact literals but one
	taken := parseInline(t, "taken", `
  - {action: taken.lower.read, method: GET, route: "/ab"}
  - {action: taken.upper.read, method: GET, route: "/AB"}
  - {action: taken.mixed.read, method: GET, route: "/Ab"}
`)
	folded := parseInline(t, "folded", `
  - {action: folded.any.read, method: GET, route: "/ab"}
`)
	m, err = foldOpts.Compile(taken, folded)
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/ab": "taken.lower.read", "/AB": "taken.upper.read", "/Ab": "taken.mixed.read", "/aB": "folded.any.read",
	} {
		assert.Equal(t, want, action(m.MatchPath("GET", path)), path)
	}

	// two case-insensitive catalogs with one route in two spellings
	other := parseInline(t, "other", `
  - {action: other.models.read, method: GET, route: "/v1/MODELS"}
`)
	_, err = foldOpts.Compile(fold, other)
	assert.EqualError(t, err, "duplicate route: fold:6 (fold.model-list.read GET /v1/models) and other:6 (other.models.read GET /v1/MODELS) match the same paths, e.g. GET /v1/models")
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m := compileBuiltins(t)
	folding, err := Options{CaseInsensitive: map[string]bool{"speech-to-text": true, "backup-recovery": true}}.Compile(builtins(t)...)
	require.NoError(t, err)
	require.NotNil(t, folding.MatchPath("GET", "/V1/Customizations/abc/WORDS/hello"))
	allocs := testing.AllocsPerRun(100, func() {
		m.MatchPath("PUT", "/v2/data-protect/protection-groups/7/runs/")
		m.MatchPath("DELETE", "/v2/data-protect/sources/registrations/12")
		m.MatchPath("GET", "/v1/customizations/abc/words/hello")
		m.MatchRoute("POST", "/v1/customizations/:customization_id/words")
		m.MatchRoute("PUT", "v2/data-protect/protection-groups/{id}/runs/{$}")
		m.MatchPath("GET", "/nothing/here/at/all")
		folding.MatchPath("GET", "/V1/Customizations/abc/WORDS/hello")
		folding.MatchRoute("POST", "/V1/CUSTOMIZATIONS/:customization_id/words")
	})
	assert.Zero(t, allocs)
}

// TestMethodIndex: the switch of methodIndex follows Methods, so that every
// method Parse accepts has its tree in Matcher.known.
func TestMethodIndex(t *testing.T) {
	require.Len(t, Methods, len(Matcher{}.known))
	for i, method := range Methods {
		assert.Equal(t, i, methodIndex(method), method)
	}
	assert.Equal(t, -1, methodIndex("get"))
	assert.Equal(t, -1, methodIndex("PROPFIND"))

	// a hand-built catalog may use a method Parse does not accept
	dav := &Catalog{Service: "dav", Source: "hand", Events: []Event{{Action: "dav.file.list", Kind: KindAPI, Method: "PROPFIND", Route: "/dav/{path...}"}}}
	dav.Events[0].Catalog = dav
	m, err := Compile(dav)
	require.NoError(t, err)
	assert.Equal(t, "dav.file.list", action(m.MatchPath("PROPFIND", "/dav/a/b")))
	assert.Equal(t, "dav.file.list", action(m.MatchRoute("PROPFIND", "/dav/{path...}")))
	assert.Nil(t, m.MatchPath("GET", "/dav/a/b"))
}

func BenchmarkMatchPath(b *testing.B) {
	m := compileBuiltins(b)
	paths := [][2]string{
		{"GET", "/v1/customizations/abc/words/hello"},
		{"PUT", "/v2/data-protect/protection-groups/7/runs"},
		{"DELETE", "/v2/data-protect/sources/registrations/12"},
		{"GET", "/healthz"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := paths[i%len(paths)]
		m.MatchPath(p[0], p[1])
	}
}
