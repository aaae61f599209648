package catalog

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renamed is a copy of c under another service name: the same routes.
func renamed(t *testing.T, c *Catalog, service string) *Catalog {
	t.Helper()
	data, err := Encode(c, "")
	require.NoError(t, err)
	copied, err := Parse(service+".yaml", []byte(strings.ReplaceAll(string(data), c.Service, service)))
	require.NoError(t, err)
	return copied
}

// TestSharedAgreesWithSeparate: a lookup in a Scope of a shared Matcher
// returns what a Matcher compiled from just the scope's catalogs returns,
// for every catalog alone and for sets that compile together, on the
// routes' paths and templates and variants of them.
func TestSharedAgreesWithSeparate(t *testing.T) {
	cats := builtins(t)
	var all []*Catalog
	all = append(all, cats...)
	for _, c := range cats { // the same routes under other names
		all = append(all, renamed(t, c, c.Service+"-copy"))
	}
	shared, err := Options{}.CompileShared(all...)
	require.NoError(t, err)
	sets := [][]*Catalog{{all[0]}, {all[1]}, {all[2]}, {all[3]}, {all[0], all[1]}, {all[2], all[3]}, {all[0], all[3]}}
	rng := rand.New(rand.NewPCG(9, 9))
	var requests [][3]string // method, path or route, "route" when a template
	for ev, p := range routed(t, all) {
		path := concrete(p)
		for _, v := range []string{path, path + "/", path + "/x", strings.TrimSuffix(path, "/") + "/7/runs", "/v1/customizations/" + path[1:]} {
			for _, method := range []string{ev.Method, "GET", "HEAD"} {
				requests = append(requests, [3]string{method, v, ""})
			}
		}
		requests = append(requests, [3]string{ev.Method, template(p, syntaxes[rng.IntN(len(syntaxes))].param, true), "route"})
	}
	found := 0
	for _, set := range sets {
		separate, err := Compile(set...)
		require.NoError(t, err)
		sc := shared.NewScope(set...)
		for _, r := range requests {
			var want, got *Event
			if r[2] == "route" {
				want, got = separate.MatchRoute(r[0], r[1]), shared.MatchRouteIn(r[0], r[1], sc)
			} else {
				want, got = separate.MatchPath(r[0], r[1]), shared.MatchPathIn(r[0], r[1], sc)
			}
			require.Same(t, want, got, "%s %s in %v", r[0], r[1], set)
			if got != nil {
				found++
			}
		}
	}
	t.Logf("%d requests × %d scopes, %d matched", len(requests), len(sets), found)
	assert.Greater(t, found, 1000)
	// no scope: the first catalog's route at a shared node
	assert.Same(t, &all[1].Events[0], shared.MatchPath(all[1].Events[0].Method, concreteOf(t, &all[1].Events[0])))
}

func concreteOf(t *testing.T, ev *Event) string {
	p, err := parseRoute(ev.Route, ev.RouteIsRegex)
	require.NoError(t, err)
	return concrete(p)
}
