package catalog

// A method's tree and the lookup in it (the design is at the top of
// matcher.go): nodes with their literal, parameter and rest edges, how a
// route is inserted, how a path or a route template is matched, and how
// the tree prints.

import (
	"fmt"
	"slices"
	"strings"
)

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

type paramEdge struct {
	constraint string
	check      func(string) bool
	child      *node
}

type restEdge struct {
	allowEmpty bool
	child      *node
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
