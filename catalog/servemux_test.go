package catalog

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// muxTemplates are route templates of up to three segments, without a
// trailing slash (ServeMux reads "/a/" as a prefix, the catalog as "/a/{$}"),
// in both syntaxes at once: literals, {xN}, a final {r...} and a final {$}.
func muxTemplates() []string {
	out := []string{"/{$}"}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		for _, seg := range []string{"a", "b", fmt.Sprintf("{x%d}", n), "{r...}"} {
			t := prefix + "/" + seg
			out = append(out, t)
			if seg == "{r...}" {
				continue
			}
			out = append(out, t+"/{$}")
			if n < 2 {
				grow(t, n+1)
			}
		}
	}
	grow("", 0)
	return out
}

// muxProbes are the paths the test sends: up to three segments of a, b and
// c (a segment no template names), with and without a trailing slash.
func muxProbes() []string {
	paths := []string{"/"}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		for _, seg := range []string{"a", "b", "c"} {
			p := prefix + "/" + seg
			paths = append(paths, p, p+"/")
			if n < 3 {
				grow(p, n+1)
			}
		}
	}
	grow("", 0)
	return paths
}

// muxServes tells which of the patterns' handlers ServeMux runs for each
// path ("" for none, a 404; "redirect" for a redirect that adds a trailing
// slash, which runs no handler), and whether it rejected the second pattern
// as conflicting with the first.
func muxServes(patterns []string, paths []string) (served []string, conflict bool) {
	mux := http.NewServeMux()
	for _, p := range patterns {
		func() {
			defer func() {
				if recover() != nil {
					conflict = true
				}
			}()
			mux.HandleFunc("GET "+p, func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Route", p) })
		}()
	}
	for _, path := range paths {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		route := rec.Header().Get("X-Route")
		if rec.Code/100 == 3 && rec.Header().Get("Location") == path+"/" {
			route = "redirect"
		}
		served = append(served, route)
	}
	return served, conflict
}

// TestTemplatesAgreeWithServeMux checks templates against net/http on every
// pair of muxTemplates: what each matches alone (so {r...} matches an empty
// remainder, as ServeMux's does), their relation as net/http defines it
// (computed from those matches), that the pairs ServeMux refuses to
// register together are the ones Compile rejects, and that for the others
// every path reaches the same route in both.
func TestTemplatesAgreeWithServeMux(t *testing.T) {
	templates, paths := muxTemplates(), muxProbes()
	c := &Catalog{Service: "mux", Source: "servemux_test"}
	alone := map[string][]bool{}
	for i, tmpl := range templates {
		c.Events = append(c.Events, Event{Action: fmt.Sprintf("mux.route%d.read", i), Kind: KindAPI, Method: "GET", Route: tmpl, Catalog: c})
		served, _ := muxServes([]string{tmpl}, paths)
		one := &Catalog{Service: "mux", Source: "servemux_test", Events: []Event{c.Events[i]}}
		one.Events[0].Catalog = one
		m, err := Compile(one)
		require.NoError(t, err, tmpl)
		for j, path := range paths {
			alone[tmpl] = append(alone[tmpl], served[j] == tmpl)
			assert.Equal(t, served[j] == tmpl, m.MatchPath("GET", path) != nil, "%s on %s", tmpl, path)
		}
	}
	pairs, overlapping, conflicts, redirects := 0, 0, 0, 0
	for i := range templates {
		for j := i + 1; j < len(templates); j++ {
			a, b := &c.Events[i], &c.Events[j]
			pairs++
			// net/http's relation of two patterns, from the paths each matches
			both, onlyA, onlyB := false, false, false
			for k := range paths {
				ma, mb := alone[a.Route][k], alone[b.Route][k]
				both, onlyA, onlyB = both || ma && mb, onlyA || ma && !mb, onlyB || mb && !ma
			}
			want := Overlapping
			switch {
			case !both:
				want = Disjoint
			case !onlyA && !onlyB:
				want = Same
			case !onlyA:
				want = MoreSpecific
			case !onlyB:
				want = LessSpecific
			}
			rel, ex, err := Relate(a, b)
			require.NoError(t, err)
			assert.Equal(t, want, rel, "%s ~ %s (examples %+v)", a.Route, b.Route, ex)

			if want == Disjoint {
				continue // each alone agrees, and together they cannot conflict
			}
			overlapping++
			served, conflict := muxServes([]string{a.Route, b.Route}, paths)
			pair := &Catalog{Service: "mux", Source: "servemux_test", Events: []Event{*a, *b}}
			pair.Events[0].Catalog, pair.Events[1].Catalog = pair, pair
			m, err := Compile(pair)
			if !assert.Equal(t, conflict, err != nil, "%s ~ %s: ServeMux conflict %t, Compile: %v", a.Route, b.Route, conflict, err) || conflict {
				conflicts++
				continue
			}
			for k, path := range paths {
				got := ""
				if ev := m.MatchPath("GET", path); ev != nil {
					got = ev.Route
				}
				if served[k] == "redirect" {
					redirects++
					continue
				}
				assert.Equal(t, served[k], got, "%s ~ %s on %s", a.Route, b.Route, path)
			}
		}
	}
	t.Logf("%d templates, %d pairs (%d overlap, %d conflict), %d paths, %d redirects", len(templates), pairs, overlapping, conflicts, len(paths), redirects)
	assert.Greater(t, conflicts, 0)
}
