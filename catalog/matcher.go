package catalog

// The matcher is a tree per HTTP method, built once from every API event of
// every catalog. A node has literal children, then the folding literals of
// case-insensitive catalogs (kept in lower case), then single-segment
// parameters (constrained ones before the unconstrained one), then rest edges
// that consume one or more segments, shortest first. A lookup walks the
// path's segments depth first in that order and backtracks on a dead end, so
// the first route it reaches is the most specific one that matches; Compile
// proves that for every pair of overlapping routes before it returns, and
// rejects pairs with no order. Matching allocates nothing.

import (
	"errors"
	"fmt"
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

type node struct {
	lits     literals // exact literals
	folds    literals // literals of case-insensitive catalogs, lower case
	params   []paramEdge
	rests    []restEdge
	end      *Event // the path ends here
	endSlash *Event // the path ends here with a trailing slash
	// ends and endsSlash hold, where events of several catalogs of a shared
	// Matcher (CompileShared) end here, every one of them by the index of
	// its catalog, found through a Scope; nil elsewhere.
	ends, endsSlash []*Event
	// endCat and endSlashCat are the catalog indexes of end and endSlash.
	endCat, endSlashCat int32
}

// A Scope is a set of catalogs of a shared Matcher (CompileShared): a
// lookup in it returns the most specific route among those catalogs'
// routes. It is immutable and safe for concurrent use.
type Scope struct {
	catalogs []*Catalog
	index    []int // of each catalog in the Matcher's
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

// in returns the event of the scope among the events that end at a node:
// first, or more by catalog index when there are several; first with no
// scope. The scope's catalogs were checked against each other, so at most
// one of them has an event at a node.
func (sc *Scope) in(first *Event, more []*Event) *Event {
	if sc == nil || first == nil {
		return first
	}
	if more == nil {
		for _, c := range sc.catalogs {
			if first.Catalog == c {
				return first
			}
		}
		return nil
	}
	for _, i := range sc.index {
		if ev := more[i]; ev != nil {
			return ev
		}
	}
	return nil
}

type paramEdge struct {
	constraint string
	check      func(string) bool
	child      *node
}

type restEdge struct {
	allowEmpty bool
	child      *node
}

// compiled is one API event with its parsed route.
type compiled struct {
	ev *Event
	p  pattern
	// cat is the index of the event's catalog among the Matcher's, and cats
	// their number: a shared Matcher's nodes keep their events by index.
	cat, cats int
}

// maxErrors bounds how many conflicts one Compile reports.
const maxErrors = 20

// Options say how catalogs are compiled: facts about the servers that serve
// the APIs, which are not part of the catalog files.
type Options struct {
	// CaseInsensitive names the services whose routes match paths in any
	// ASCII letter case (their literal segments and constraint regexes), for
	// servers that route that way (Express does by default).
	CaseInsensitive map[string]bool
}

// Compile checks the catalogs against each other and builds a Matcher with
// the default options. It rejects two catalogs of one service, duplicate
// method and route pairs, and routes that overlap with neither more
// specific, naming both entries and a path both match.
func Compile(catalogs ...*Catalog) (*Matcher, error) {
	return Options{}.Compile(catalogs...)
}

// CheckServices rejects two catalogs of one service, as Compile does; for
// callers that compile the catalogs in several matchers.
func CheckServices(catalogs ...*Catalog) error {
	var errs []error
	services := map[string]*Catalog{}
	for _, c := range catalogs {
		if prev := services[c.Service]; prev != nil {
			errs = append(errs, fmt.Errorf("catalogs %s and %s both describe service %q", prev.Source, c.Source, c.Service))
			continue
		}
		services[c.Service] = c
	}
	return errors.Join(errs...)
}

// Compile is the package's Compile with these options.
func (o Options) Compile(catalogs ...*Catalog) (*Matcher, error) {
	m, byMethod, errs := o.build(catalogs)
	type ordered struct {
		specific, general *Event
		example           string
	}
	var checks []ordered
	for _, method := range sortedMethods(byMethod) {
		forEachCandidatePair(byMethod[method], func(a, b compiled) {
			rel, example := relate(a.p, b.p)
			switch rel {
			case relEqual:
				errs = append(errs, fmt.Errorf("duplicate route: %s and %s match the same paths, e.g. %s %s", a.ev.Ref(), b.ev.Ref(), method, example))
			case relOverlap:
				errs = append(errs, fmt.Errorf("ambiguous routes: %s and %s both match %s %s and neither is more specific", a.ev.Ref(), b.ev.Ref(), method, example))
			case relASpecific:
				checks = append(checks, ordered{a.ev, b.ev, example})
			case relBSpecific:
				checks = append(checks, ordered{b.ev, a.ev, example})
			}
		})
	}
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors], fmt.Errorf("and %d more errors", len(errs)-maxErrors))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, c := range checks {
		if got := m.MatchPath(c.specific.Method, c.example); got != c.specific {
			return nil, fmt.Errorf("precedence: %s is more specific than %s, yet the matcher resolves %s %s to %v", c.specific.Ref(), c.general.Ref(), c.specific.Method, c.example, got)
		}
	}
	return m, nil
}

