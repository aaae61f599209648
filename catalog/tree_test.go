package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
