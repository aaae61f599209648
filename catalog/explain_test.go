package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func actions(evs []*Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func TestCandidates(t *testing.T) {
	m := compileBuiltins(t)
	for _, tc := range []struct {
		method, s string
		route     bool
		want      []string
	}{
		{"PUT", "/v2/data-protect/protection-groups/7/runs", false, []string{"backup-recovery.protection-group-run.update", "backup-recovery.protection-group.update"}},
		{"PUT", "/v2/data-protect/protection-groups/7/runs/x", false, []string{"backup-recovery.protection-group.update"}},
		{"PUT", "/v2/data-protect/protection-groups/{id}/runs", true, []string{"backup-recovery.protection-group-run.update", "backup-recovery.protection-group.update"}},
		{"PUT", "v2/data-protect/protection-groups/{rest...}", true, []string{"backup-recovery.protection-group.update"}},
		{"GET", "/v1/recognitions/job-1", false, []string{"speech-to-text.async-recognition-job.read"}},
		{"GET", "/v1/recognitions", false, []string{"speech-to-text.async-recognition-job-list.read"}},
		{"DELETE", "/v2/data-protect/sources/registrations/ab", false, []string{}},
		{"DELETE", "/v2/data-protect/sources/registrations/{id}", true, []string{"backup-recovery.protection-source.deregister"}},
		{"GET", "/healthz", false, []string{}},
		{"GET", "v1/recognitions", false, []string{}},
		{"GET", "", true, []string{}},
		{"PATCH", "/v1/recognitions", false, []string{}},
	} {
		got := m.Candidates(tc.method, tc.s, tc.route)
		assert.Equal(t, tc.want, actions(got), "%s %s", tc.method, tc.s)
		// the matcher's answer is always the first candidate that is more
		// specific than every other one
		var want *Event
		if tc.route {
			want = m.MatchRoute(tc.method, tc.s)
		} else {
			want = m.MatchPath(tc.method, tc.s)
		}
		if want == nil {
			assert.Empty(t, got)
			continue
		}
		assert.Contains(t, got, want)
		for _, other := range got {
			if other == want {
				continue
			}
			rel, _, err := Relate(want, other)
			require.NoError(t, err)
			assert.Equal(t, MoreSpecific, rel, "%s vs %s", want.Action, other.Action)
		}
	}
}

// relCatalog has routes in every relation to each other.
func relCatalog(t *testing.T) *Catalog {
	return parseInline(t, "rel", `
  - {action: rel.run.update, method: PUT, route_regex: "/v1/groups/.+/runs[/]?$"}
  - {action: rel.group.update, method: PUT, route_regex: "/v1/groups/.+"}
  - {action: rel.group.read, method: GET, route: "/v1/groups/{id}"}
  - {action: rel.group.get, method: GET, route_regex: "/v1/groups/[^/]+"}
  - {action: rel.word.read, method: GET, route: "/v1/{kind}/words"}
  - {action: rel.id.read, method: GET, route_regex: "/v1/groups/\\d+"}
  - {action: rel.other.read, method: GET, route: "/v2/other"}
  - {action: rel.thing.create, kind: platform}
  - {action: rel.groups.read, method: GET, route: "/V1/GROUPS/{id}"}
`)
}

func TestRelate(t *testing.T) {
	c := relCatalog(t)
	ev := func(i int) *Event { return &c.Events[i] }
	for _, tc := range []struct {
		a, b int
		rel  Relation
		ex   Examples
	}{
		{0, 1, MoreSpecific, Examples{Both: "/v1/groups/x/runs", OnlyB: "/v1/groups/x"}},
		{1, 0, LessSpecific, Examples{Both: "/v1/groups/x/runs", OnlyA: "/v1/groups/x"}},
		{2, 3, Same, Examples{Both: "/v1/groups/x"}},
		{2, 4, Overlapping, Examples{Both: "/v1/groups/words", OnlyA: "/v1/groups/x", OnlyB: "/v1/x/words"}},
		{5, 2, MoreSpecific, Examples{Both: "/v1/groups/0", OnlyB: "/v1/groups/x"}},
		{2, 6, Disjoint, Examples{OnlyA: "/v1/groups/x", OnlyB: "/v2/other"}},
	} {
		rel, ex, err := Relate(ev(tc.a), ev(tc.b))
		require.NoError(t, err)
		assert.Equal(t, tc.rel, rel, "%s vs %s", ev(tc.a).Action, ev(tc.b).Action)
		assert.Equal(t, tc.ex, ex, "%s vs %s", ev(tc.a).Action, ev(tc.b).Action)
		assert.Equal(t, tc.rel.String(), rel.String())
	}
	_, _, err := Relate(ev(0), ev(7))
	assert.ErrorIs(t, err, ErrNoRoute)
	_, _, err = Relate(&Event{Route: "/v1/(", RouteIsRegex: true}, ev(0))
	assert.EqualError(t, err, "invalid regex: error parsing regexp: missing closing ): `/v1/(`")
}

func TestRouteHelpers(t *testing.T) {
	for s, want := range map[string]bool{
		"/v1/recognitions/{id}": true, "v1/things/:id": true, "/files/<path:p>": true,
		"/api/*": true, "/v1/{rest...}": true, "/v1/recognitions": false, "/v1/a.b": false, "/": false,
	} {
		assert.Equal(t, want, IsRouteTemplate(s), s)
	}
	assert.NoError(t, CheckRoute("/v1/{id}", false))
	assert.NoError(t, CheckRoute(`/v1/\d+[/]?$`, true))
	assert.EqualError(t, CheckRoute("v1/{id}", false), "must start with /")
	assert.EqualError(t, CheckRoute("/v1/x{id}", false), `bad wildcard in segment "x{id}": a wildcard is a whole segment`)
	assert.True(t, ValidRegionID("eu-de"))
	assert.True(t, ValidRegionID("ca-mon"))
	assert.False(t, ValidRegionID("global"))
	assert.False(t, ValidRegionID("EU-DE"))
}

// TestOverlaps: Overlaps finds what relating every two routes of one
// method finds, each pair once, with the more specific route first and
// Relate's examples for the two in that order, and in its stated order.
func TestOverlaps(t *testing.T) {
	rel := relCatalog(t)
	cats := append(builtins(t), rel)
	for _, opts := range []Options{{}, {CaseInsensitive: map[string]bool{"rel": true, "speech-to-text": true}}} {
		got, err := opts.Overlaps(cats...)
		require.NoError(t, err)
		var want []Overlap
		for _, method := range Methods {
			var evs []*Event
			for _, c := range cats {
				for i := range c.Events {
					if ev := &c.Events[i]; ev.Method == method {
						evs = append(evs, ev)
					}
				}
			}
			for i, a := range evs {
				for _, b := range evs[i+1:] {
					r, ex, err := opts.Relate(a, b)
					require.NoError(t, err)
					switch r {
					case Disjoint:
						continue
					case LessSpecific:
						r, ex, err = opts.Relate(b, a)
						require.NoError(t, err)
						a, b := b, a
						want = append(want, Overlap{a, b, r, ex})
						continue
					}
					want = append(want, Overlap{a, b, r, ex})
				}
			}
		}
		// Methods is not sorted; Overlaps goes by method name
		slices.SortStableFunc(want, func(x, y Overlap) int { return strings.Compare(x.A.Method, y.A.Method) })
		require.Equal(t, len(want), len(got))
		for i := range want {
			assert.Equal(t, want[i], got[i], "%s vs %s", want[i].A.Ref(), want[i].B.Ref())
		}
		t.Logf("%d overlaps", len(got))
		assert.GreaterOrEqual(t, len(got), 10)
	}
	bad := &Catalog{Service: "bad", Source: "hand", Events: []Event{
		{Action: "bad.x.read", Kind: KindAPI, Method: "GET", Route: "/v1/(", RouteIsRegex: true},
		{Action: "bad.y.read", Kind: KindAPI, Method: "GET", Route: "/v1/{id}"},
		{Action: "bad.z.read", Kind: KindAPI, Method: "GET", Route: "/v1/z"},
	}}
	for i := range bad.Events {
		bad.Events[i].Catalog = bad
	}
	got, err := Overlaps(bad)
	assert.EqualError(t, err, "hand (bad.x.read GET /v1/(): invalid regex: error parsing regexp: missing closing ): `/v1/(`")
	assert.Equal(t, []Overlap{{&bad.Events[2], &bad.Events[1], MoreSpecific, Examples{Both: "/v1/z", OnlyB: "/v1/x"}}}, got)
}
