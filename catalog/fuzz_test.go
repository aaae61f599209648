package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzMatch checks that matching never panics and that a match is sound:
// the route of the event returned matches the path by the definition of
// the pattern (its automaton).
func FuzzMatch(f *testing.F) {
	m := compileBuiltins(f)
	for _, s := range [][2]string{
		{"PUT", "/v2/data-protect/protection-groups/7/runs"},
		{"POST", "/v2/data-protect/protection-groups/7/runs/actions/"},
		{"GET", "/v1/customizations/a/words/b"},
		{"DELETE", "/v2/data-protect/sources/registrations/12"},
		{"GET", "/v1/customizations/{id}/words/:word"},
		{"GET", "//\xff/../%2F"},
	} {
		f.Add(s[0], s[1])
	}
	patterns := map[*Event]pattern{}
	for _, c := range m.Catalogs() {
		for i := range c.Events {
			if ev := &c.Events[i]; ev.HasRoute() {
				patterns[ev], _ = parseRoute(ev.Route, ev.RouteIsRegex)
			}
		}
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		m.MatchRoute(method, path)
		ev := m.MatchPath(method, path)
		if ev == nil {
			return
		}
		if ev.Method != method {
			t.Fatalf("%s %s matched %s of method %s", method, path, ev.Action, ev.Method)
		}
		a := automaton{patterns[ev]}
		st := a.closure(a.start())
		for _, seg := range strings.Split(path[1:], "/") {
			st = a.step(st, symbol{text: seg})
		}
		if !a.accepts(st) {
			t.Fatalf("%s %s matched %s (%s), whose route does not match it", method, path, ev.Action, ev.Route)
		}
	})
}

// FuzzParseCompile checks that loading any catalog text never panics, that
// a catalog that loads compiles or fails with an error, and that Encode
// writes it so that Parse reads it back the same.
func FuzzParseCompile(f *testing.F) {
	// small catalogs: the fuzzer mutates them far faster than the built-in ones
	f.Add([]byte("service: b\nregions: [{id: us-south, sends_events: false}]\nevents:\n  - {action: b.g.update, method: PUT, route_regex: '/v2/g/.+'}\n  - {action: b.r.update, method: PUT, route_regex: '/v2/g/.+/runs[/]?$'}\n  - {action: b.s.read, method: PUT, route: '/v2/g/states'}\n  - {action: b.p.create, kind: platform}\n"))
	f.Add([]byte("service: a\nregions: [{id: eu-de, sends_events: true}]\nevents:\n  - {action: a.b.c, method: GET, route_regex: '/x/(.+/[a-z]*)?/\\d+[/]?$'}\n"))
	f.Add([]byte("service: a\nregions: [{id: eu-de, sends_events: true}]\nevents:\n  - {action: a.b.c, method: GET, route: '/x/{a...}'}\n  - {action: a.b.d, method: GET, route_regex: '/x/.*'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := Parse("fuzz", data)
			if err != nil {
				return
			}
			if m, err := Compile(c); err == nil {
				m.MatchPath("GET", "/x/y")
			}
			enc, err := Encode(c, "")
			if err != nil {
				t.Errorf("Encode: %v", err)
				return
			}
			back, err := Parse("fuzz", enc)
			if err != nil {
				t.Errorf("Parse(Encode(c)): %v\n%s", err, enc)
				return
			}
			if !reflect.DeepEqual(withoutLines(c), withoutLines(back)) {
				t.Errorf("Parse(Encode(c)) is not c: from %q\nencoded\n%s", data, enc)
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("loading took more than 5s: %q", data)
		}
	})
}
