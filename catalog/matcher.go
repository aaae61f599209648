package catalog

// The matcher is a tree per HTTP method, built once from every API event of
// every catalog. A node has literal children, then the folding literals of
// case-insensitive catalogs (kept in lower case), then single-segment
// parameters (constrained ones before the unconstrained one), then rest edges
// that consume one or more segments, shortest first. A lookup walks the
// path's segments depth first in that order and backtracks on a dead end, so
// the first route it reaches is the most specific one that matches; Compile
// proves that for every pair of overlapping routes before it returns, and
// rejects pairs with no order. It finds those pairs by walking a trie of the
// routes together with itself, so that only routes that can match a common
// path are related, never every route with every other. Matching allocates
// nothing.
//
// The files follow net/http's pattern.go and routing_tree.go: route.go
// parses a route into a pattern, relation.go relates two patterns and
// pairs.go finds the pairs to relate; compile.go checks the catalogs and
// builds the Matcher, tree.go holds a method's tree and the lookup in it,
// and scope.go the catalogs of a shared Matcher (CompileShared).

import (
	"net/http"
	"slices"
	"strings"
)

// Matcher maps an HTTP method and a path or route template to a catalog event.
// It is immutable and safe for concurrent use.
type Matcher struct {
	catalogs []*Catalog
	opts     Options
	trees    map[string]*node
	// known holds the trees of the methods of Methods, in that order: a
	// lookup finds them without hashing the method (see tree).
	known  [9]*node
	routes int
}

// NewScope returns the scope of some of the matcher's catalogs.
func (m *Matcher) NewScope(catalogs ...*Catalog) *Scope {
	sc := &Scope{catalogs: slices.Clone(catalogs)}
	for _, c := range catalogs {
		if i := slices.Index(m.catalogs, c); i >= 0 {
			sc.index = append(sc.index, i)
		}
	}
	return sc
}

// tree returns the tree of a method, or nil.
func (m *Matcher) tree(method string) *node {
	if i := methodIndex(method); i >= 0 {
		return m.known[i]
	}
	return m.trees[method] // a hand-built Catalog may use another method
}

// methodIndex returns the index of method in Methods, or -1. A switch on
// constant strings compares lengths and bytes inline, unlike a map lookup.
func methodIndex(method string) int {
	switch method {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "CONNECT":
		return 8
	}
	return -1
}

// MatchPath returns the event whose route matches the concrete path (which
// must start with "/"), or nil. The path is compared as is: callers
// canonicalise it first. A HEAD request that no HEAD route matches gets the
// GET route, as servers serve it (ServeMux, Express, Flask, Spring): the GET
// handler runs, so the GET action happens.
func (m *Matcher) MatchPath(method, path string) *Event { return m.MatchPathIn(method, path, nil) }

// MatchPathIn is MatchPath among the routes of a scope's catalogs (nil: all).
func (m *Matcher) MatchPathIn(method, path string, sc *Scope) *Event {
	if ev := m.matchPath(method, path, sc); ev != nil || method != http.MethodHead {
		return ev
	}
	return m.matchPath(http.MethodGet, path, sc)
}

func (m *Matcher) matchPath(method, path string, sc *Scope) *Event {
	root := m.tree(method)
	if root == nil || len(path) == 0 || path[0] != '/' {
		return nil
	}
	return root.match(path[1:], false, false, sc)
}

// MatchRoute returns the event whose route has the same shape as a route
// template reported by a server (any parameter syntax, see classifySegment),
// or nil. A missing leading slash is tolerated. HEAD falls back to GET as in
// MatchPath.
func (m *Matcher) MatchRoute(method, route string) *Event { return m.MatchRouteIn(method, route, nil) }

// MatchRouteIn is MatchRoute among the routes of a scope's catalogs (nil: all).
func (m *Matcher) MatchRouteIn(method, route string, sc *Scope) *Event {
	if ev := m.matchRoute(method, route, sc); ev != nil || method != http.MethodHead {
		return ev
	}
	return m.matchRoute(http.MethodGet, route, sc)
}

func (m *Matcher) matchRoute(method, route string, sc *Scope) *Event {
	root := m.tree(method)
	if root == nil || route == "" {
		return nil
	}
	if route[0] == '/' {
		route = route[1:]
	}
	// ServeMux's {$} stands for a trailing slash
	if strings.HasSuffix(route, "{$}") {
		route = route[:len(route)-3]
	}
	return root.match(route, false, true, sc)
}

// Options returns the options the matcher was compiled with.
func (m *Matcher) Options() Options { return m.opts }

// Catalogs returns the catalogs the matcher was compiled from.
func (m *Matcher) Catalogs() []*Catalog { return m.catalogs }

// Routes returns how many routes the matcher holds.
func (m *Matcher) Routes() int { return m.routes }

// String prints the trees, one line per node, for tests and debugging.
func (m *Matcher) String() string {
	var b strings.Builder
	methods := make([]string, 0, len(m.trees))
	for method := range m.trees {
		methods = append(methods, method)
	}
	slices.Sort(methods)
	for _, method := range methods {
		b.WriteString(method + "\n")
		m.trees[method].print(&b, 1)
	}
	return b.String()
}
