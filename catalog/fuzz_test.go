package catalog

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otel-audit/auditprocessor/internal/routeregexp"
)

// FuzzMatch checks that matching never panics and that a match is sound:
// the route of the event returned matches the path as the Go regular
// expression it means (routeregexp).
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
	res := map[*Event]*regexp.Regexp{}
	for _, c := range m.Catalogs() {
		for i := range c.Events {
			if ev := &c.Events[i]; ev.HasRoute() {
				// (?s): a path's segments may hold any byte, a newline too
				res[ev] = regexp.MustCompile("(?s)" + routeregexp.Of(ev.Route, ev.RouteIsRegex, false).String())
			}
		}
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		m.MatchRoute(method, path)
		if !strings.HasPrefix(path, "/") {
			return // MatchPath's callers give it a path
		}
		ev := m.MatchPath(method, path)
		if ev == nil {
			return
		}
		if ev.Method != method {
			t.Fatalf("%s %s matched %s of method %s", method, path, ev.Action, ev.Method)
		}
		if !res[ev].MatchString(path) {
			t.Fatalf("%s %q matched %s (%s), whose route does not match it", method, path, ev.Action, ev.Route)
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
