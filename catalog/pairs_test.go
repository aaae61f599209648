package catalog

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomRoutes returns n routes made of a few segments, so that many of
// them overlap: templates only (literals, parameters, a final {rest...},
// a trailing slash), or also regexes (constraints, .+ and .* anywhere, an
// optional trailing slash) and case-insensitive literals.
func randomRoutes(t *testing.T, rng *rand.Rand, n int, templatesOnly bool) []compiled {
	t.Helper()
	routes := make([]compiled, 0, n)
	for i := range n {
		var b strings.Builder
		regex := !templatesOnly && rng.IntN(2) == 0
		segs := 1 + rng.IntN(4)
		for j := range segs {
			var seg string
			switch k := rng.IntN(8); {
			case k < 4:
				seg = []string{"a", "b", "A", "ab"}[rng.IntN(4)]
			case !regex && k < 7:
				seg = "{p}"
			case !regex:
				if j < segs-1 {
					seg = "{p}"
				} else {
					seg = "{rest...}"
				}
			default:
				seg = []string{"[^/]+", `\d+`, "[a-z]+", "[ab]", ".+", ".*"}[k-4+rng.IntN(3)]
			}
			b.WriteString("/" + seg)
		}
		switch k := rng.IntN(4); {
		case k == 0 && !regex && !strings.HasSuffix(b.String(), "...}"):
			b.WriteString("/")
		case k == 0 && regex:
			b.WriteString("[/]?")
		}
		ev := &Event{Action: fmt.Sprint("r", i), Method: "GET", Route: b.String(), RouteIsRegex: regex}
		p, err := parseRoute(ev.Route, regex)
		require.NoError(t, err, ev.Route)
		if !templatesOnly && rng.IntN(3) == 0 {
			p, err = p.folded()
			require.NoError(t, err)
		}
		routes = append(routes, compiled{ev: ev, p: p})
	}
	return routes
}

// TestCandidatePairsFindEveryOverlap compares the pair walk with relating
// every two routes: every pair that overlaps is found, once and in order.
// For templates the walk is exact: it finds no other pair. With
// constraints, rests and folding literals it may find a few more (relate
// tells them disjoint).
func TestCandidatePairsFindEveryOverlap(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 2))
	overlapping, extra := 0, 0
	for set := range 80 {
		templatesOnly := set%2 == 0
		routes := randomRoutes(t, rng, 24, templatesOnly)
		found, _ := candidatePairs(routes)
		var want [][2]int32
		for i := range routes {
			for j := i + 1; j < len(routes); j++ {
				if rel, _ := relate(routes[i].p, routes[j].p); rel != relDisjoint {
					want = append(want, [2]int32{int32(i), int32(j)})
				}
			}
		}
		overlapping += len(want)
		name := func(p [2]int32) string {
			return routes[p[0]].ev.Route + " ~ " + routes[p[1]].ev.Route
		}
		got := map[[2]int32]bool{}
		for k, p := range found {
			require.Less(t, p[0], p[1], name(p))
			if k > 0 {
				require.True(t, found[k-1][0] < p[0] || found[k-1][0] == p[0] && found[k-1][1] < p[1], "in order, once: %v after %v", p, found[k-1])
			}
			got[p] = true
		}
		for _, p := range want {
			assert.True(t, got[p], "not found: %s", name(p))
		}
		if templatesOnly {
			assert.Len(t, found, len(want), "templates: only pairs that overlap")
		}
		extra += len(found) - len(want)
	}
	t.Logf("%d overlapping pairs, %d more found that relate tells disjoint", overlapping, extra)
	assert.Greater(t, overlapping, 2000)
}

// TestCandidatePairsGrowLinearly counts what the pair walk does on the
// benchmark's shapes, the issue's /repos/{owner}/{repo}/... shape, and the
// provider's with a catch-all rest beside: the pairs it finds (each one
// relate call) and the pairs of trie positions it walks grow with the
// routes, not with their square (pairing every two routes under a shared
// parameter made 218,250 pairs of 1,000 such routes).
func TestCandidatePairsGrowLinearly(t *testing.T) {
	all := append(shapes[:len(shapes):len(shapes)], shape{"repos",
		func(int) string { return "/repos/{owner}/{repo}" }, func(int) string { return "/repos/[^/]+/[^/]+" }})
	for _, s := range all {
		for _, catchAll := range []bool{false, true} {
			if catchAll && s.name != "provider" {
				continue
			}
			for _, n := range []int{1000, 4000} {
				c := synthetic(s, n)
				if catchAll {
					c.Events = append(c.Events, Event{Action: "synthetic.any.read", Kind: KindAPI, Method: "GET", Route: "/v1/.+", RouteIsRegex: true, Catalog: c})
				}
				_, byMethod, errs := Options{}.build([]*Catalog{c})
				require.Empty(t, errs)
				pairs, walked := 0, 0
				for _, routes := range byMethod {
					p, w := candidatePairs(routes)
					pairs += len(p)
					walked += w
				}
				t.Logf("%s (catch-all %t), %d routes: %d pairs, %d pairs of positions walked", s.name, catchAll, n, pairs, walked)
				// every group has two GET routes more specific than its item
				// route (and the catch-all is more general than every GET route)
				assert.GreaterOrEqual(t, pairs, n/groupSize*2, s.name)
				assert.LessOrEqual(t, pairs, n, s.name)
				assert.LessOrEqual(t, walked, 4*n, s.name)
			}
		}
	}
}
