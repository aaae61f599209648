package catalog

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/internal/routeregexp"
)

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
