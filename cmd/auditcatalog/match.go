package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

// runMatch tells which event a method and a path (or a route template a
// server reports) match, the routes it was preferred to and why, or why
// nothing matches.
func runMatch(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("match", "[flags] METHOD PATH_OR_ROUTE")
	var cf catalogFlags
	cf.register(fs)
	asRoute := fs.Bool("route", false, "read the argument as a route template even without parameters")
	asPath := fs.Bool("path", false, "read the argument as a concrete path even if it looks like a template")
	service := fs.String("service", "", "the service.name of the record, for catalogs scoped by services.NAME.service_names")
	host := fs.String("host", "", "the server's host of the record, for catalogs scoped by services.NAME.hosts")
	status := fs.Int("status", 0, "the response status of the record (405, or 404 with an empty route, is a refusal; HEAD is the GET action with a route, or with a 2xx/3xx status)")
	pos, ok := parseFlags(fs, args, 2, stderr)
	if !ok {
		return exitUsage
	}
	a, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog match: %v\n", err)
		return exitFail
	}
	method, target := pos[0], pos[1]
	route := *asRoute || (!*asPath && !strings.Contains(target, "://") && catalog.IsRouteTemplate(target))
	w := &matchWriter{out: stdout, a: a, m: a.Matcher(), service: *service, host: *host, status: *status}
	if w.explain(method, target, route) {
		return exitOK
	}
	return exitFail
}

type matchWriter struct {
	out           io.Writer
	a             *audit.Auditor
	m             *catalog.Matcher
	service, host string
	status        int
}

func (w *matchWriter) printf(format string, args ...any) { fmt.Fprintf(w.out, format, args...) }

func where2(ev *catalog.Event) string {
	return fmt.Sprintf("%s:%d", ev.Catalog.Source, ev.Line)
}

// explain resolves the request as the processor resolves a record that
// carries it (audit.Auditor.MatchRequest), then says why.
func (w *matchWriter) explain(method, target string, route bool) bool {
	res := w.a.MatchRequest(method, target, route, w.service, w.host, w.status)
	switch {
	case res.Matcher != nil && res.Matcher != w.a.Matcher():
		// decided by the scoped catalogs: explain with those that applied,
		// not every scoped one
		if own, err := w.a.Matcher().Options().Compile(w.a.ScopedFor(w.service, w.host)...); err == nil {
			w.m = own
		} else {
			w.m = res.Matcher
		}
	case res.Matcher != nil:
		w.m = res.Matcher
	}
	kind := "path"
	if route {
		kind = "route template: its parameters stand for any parameter or wildcard of a catalog route"
	}
	w.printf("%s %s (%s)\n", method, target, kind)
	switch res.Result {
	case audit.Malformed:
		w.printf("malformed: the processor passes such a record through unaudited and counts it in records_malformed\n")
		return false
	case audit.Refused:
		why := fmt.Sprintf("status %d", res.Request.Status)
		if res.Request.Status != http.StatusMethodNotAllowed {
			why += " with an empty route"
		}
		w.printf("refused: %s says the router refused the request and no handler ran; the processor passes such a record through untagged and counts it in records_refused\n", why)
		return false
	}
	if !route {
		if res.Request.RawPath != target {
			w.printf("path: %s\n", res.Request.RawPath)
		}
		if res.Request.Path != res.Request.RawPath {
			w.printf("cleaned to %s (as the processor canonicalises paths, like net/http.ServeMux)\n", res.Request.Path)
		}
		target = res.Request.Path
	}
	if res.Unselected {
		w.printf("no scoped catalog selects service.name %q, host %q: the unscoped catalogs only\n", w.service, w.host)
	}
	ev := res.Event
	if ev == nil {
		w.noMatch(method, target, route, &res.Request)
		return false
	}
	cands := w.m.Candidates(method, target, route)
	if len(cands) == 0 && method == "HEAD" {
		cands = w.m.Candidates("GET", target, route)
		w.printf("no HEAD route matches: the GET handler ran, as the %s shows, so it is the GET action\n", headEvidence(route, w.status))
	}
	w.printf("match: %s\n", ev.Action)
	w.printf("  route:   %s %s (%s)\n", ev.Method, ev.Route, where2(ev))
	if ev.Description != "" {
		w.printf("  event:   %s\n", ev.Description)
	}
	w.printf("  regions: %s\n", w.regionsLine(ev.Catalog))
	others := slices.DeleteFunc(slices.Clone(cands), func(c *catalog.Event) bool { return c == ev })
	if len(others) == 0 {
		w.printf("why: it is the only %s route that matches\n", ev.Method)
		return true
	}
	w.printf("why: the most specific of the %d %s routes that match; it beat:\n", len(cands), ev.Method)
	for _, o := range others {
		w.printf("  %s %s (%s, %s)\n", o.Method, o.Route, o.Action, where2(o))
		rel, ex, err := w.m.Options().Relate(ev, o)
		if err == nil && rel == catalog.MoreSpecific {
			w.printf("    more specific: every path %s matches, %s matches too, and also %s\n", ev.Route, o.Route, ex.OnlyB)
		} else {
			w.printf("    the template fits both; the tree tries literals, then constrained parameters, then parameters, then wildcards, and took the first\n")
		}
	}
	return true
}