// CompileShared builds one Matcher of catalogs that are not checked
// against each other: each is checked on its own (as Compile checks it),
// and the caller checks the ones that can apply to the same record. Their
// trees are shared (identical routes share their nodes), and a lookup in a
// Scope returns the most specific route among the scope's catalogs, as a
// Matcher compiled from just those would.
func (o Options) CompileShared(catalogs ...*Catalog) (*Matcher, error) {
	errs := []error{CheckServices(catalogs...)}
	for _, c := range catalogs {
		if _, err := o.Compile(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m, _, _ := o.build(catalogs)
	return m, nil
}

// build parses the catalogs' routes and builds the trees, checking nothing
// but that each route parses.
func (o Options) build(catalogs []*Catalog) (*Matcher, map[string][]compiled, []error) {
	m := &Matcher{catalogs: catalogs, opts: o, trees: map[string]*node{}}
	var errs []error
	services := map[string]*Catalog{}
	byMethod := map[string][]compiled{}
	for ci, c := range catalogs {
		if prev := services[c.Service]; prev != nil {
			errs = append(errs, fmt.Errorf("catalogs %s and %s both describe service %q", prev.Source, c.Source, c.Service))
			continue
		}
		services[c.Service] = c
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			p, err := routeOf(ev, o.folds(ev))
			if err != nil { // Parse already rejected it; a hand-built Catalog may not have
				errs = append(errs, fmt.Errorf("%s: %w", ev.Ref(), err))
				continue
			}
			byMethod[ev.Method] = append(byMethod[ev.Method], compiled{ev: ev, p: p, cat: ci, cats: len(catalogs)})
		}
	}
	for _, method := range sortedMethods(byMethod) {
		root := &node{}
		m.trees[method] = root
		if i := methodIndex(method); i >= 0 {
			m.known[i] = root
		}
		for _, r := range byMethod[method] {
			root.insert(r)
			m.routes++
		}
	}
	return m, byMethod, errs
}

func sortedMethods(byMethod map[string][]compiled) []string {
	methods := make([]string, 0, len(byMethod))
	for method := range byMethod {
		methods = append(methods, method)
	}
	slices.Sort(methods)
	return methods
}

// forEachCandidatePair calls f for every pair of routes that may overlap,
// in catalog order. Routes are split segment by segment, like a trie: two
// routes with different literals at one position cannot overlap, so only
// routes under the same literal prefix are paired, and a route with a
// wildcard (or its end) at a position is paired with every route beside it.
func forEachCandidatePair(routes []compiled, f func(a, b compiled)) {
	order := make(map[*Event]int, len(routes))
	for i, r := range routes {
		order[r.ev] = i
	}
	var pairs [][2]int
	pairsFrom(routes, 0, func(a, b compiled) {
		i, j := order[a.ev], order[b.ev]
		pairs = append(pairs, [2]int{min(i, j), max(i, j)})
	})
	// report in catalog order, whatever the split found first
	slices.SortFunc(pairs, func(x, y [2]int) int {
		if x[0] != y[0] {
			return x[0] - y[0]
		}
		return x[1] - y[1]
	})
	for _, p := range pairs {
		f(routes[p[0]], routes[p[1]])
	}
}

func pairsFrom(routes []compiled, depth int, pair func(a, b compiled)) {
	groups := map[string][]compiled{}
	var wild []compiled
	for _, r := range routes {
		if depth < len(r.p.elems) && r.p.elems[depth].kind == elemLiteral {
			// a folding literal may match an exact one of another case
			lit := lowerASCII(r.p.elems[depth].lit)
			groups[lit] = append(groups[lit], r)
		} else {
			wild = append(wild, r)
		}
	}
	for i, a := range wild {
		for _, b := range wild[i+1:] {
			pair(a, b)
		}
	}
	lits := make([]string, 0, len(groups))
	for lit := range groups {
		lits = append(lits, lit)
	}
	slices.Sort(lits)
	for _, lit := range lits {
		group := groups[lit]
		for _, a := range group {
			for _, w := range wild {
				pair(a, w)
			}
		}
		if len(group) > 1 {
			pairsFrom(group, depth+1, pair)
		}
	}
}

// insert adds a route to the tree. A route that matches the same paths as
// one already there is left out: Compile reports the pair.
func (n *node) insert(r compiled) {
	for _, e := range r.p.elems {
		switch e.kind {
		case elemLiteral:
			if e.fold {
				n = n.folds.child(e.lit)
			} else {
				n = n.lits.child(e.lit)
			}
		case elemParam:
			i := slices.IndexFunc(n.params, func(p paramEdge) bool { return p.constraint == e.constraint })
			if i < 0 {
				// constrained params are tried before the unconstrained one
				i = len(n.params)
				if e.check != nil {
					if j := slices.IndexFunc(n.params, func(p paramEdge) bool { return p.check == nil }); j >= 0 {
						i = j
					}
				}
				n.params = slices.Insert(n.params, i, paramEdge{constraint: e.constraint, check: e.check, child: &node{}})
			}
			n = n.params[i].child
		case elemRest:
			i := slices.IndexFunc(n.rests, func(r restEdge) bool { return r.allowEmpty == e.allowEmpty })
			if i < 0 {
				// a rest that must match text is tried before one that may
				// match nothing (there is at most one of each)
				i = len(n.rests)
				if !e.allowEmpty {
					i = 0
				}
				n.rests = slices.Insert(n.rests, i, restEdge{allowEmpty: e.allowEmpty, child: &node{}})
			}
			n = n.rests[i].child
		}
	}
	if r.p.trail != trailRequired {
		n.end, n.endCat, n.ends = addEnd(n.end, n.endCat, n.ends, r)
	}
	if r.p.trail != trailNone {
		n.endSlash, n.endSlashCat, n.endsSlash = addEnd(n.endSlash, n.endSlashCat, n.endsSlash, r)
	}
}

// addEnd adds an event that ends at a node: the first one is the node's
// (Compile rejects a second one of the catalogs it checks together); when
// a shared Matcher's other catalogs end here too, more holds each
// catalog's first event by catalog index, for their Scope.
func addEnd(first *Event, firstCat int32, more []*Event, r compiled) (*Event, int32, []*Event) {
	switch {
	case first == nil:
		return r.ev, int32(r.cat), more
	case first.Catalog == r.ev.Catalog || r.cats == 0:
		return first, firstCat, more
	case more == nil:
		more = make([]*Event, r.cats)
		more[firstCat] = first
	}
	if more[r.cat] == nil {
		more[r.cat] = r.ev
	}
	return first, firstCat, more
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

// match matches what is left of the path after a "/": s holds the remaining
// segments, done says none is left. In route mode the segments are those of
// a route template, whose parameters match any parameter or rest edge.
func (n *node) match(s string, done, route bool, sc *Scope) *Event {
	if done {
		return sc.in(n.end, n.ends)
	}
	seg, next, nextDone := s, "", true
	end := strings.IndexByte(s, '/')
	if end >= 0 {
		seg, next, nextDone = s[:end], s[end+1:], false
	}
	if s == "" && n.endSlash != nil {
		if ev := sc.in(n.endSlash, n.endsSlash); ev != nil {
			return ev
		}
	}
	kind := segLiteral
	if route {
		kind = classifySegment(seg)
	}
	if kind == segLiteral {
		if child := n.lits.get(seg); child != nil {
			if ev := child.match(next, nextDone, route, sc); ev != nil {
				return ev
			}
		}
		if len(n.folds.edges) > 0 { // most nodes have none: no call then
			if child := n.folds.getFold(seg); child != nil {
				if ev := child.match(next, nextDone, route, sc); ev != nil {
					return ev
				}
			}
		}
	}
	if kind != segRest && seg != "" {
		for i := range n.params {
			p := &n.params[i]
			if kind == segLiteral && p.check != nil && !p.check(seg) {
				continue
			}
			if ev := p.child.match(next, nextDone, route, sc); ev != nil {
				return ev
			}
		}
	}
	for i := range n.rests {
		if ev := n.rests[i].match(s, end, route, sc); ev != nil {
			return ev
		}
	}
	return nil
}

// literals are a node's literal children, sorted by segment. Most nodes
// have a few, and a lookup compares them one by one: cheaper than hashing
// the segment. A node with many (the first segments of many services) also
// indexes them in a map.
type literals struct {
	edges  []litEdge
	index  map[string]*node // when there are more than maxScan edges
	maxLen int              // the longest segment
}

type litEdge struct {
	seg   string
	child *node
}

// maxScan is how many literal children a lookup compares one by one.
const maxScan = 8

// child returns the child for seg, adding it when there is none.
func (l *literals) child(seg string) *node {
	i, ok := slices.BinarySearchFunc(l.edges, seg, func(e litEdge, seg string) int { return strings.Compare(e.seg, seg) })
	if ok {
		return l.edges[i].child
	}
	child := &node{}
	l.edges = slices.Insert(l.edges, i, litEdge{seg, child})
	l.maxLen = max(l.maxLen, len(seg))
	switch {
	case l.index != nil:
		l.index[seg] = child
	case len(l.edges) > maxScan:
		l.index = make(map[string]*node, len(l.edges))
		for _, e := range l.edges {
			l.index[e.seg] = e.child
		}
	}
	return child
}

// get returns the child for seg, or nil.
func (l *literals) get(seg string) *node {
	if l.index != nil {
		return l.index[seg]
	}
	for i := range l.edges {
		if l.edges[i].seg == seg {
			return l.edges[i].child
		}
	}
	return nil
}

// getFold returns the child for seg in any ASCII case, or nil; the
// segments of l are lower case.
func (l *literals) getFold(seg string) *node {
	if len(seg) > l.maxLen {
		return nil
	}
	if l.index == nil {
		for i := range l.edges {
			if foldEqual(seg, l.edges[i].seg) {
				return l.edges[i].child
			}
		}
		return nil
	}
	var buf [64]byte
	b := buf[:0]
	if len(seg) > len(buf) {
		b = make([]byte, 0, len(seg)) // a long literal: rare, and allowed to allocate
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return l.index[string(b)]
}

// match consumes one segment, then two, and so on, trying the child after
// each. i is where the first segment of s ends, as the node found it (-1
// when it is the last).
func (r *restEdge) match(s string, i int, route bool, sc *Scope) *Event {
	for pos := 0; ; {
		consumed, next, done := s, "", true
		if i >= 0 {
			consumed, next, done = s[:pos+i], s[pos+i+1:], false
		}
		if consumed != "" || r.allowEmpty {
			// a reported {rest...} stands for the whole remainder
			if !route || done || classifySegment(lastSegment(consumed)) != segRest {
				if ev := r.child.match(next, done, route, sc); ev != nil {
					return ev
				}
			}
		}
		if done {
			return nil
		}
		pos += i + 1
		i = strings.IndexByte(s[pos:], '/')
	}
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// folds tells whether the event's routes are compiled case-insensitive.
func (o Options) folds(ev *Event) bool {
	return ev.Catalog != nil && o.CaseInsensitive[ev.Catalog.Service]
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

func (n *node) print(b *strings.Builder, depth int) {
	indent := strings.Repeat("  ", depth)
	if n.end != nil {
		fmt.Fprintf(b, "%s$ %s\n", indent, n.end.Action)
	}
	if n.endSlash != nil {
		fmt.Fprintf(b, "%s/$ %s\n", indent, n.endSlash.Action)
	}
	for _, e := range n.lits.edges {
		fmt.Fprintf(b, "%s/%s\n", indent, e.seg)
		e.child.print(b, depth+1)
	}
	for _, e := range n.folds.edges {
		fmt.Fprintf(b, "%s/(?i)%s\n", indent, e.seg)
		e.child.print(b, depth+1)
	}
	for _, p := range n.params {
		if p.check == nil {
			fmt.Fprintf(b, "%s/{}\n", indent)
		} else {
			fmt.Fprintf(b, "%s/{%s}\n", indent, p.constraint)
		}
		p.child.print(b, depth+1)
	}
	for _, r := range n.rests {
		if r.allowEmpty {
			fmt.Fprintf(b, "%s/.*\n", indent)
		} else {
			fmt.Fprintf(b, "%s/.+\n", indent)
		}
		r.child.print(b, depth+1)
	}
}
