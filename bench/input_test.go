package bench

import (
	"math"
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Every derived request resolves to its own event, by path and by each
// reported route syntax; every unmatched request resolves to nothing.
func TestRequestsMatchTheirEvents(t *testing.T) {
	for _, s := range []catalogSet{builtin, {"100", 5, OwnPrefix, false}, {"100-shared", 5, SharedPrefix, false}} {
		m := matcherOf(t, s)
		matched, unmatched := Requests(catalogsOf(t, s), rand.New(rand.NewPCG(1, 2)))
		if len(matched) != m.Routes() {
			t.Errorf("%s: %d requests for %d routes", s.name, len(matched), m.Routes())
		}
		for _, r := range matched {
			if got := m.MatchPath(r.Method, r.Path); got != r.Event {
				t.Errorf("%s: %s %s matched %v, want %s", s.name, r.Method, r.Path, got, r.Event.Ref())
			}
			for _, route := range []string{r.Template, r.Express} {
				if got := m.MatchRoute(r.Method, route); got != r.Event {
					t.Errorf("%s: route %s %s matched %v, want %s", s.name, r.Method, route, got, r.Event.Ref())
				}
			}
		}
		for _, r := range unmatched {
			if got := m.MatchPath(r.Method, r.Path); got != nil {
				t.Errorf("%s: unmatched request %s %s matched %s", s.name, r.Method, r.Path, got.Ref())
			}
		}
	}
}

// A batch has the stated shape: 1,000 SERVER spans, about 20% unmatched,
// every flavor, statuses of every class.
func TestTracesShape(t *testing.T) {
	m := matcherOf(t, builtin)
	td := NewInput(catalogsOf(t, builtin), seed).Traces(RecordsPerBatch, resourcesPerBatch)
	if n := td.SpanCount(); n != RecordsPerBatch {
		t.Fatalf("%d spans", n)
	}
	reqs := matchRequests(td)
	var unmatched int
	classes := map[int64]int{}
	rss := td.ResourceSpans()
	k := 0
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			s := spans.At(j)
			if s.Kind() != ptrace.SpanKindServer {
				t.Fatalf("span kind %v", s.Kind())
			}
			if n := s.Attributes().Len(); n < 9 || n > 14 {
				t.Errorf("span with %d attributes", n)
			}
			code, ok := s.Attributes().Get("http.response.status_code")
			if !ok {
				code, _ = s.Attributes().Get("http.status_code")
			}
			classes[code.Int()/100]++
			if m.MatchPath(reqs[k].method, reqs[k].path) == nil {
				unmatched++
			}
			k++
		}
	}
	if share := float64(unmatched) / RecordsPerBatch; math.Abs(share-UnmatchedShare) > 0.04 {
		t.Errorf("unmatched share %.3f, want about %.2f", share, UnmatchedShare)
	}
	for _, c := range []int64{2, 4, 5} {
		if classes[c] == 0 {
			t.Errorf("no %dxx status", c)
		}
	}
}
