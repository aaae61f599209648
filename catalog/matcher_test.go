package catalog

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
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

// concrete turns a catalog route into a path a client could send.
func concrete(p pattern) string {
	var b strings.Builder
	for i, e := range p.elems {
		b.WriteByte('/')
		switch {
		case e.kind == elemLiteral:
			b.WriteString(e.lit)
		case e.check != nil:
			b.WriteString("4711")
		default:
			fmt.Fprintf(&b, "id-%d", i)
		}
	}
	if p.trail == trailRequired || len(p.elems) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// template writes a catalog route in a framework's route syntax; name turns
// the i-th parameter into that syntax. Regex rests become one parameter, as
// a server that routes them would declare.
func template(p pattern, name func(i int) string, leadingSlash bool) string {
	var segs []string
	for i, e := range p.elems {
		if e.kind == elemLiteral {
			segs = append(segs, e.lit)
		} else {
			segs = append(segs, name(i))
		}
	}
	s := strings.Join(segs, "/")
	if leadingSlash {
		s = "/" + s
	}
	return s
}

var syntaxes = []struct {
	name  string
	param func(i int) string
	slash bool
}{
	{"servemux", func(i int) string { return fmt.Sprintf("{p%d}", i) }, true},
	{"express", func(i int) string { return fmt.Sprintf(":p%d", i) }, true},
	{"flask", func(i int) string { return fmt.Sprintf("<p%d>", i) }, true},
	{"flask-int", func(i int) string { return fmt.Sprintf("<int:p%d>", i) }, true},
	{"spring", func(i int) string { return fmt.Sprintf("{id%d}", i) }, true},
	{"aspnet", func(i int) string { return fmt.Sprintf("{p%d:int}", i) }, false},
	{"aspnet-optional", func(i int) string { return fmt.Sprintf("{p%d?}", i) }, false},
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

func parseInline(t *testing.T, name, body string) *Catalog {
	t.Helper()
	c, err := Parse(name, []byte("service: "+name+"\nregions:\n  - {id: eu-de, sends_events: true}\nevents:\n"+body))
	require.NoError(t, err)
	return c
}

func TestCompileConflicts(t *testing.T) {
	// two events of one catalog (lines 5 and 6 of its file), and the error
	for _, tc := range []struct{ name, first, second, want string }{
		{"duplicate", `{action: a.thing.read, method: GET, route: "/v1/things/{id}"}`, `{action: a.thing.get, method: GET, route: "/v1/things/{thing}"}`, "duplicate route: duplicate:5 (a.thing.read GET /v1/things/{id}) and duplicate:6 (a.thing.get GET /v1/things/{thing}) match the same paths, e.g. GET /v1/things/x"},
		{"regex-duplicate", `{action: a.thing.read, method: GET, route: "/v1/things/{id}"}`, `{action: a.thing.get, method: GET, route_regex: "/v1/things/[^/]+$"}`, "duplicate route: regex-duplicate:5 (a.thing.read GET /v1/things/{id}) and regex-duplicate:6 (a.thing.get GET /v1/things/[^/]+$) match the same paths, e.g. GET /v1/things/x"},
		{"ambiguous", `{action: a.thing.read, method: GET, route: "/v1/{id}/words"}`, `{action: a.word.read, method: GET, route: "/v1/things/{word}"}`, "ambiguous routes: ambiguous:5 (a.thing.read GET /v1/{id}/words) and ambiguous:6 (a.word.read GET /v1/things/{word}) both match GET /v1/things/words and neither is more specific"},
		{"ambiguous-rests", `{action: a.thing.read, method: GET, route_regex: "/v1/.+/words"}`, `{action: a.word.read, method: GET, route_regex: "/v1/things/.+"}`, "ambiguous routes: ambiguous-rests:5 (a.thing.read GET /v1/.+/words) and ambiguous-rests:6 (a.word.read GET /v1/things/.+) both match GET /v1/things/words and neither is more specific"},
		{"ambiguous-constraints", `{action: a.thing.read, method: GET, route_regex: "/v1/\\d+"}`, `{action: a.word.read, method: GET, route_regex: "/v1/[0-9a-f]+"}`, `ambiguous routes: ambiguous-constraints:5 (a.thing.read GET /v1/\d+) and ambiguous-constraints:6 (a.word.read GET /v1/[0-9a-f]+) both match GET /v1/0 and neither is more specific`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(parseInline(t, tc.name, "  - "+tc.first+"\n  - "+tc.second+"\n"))
			assert.EqualError(t, err, tc.want)
		})
	}
	t.Run("across catalogs", func(t *testing.T) {
		a := parseInline(t, "one", "  - {action: one.x.read, method: GET, route: /v1/x}\n")
		b := parseInline(t, "two", "  - {action: two.x.read, method: GET, route: /v1/x}\n")
		_, err := Compile(a, b)
		assert.EqualError(t, err, "duplicate route: one:5 (one.x.read GET /v1/x) and two:5 (two.x.read GET /v1/x) match the same paths, e.g. GET /v1/x")
		_, err = Compile(a, a)
		assert.EqualError(t, err, `catalogs one and one both describe service "one"`)
	})
	t.Run("ordered is fine", func(t *testing.T) {
		m, err := Compile(parseInline(t, "ok", `
  - {action: a.word.read, method: GET, route: "/v1/things/words"}
  - {action: a.thing.read, method: GET, route: "/v1/things/{id}"}
  - {action: a.digit.read, method: GET, route_regex: "/v1/things/\\d+"}
  - {action: a.any.read, method: GET, route_regex: "/v1/.+"}
  - {action: a.any-words.read, method: GET, route_regex: "/v2/.+/words"}
  - {action: a.v2.read, method: GET, route_regex: "/v2/.+"}
`))
		require.NoError(t, err)
		for path, want := range map[string]string{
			"/v1/things/words": "a.word.read", "/v1/things/7": "a.digit.read", "/v1/things/x": "a.thing.read",
			"/v1/x/words": "a.any.read", "/v1/x": "a.any.read", "/v1/x/y/z": "a.any.read",
			"/v2/x/words": "a.any-words.read", "/v2/x/y/words": "a.any-words.read", "/v2/x/words/y": "a.v2.read", "/v2/words": "a.v2.read",
		} {
			assert.Equal(t, want, action(m.MatchPath("GET", path)), path)
		}
	})
}

func TestMatcherTree(t *testing.T) {
	m, err := Compile(parseInline(t, "tree", `
  - {action: a.thing-list.read, method: GET, route: "/v1/things"}
  - {action: a.thing.read, method: GET, route: "/v1/things/{id}"}
  - {action: a.thing-digit.read, method: GET, route_regex: "/v1/things/\\d+"}
  - {action: a.file.read, method: GET, route: "/v1/files/{path...}"}
  - {action: a.thing-run.create, method: POST, route_regex: "/v1/things/.+/runs"}
  - {action: a.root.read, method: GET, route: "/"}
`))
	require.NoError(t, err)
	assert.Equal(t, `GET
  /$ a.root.read
  /v1
    /files
      /.*
        $ a.file.read
    /things
      $ a.thing-list.read
      /{\d+}
        $ a.thing-digit.read
      /{}
        $ a.thing.read
POST
  /v1
    /things
      /.+
        /runs
          $ a.thing-run.create
`, m.String())
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

// TestLiteralChildren covers both ways a node finds a literal child: by
// comparing a few one by one and through the index of a node with many,
// for exact and folding literals, in path and route mode.
func TestLiteralChildren(t *testing.T) {
	for _, n := range []int{3, maxScan, maxScan + 1, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var exact, fold strings.Builder
			long := strings.Repeat("Long", 20) // longer than the lookup's buffer
			for i := range n {
				fmt.Fprintf(&exact, "  - {action: exact.r%d.read, method: GET, route: \"/Exact%02d/{id}\"}\n", i, i)
				fmt.Fprintf(&fold, "  - {action: fold.r%d.read, method: GET, route: \"/v1/Fold%02d\"}\n", i, i)
			}
			fmt.Fprintf(&fold, "  - {action: fold.long.read, method: GET, route: \"/v1/%s\"}\n", long)
			folding := parseInline(t, "fold", fold.String())
			m, err := Options{CaseInsensitive: map[string]bool{"fold": true}}.Compile(parseInline(t, "exact", exact.String()), folding)
			require.NoError(t, err)
			for i := range n {
				want := fmt.Sprintf("exact.r%d.read", i)
				assert.Equal(t, want, action(m.MatchPath("GET", fmt.Sprintf("/Exact%02d/7", i))))
				assert.Equal(t, want, action(m.MatchRoute("GET", fmt.Sprintf("/Exact%02d/:id", i))))
				assert.Nil(t, m.MatchPath("GET", fmt.Sprintf("/exact%02d/7", i)))
				want = fmt.Sprintf("fold.r%d.read", i)
				for _, path := range []string{fmt.Sprintf("/v1/fold%02d", i), fmt.Sprintf("/V1/FOLD%02d", i), fmt.Sprintf("/v1/fOlD%02d", i)} {
					assert.Equal(t, want, action(m.MatchPath("GET", path)), path)
					assert.Equal(t, want, action(m.MatchRoute("GET", path)), path)
				}
			}
			assert.Nil(t, m.MatchPath("GET", fmt.Sprintf("/Exact%02d/7", n)))
			assert.Nil(t, m.MatchPath("GET", fmt.Sprintf("/v1/fold%02d", n)))
			assert.Nil(t, m.MatchPath("GET", "/v1/fold"))
			assert.Nil(t, m.MatchPath("GET", "/v1/"+long+"x"))
			assert.Equal(t, "fold.long.read", action(m.MatchPath("GET", "/v1/"+strings.ToUpper(long))))
			assert.Zero(t, testing.AllocsPerRun(10, func() {
				m.MatchPath("GET", "/Exact01/7")
				m.MatchPath("GET", "/V1/FOLD01")
				m.MatchPath("GET", "/v1/nothing")
			}))
		})
	}
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

// TestRegexRoutesWithoutParsing: a route of plain segments is accepted
// without parsing it whole, and every route reads as when each was parsed
// whole first, errors included.
func TestRegexRoutesWithoutParsing(t *testing.T) {
	reference := func(route string) (pattern, error) {
		if _, err := regexp.Compile(route); err != nil {
			return pattern{}, fmt.Errorf("invalid regex: %w", err)
		}
		p, _, err := parseRegexBody(route)
		return p, err
	}
	show := func(p pattern) string {
		var b strings.Builder
		for _, e := range p.elems {
			fmt.Fprintf(&b, "%d %q %t %q %t %t|", e.kind, e.lit, e.fold, e.constraint, e.check != nil, e.allowEmpty)
		}
		return fmt.Sprintf("%s trail %d", b.String(), p.trail)
	}
	routes := []string{
		"/", "^/$", "/[/]?", "/a", "^/a/b$", "/a/b/", "/a/b[/]?", "/a/b/?", `/a/b\/?`, "/a//b", "/a/b//?",
		"/a/.+", "/a/.*/b[/]?$", `/a/\d+/b`, "/a/[0-9]+", "/a/[^/]+", "/a/[a-z]+/b", "/a(/b)", "/a/(", "/a/b)",
		"^^/a", "/a$$", "a/b", "/a/\xff", "/a/\u212a", "/caf\u00e9/x",
	}
	for _, c := range builtins(t) {
		for _, ev := range c.Events {
			if ev.RouteIsRegex {
				routes = append(routes, ev.Route)
			}
		}
	}
	for _, route := range routes {
		want, wantErr := reference(route)
		got, gotErr := parseRegexRoute(route)
		if wantErr != nil {
			assert.EqualError(t, gotErr, wantErr.Error(), route)
			continue
		}
		require.NoError(t, gotErr, route)
		assert.Equal(t, show(want), show(got), route)
	}
}

// TestRegexSegmentLiterals: a segment without regex metacharacters is read
// as the literal that syntax.Parse finds in it, without parsing.
func TestRegexSegmentLiterals(t *testing.T) {
	for _, seg := range []string{"v1", "data-protect", "a", "x_y~z", "caf\u00e9", "a,b=c;d:e@f!g'h\"", "\u212a", " ", "#"} {
		e, err := parseRegexSegment(seg)
		require.NoError(t, err, seg)
		re, err := syntax.Parse(seg, syntax.Perl)
		require.NoError(t, err, seg)
		re = re.Simplify()
		require.Equal(t, syntax.OpLiteral, re.Op, seg)
		assert.Equal(t, elem{kind: elemLiteral, lit: string(re.Rune)}, e, seg)
	}
	// not plain: parsed
	e, err := parseRegexSegment(`data\-protect`)
	require.NoError(t, err)
	assert.Equal(t, elem{kind: elemLiteral, lit: "data-protect"}, e)
	_, err = parseRegexSegment("\xff")
	assert.Error(t, err)
}

// wordRE finds the words of a route's text, to build paths from.
var wordRE = regexp.MustCompile(`[A-Za-z0-9_-]+`)

// candidatePaths makes n paths from the words of two routes' texts: each
// route's segments with its wildcards filled in, then mutated, and paths of
// random words; folded routes also get upper-cased words.
func candidatePaths(rng *rand.Rand, n int, fold bool, routes ...string) []string {
	words := []string{"", "x", "7", "X"}
	var shapes [][]string
	for _, r := range routes {
		segs := strings.Split(strings.Trim(strings.TrimPrefix(r, "^"), "$"), "/")[1:]
		shapes = append(shapes, segs)
		for _, s := range segs {
			words = append(words, wordRE.FindAllString(s, -1)...)
		}
	}
	word := func() string {
		w := words[rng.IntN(len(words))]
		if fold && rng.IntN(2) == 0 {
			w = strings.ToUpper(w)
		}
		return w
	}
	paths := make([]string, 0, n)
	for range n {
		var segs []string
		if rng.IntN(4) > 0 {
			for _, s := range shapes[rng.IntN(len(shapes))] {
				if wordRE.FindString(s) != s || rng.IntN(8) == 0 { // a wildcard, a regex, or now and then a literal
					s = word()
				}
				segs = append(segs, s)
			}
			for range rng.IntN(3) {
				switch i := rng.IntN(len(segs) + 1); rng.IntN(3) {
				case 0:
					segs = slices.Insert(segs, i, word())
				case 1:
					if i < len(segs) {
						segs = slices.Delete(segs, i, i+1)
					}
				case 2:
					if i < len(segs) {
						segs[i] = word()
					}
				}
			}
		} else {
			for range rng.IntN(7) {
				segs = append(segs, word())
			}
		}
		paths = append(paths, "/"+strings.Join(segs, "/"))
	}
	return paths
}

// route is a route's text as a catalog gives it.
type route struct {
	text  string
	regex bool
}

// TestExamplesAgreeWithRegexps checks the walk that relates two routes
// against the routes as Go regular expressions (routeregexp.Of): each example
// path is in its class (both routes match it, only A, only B), and of
// hundreds of paths made from the routes' words, every one falls in a class
// that has an example no longer than it (the walk finds shortest
// examples). The relation follows from which classes are empty. Pairs: every
// pair of built-in routes, exact and folded, and random regex routes with
// several rests (walks longer than maxLinear).
func TestExamplesAgreeWithRegexps(t *testing.T) {
	var routes []route
	for _, c := range builtins(t) {
		for i := range c.Events {
			if ev := &c.Events[i]; ev.HasRoute() {
				routes = append(routes, route{ev.Route, ev.RouteIsRegex})
			}
		}
	}
	for _, r := range []string{"/a/ab/AB/{x}", "/Ab/aB/{x...}", "/ab/ab/ab", "/a/{$}", "/a/{x}/", "/a/{x...}"} {
		routes = append(routes, route{r, false})
	}
	type pair struct {
		a, b route
		fold bool
	}
	var pairs []pair
	for i, a := range routes {
		for _, b := range routes[i:] {
			pairs = append(pairs, pair{a, b, false}, pair{a, b, true})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	segs := []string{"a", "b", ".+", ".*", "[^/]+", `\d+`, "[a-z]+"}
	random := func() route {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString("/" + segs[rng.IntN(len(segs))])
		}
		if rng.IntN(3) == 0 {
			b.WriteString("[/]?")
		}
		return route{b.String(), true}
	}
	for range 1000 {
		pairs = append(pairs, pair{random(), random(), false})
	}
	slashes := func(p string) int { return strings.Count(p, "/") }
	longest, checked := 0, 0
	for _, pr := range pairs {
		pa, err := parseRoute(pr.a.text, pr.a.regex)
		require.NoError(t, err, pr.a.text)
		pb, err := parseRoute(pr.b.text, pr.b.regex)
		require.NoError(t, err, pr.b.text)
		if pr.fold {
			pa, err = pa.folded()
			require.NoError(t, err)
			pb, err = pb.folded()
			require.NoError(t, err)
		}
		reA, reB := routeregexp.Of(pr.a.text, pr.a.regex, pr.fold), routeregexp.Of(pr.b.text, pr.b.regex, pr.fold)
		ex := examples(pa, pb)
		name := fmt.Sprintf("%s ~ %s (fold %t)", pr.a.text, pr.b.text, pr.fold)
		class := func(p string) int {
			ma, mb := reA.MatchString(p), reB.MatchString(p)
			switch {
			case ma && mb:
				return 0
			case ma:
				return 1
			case mb:
				return 2
			}
			return -1
		}
		found := [3]string{ex.Both, ex.OnlyA, ex.OnlyB}
		for k, p := range found {
			if p != "" && !strings.Contains(p, "{") { // "{constraint}": no sample text
				if !assert.Equal(t, k, class(p), "%s: example %q", name, p) {
					return
				}
			}
		}
		for _, p := range candidatePaths(rng, 60, pr.fold, pr.a.text, pr.b.text) {
			if k := class(p); k >= 0 {
				checked++
				if !assert.True(t, found[k] != "" && slashes(found[k]) <= slashes(p),
					"%s: %q is in class %d, whose example is %q", name, p, k, found[k]) {
					return
				}
			}
		}
		rel, both := relate(pa, pb)
		assert.Equal(t, ex.Both, both, name)
		want := relOverlap
		switch {
		case ex.Both == "":
			want = relDisjoint
		case ex.OnlyA == "" && ex.OnlyB == "":
			want = relEqual
		case ex.OnlyA == "":
			want = relASpecific
		case ex.OnlyB == "":
			want = relBSpecific
		}
		assert.Equal(t, want, rel, name)
		longest = max(longest, len(walkProduct(pa, pb).queue))
	}
	t.Logf("%d pairs, %d paths in a class, longest walk %d states", len(pairs), checked, longest)
	assert.Greater(t, longest, maxLinear)
}

// TestConstraintNarrowerThanParam: a constrained segment matches fewer
// paths than a parameter, and one constraint narrower than another is
// still reported as ambiguous (README, "Route precedence").
func TestConstraintNarrowerThanParam(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want relation
		ex   Examples
	}{
		{"/[^/]+", "/[a-z]+", relBSpecific, Examples{Both: "/a", OnlyA: "/X"}},
		{"/v/[^/]+/a", `/v/\d+/a`, relBSpecific, Examples{Both: "/v/0/a", OnlyA: "/v/x/a"}},
	} {
		a, err := parseRoute(tc.a, true)
		require.NoError(t, err)
		b, err := parseRoute(tc.b, true)
		require.NoError(t, err)
		rel, _ := relate(a, b)
		assert.Equal(t, tc.want, rel, "%s ~ %s", tc.a, tc.b)
		assert.Equal(t, tc.ex, examples(a, b), "%s ~ %s", tc.a, tc.b)
	}
	a, err := parseRoute("/[a-z]+", true)
	require.NoError(t, err)
	b, err := parseRoute("/[a-m]+", true)
	require.NoError(t, err)
	rel, _ := relate(a, b)
	assert.Equal(t, relOverlap, rel, "two constraints are never ordered")
}
