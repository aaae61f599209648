package catalog

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shape is how the routes of a synthetic catalog begin; every shape
// gives each group of groupSize routes (a resource: list, item, its
// verbs, and routes more specific than others) its own literal after the
// shape's prefix.
type shape struct {
	name string
	// prefix is the template prefix of group g, and regexPrefix the same
	// as a route_regex.
	prefix, regexPrefix func(g int) string
}

var shapes = []shape{
	// every group of routes has its own first segment: the trie splits at
	// the root
	{"own", func(g int) string { return fmt.Sprintf("/svc%05d/v1", g) }, func(g int) string { return fmt.Sprintf("/svc%05d/v1", g) }},
	// every route starts with the same parameter
	{"param", func(int) string { return "/{tenant}" }, func(int) string { return "/[^/]+" }},
	// the provider's shape: a version, then an instance id, as in
	// /v1/{crn}/...; some groups also have a route with a literal in place
	// of the id (more specific than the one with the id)
	{"provider", func(int) string { return "/v1/{crn}" }, func(int) string { return "/v1/[^/]+" }},
}

var provider = shapes[2]

// groupSize is how many routes a group of a synthetic catalog has.
const groupSize = 8

// synthetic returns a catalog of n API events in the shape s. Within a
// group, the summary route is more specific than the item route, and so
// is the digits-only regex; in the provider shape every other group has a
// global route instead of the summary one, more specific than its list
// route. Every other pair is disjoint, so the catalog compiles.
func synthetic(s shape, n int) *Catalog {
	c := &Catalog{Service: "synthetic", Source: "synthetic-" + s.name, Events: make([]Event, 0, n)}
	for i := range n {
		g, k := i/groupSize, i%groupSize
		p, thing := s.prefix(g), fmt.Sprintf("thing%05d", g)
		ev := Event{Kind: KindAPI, Method: "GET", Line: i + 1}
		switch k {
		case 0:
			ev.Route = p + "/" + thing
		case 1:
			ev.Route = p + "/" + thing + "/{id}"
		case 2:
			ev.Method, ev.Route = "PUT", p+"/"+thing+"/{id}"
		case 3:
			ev.Method, ev.Route = "DELETE", p+"/"+thing+"/{id}"
		case 4:
			ev.Method, ev.Route = "POST", p+"/"+thing
		case 5:
			ev.Route = p + "/" + thing + "/{id}/status"
		case 6:
			ev.Route = p + "/" + thing + "/summary"
			if s.name == "provider" && g%2 == 1 {
				ev.Route = "/v1/global/" + thing
			}
		case 7:
			ev.Route, ev.RouteIsRegex = s.regexPrefix(g)+"/"+thing+`/\d+`, true
		}
		ev.Action = fmt.Sprintf("synthetic.%s-%d.read", thing, k)
		c.Events = append(c.Events, ev)
	}
	for i := range c.Events {
		c.Events[i].Catalog = c
	}
	return c
}

// BenchmarkCompile compiles synthetic catalogs of each shape and size.
func BenchmarkCompile(b *testing.B) {
	for _, s := range shapes {
		for _, n := range []int{1000, 10000, 50000} {
			b.Run(fmt.Sprintf("shape=%s/routes=%d", s.name, n), func(b *testing.B) {
				c := synthetic(s, n)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Compile(c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestCompileConflicts(t *testing.T) {
	// two events of one catalog (lines 5 and 6 of its file), and the error
	for _, tc := range []struct{ name, first, second, want string }{
		{"duplicate", `{action: a.thing.read, method: GET, route: "/v1/things/{id}"}`, `{action: a.thing.get, method: GET, route: "/v1/things/{thing}"}`, "duplicate route: duplicate:5 (a.thing.read GET /v1/things/{id}) and duplicate:6 (a.thing.get GET /v1/things/{thing}) match the same paths, e.g. GET /v1/things/x"},
		{"regex-duplicate", `{action: a.thing.read, method: GET, route: "/v1/things/{id}"}`, `{action: a.thing.get, method: GET, route_regex: "/v1/things/[^/]+$"}`, "duplicate route: regex-duplicate:5 (a.thing.read GET /v1/things/{id}) and regex-duplicate:6 (a.thing.get GET /v1/things/[^/]+$) match the same paths, e.g. GET /v1/things/x"},
		{"ambiguous", `{action: a.thing.read, method: GET, route: "/v1/{id}/words"}`, `{action: a.word.read, method: GET, route: "/v1/things/{word}"}`, "ambiguous routes: ambiguous:5 (a.thing.read GET /v1/{id}/words) and ambiguous:6 (a.word.read GET /v1/things/{word}) both match GET /v1/things/words and neither is more specific"},
		{"ambiguous-rests", `{action: a.thing.read, method: GET, route_regex: "/v1/.+/words"}`, `{action: a.word.read, method: GET, route_regex: "/v1/things/.+"}`, "ambiguous routes: ambiguous-rests:5 (a.thing.read GET /v1/.+/words) and ambiguous-rests:6 (a.word.read GET /v1/things/.+) both match GET /v1/things/words and neither is more specific"},
		{"regex-matching-nothing", `{action: a.thing.read, method: GET, route: "/v1/things/{x}"}`, `{action: a.none.read, method: GET, route_regex: "/v1/things/$000"}`, "precedence: regex-matching-nothing:6 (a.none.read GET /v1/things/$000) is more specific than regex-matching-nothing:5 (a.thing.read GET /v1/things/{x}), yet the matcher resolves GET /v1/things/{$000} to regex-matching-nothing:5 (a.thing.read GET /v1/things/{x}): no path was found that regex-matching-nothing:6 (a.none.read GET /v1/things/$000) matches; does a regular expression of it match no text (such as $ before text)?"},
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

// BenchmarkCompileShared compiles ten catalogs of the provider's shape with
// the same routes under ten services into one shared Matcher, as scoped
// catalogs are (each is checked on its own).
func BenchmarkCompileShared(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("shape=provider/routes=%d", n), func(b *testing.B) {
			cats := make([]*Catalog, 10)
			for i := range cats {
				cats[i] = synthetic(provider, n/len(cats))
				cats[i].Service = fmt.Sprint("synthetic", i)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Options{}).CompileShared(cats...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