func (w *matchWriter) regionsLine(c *catalog.Catalog) string {
	every, ids := w.a.SendsFrom(c)
	if every {
		return fmt.Sprintf("%s states no regions: it sends events from every region unless services.%s.regions says otherwise", c.Service, c.Service)
	}
	if len(ids) == 0 {
		return fmt.Sprintf("%s sends events from no region: the record is dropped unless services.%s.regions adds its region", c.Service, c.Service)
	}
	return fmt.Sprintf("%s sends events from %s; records from other regions are dropped", c.Service, strings.Join(ids, ", "))
}

// noMatch says why nothing matched: no route for the method, a route of
// another method, a trailing slash, the longest prefix that has a route.
func (w *matchWriter) noMatch(method, target string, route bool, req *audit.Request) {
	w.printf("no match\n")
	n := 0
	for _, c := range w.m.Catalogs() {
		for _, ev := range c.Events {
			if ev.Method == method && ev.HasRoute() {
				n++
			}
		}
	}
	if n == 0 {
		w.printf("  no catalog has a %s route\n", method)
	} else {
		w.printf("  none of the %d %s routes matches\n", n, method)
	}
	for _, other := range catalog.Methods {
		if other == method {
			continue
		}
		for _, ev := range w.m.Candidates(other, target, route) {
			w.printf("  with %s instead: %s %s (%s, %s)\n", other, ev.Method, ev.Route, ev.Action, where2(ev))
		}
	}
	if !route && target != "/" && strings.HasPrefix(target, "/") {
		toggled := target + "/"
		if strings.HasSuffix(target, "/") {
			toggled = strings.TrimSuffix(target, "/")
		}
		if ev := w.matchPathOf(method, toggled); ev != nil {
			w.printf("  %s matches %s (%s): paths are compared as they are, trailing slash included\n", toggled, ev.Action, ev.Route)
		}
		for p := parentPath(target); p != ""; p = parentPath(p) {
			if ev := w.matchPathOf(method, p); ev != nil {
				w.printf("  the longest prefix with a %s route: %s (%s, %s); nothing below it matches\n", method, p, ev.Action, ev.Route)
				break
			}
		}
	}
	if up := strings.ToUpper(method); up != method && slices.Contains(catalog.Methods, up) {
		w.printf("  methods are compared as they are, as ServeMux compares them: %s is not %s\n", method, up)
	}
	if method == "HEAD" && !req.HeadServedByGet() && len(w.m.Candidates("GET", target, route)) > 0 {
		w.printf("  HEAD is the GET action only where the record shows that a GET handler ran: a route, or a 2xx/3xx status without one (--status)\n")
	}
	if route {
		w.printf("  the processor then tries the record's path (url.path, http.target, url.full)\n")
	}
}

// headEvidence names what shows that a GET handler served a HEAD request.
func headEvidence(route bool, status int) string {
	if route {
		return "route"
	}
	return fmt.Sprintf("status %d", status)
}

// matchPathOf is the route of the method itself that matches path: not
// the GET route the matcher finds for HEAD, which noMatch names apart.
func (w *matchWriter) matchPathOf(method, path string) *catalog.Event {
	if ev := w.m.MatchPath(method, path); ev != nil && ev.Method == method {
		return ev
	}
	return nil
}

// parentPath cuts the last segment: /a/b/c is /a/b; / has none.
func parentPath(p string) string {
	p = strings.TrimSuffix(p, "/")
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return ""
	}
	return p[:i]
}
