package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/catalog"
)

// TestLintShadowsAgreeWithRelate: the shadowing warnings of lint, found
// through catalog.Overlaps, are those of relating every route to every
// other of its method, in the same order: by the specific route, then the
// general one. Catalogs: the built-in ones, the transcripts' catalogs that
// parse, and random ones whose routes shadow each other in any order.
func TestLintShadowsAgreeWithRelate(t *testing.T) {
	var cats []*catalog.Catalog
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		cats = append(cats, c)
	}
	files, err := filepath.Glob("testdata/catalogs/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if c, err := catalog.Parse(f, data); err == nil {
			cats = append(cats, c)
		}
	}
	rng := rand.New(rand.NewPCG(22, 4))
	routes := []string{
		`route: "/v1/things/{id}"`, `route: "/v1/things/export"`, `route_regex: "/v1/things/\\d+"`,
		`route_regex: "/v1/.+"`, `route: "/v1/{kind}/words"`, `route: "/v1/things"`, `route: "/v1/{rest...}"`,
		`route: "/v1/things/{id}/"`, `route_regex: "/v1/things/[a-z]+[/]?"`, `route: "/v2/{id}"`,
	}
	for i := range 20 {
		var b strings.Builder
		fmt.Fprintf(&b, "service: random\nevents:\n")
		for range 12 {
			fmt.Fprintf(&b, "  - {action: random.a%d.read, method: %s, %s}\n", rng.IntN(4), []string{"GET", "PUT"}[rng.IntN(2)], routes[rng.IntN(len(routes))])
		}
		c, err := catalog.Parse(fmt.Sprint("random-", i), []byte(b.String()))
		require.NoError(t, err)
		cats = append(cats, c)
	}
	shadowed := 0
	for _, c := range cats {
		var want []string
		for i := range c.Events {
			a := &c.Events[i]
			for j := range c.Events {
				b := &c.Events[j]
				if i == j || !a.HasRoute() || !b.HasRoute() || a.Method != b.Method {
					continue
				}
				if rel, ex, err := catalog.Relate(a, b); err == nil && rel == catalog.MoreSpecific {
					want = append(want, shadowWarning(c, a, b, ex.Both))
				}
			}
		}
		assert.Equal(t, want, shadows(c), c.Source)
		shadowed += len(want)
	}
	t.Logf("%d catalogs, %d routes shadowed", len(cats), shadowed)
	assert.Greater(t, shadowed, 100)
}
