package catalog

// Candidate pairs: the routes of one method that can match a common path,
// found without pairing every route with every other. The routes go into a
// trie of their elements (pairTrie), and the trie is walked together with
// itself, starting from its root paired with itself. From two positions
// the walk goes on along every two edges that accept a common segment: the
// same literal (in any case when either folds), a literal and a parameter
// that accepts it, two parameters, and a rest, which takes any segment,
// with any edge; and it leaves a rest for what follows it. Where both
// positions end routes, those routes can match a common path, and only
// they are related (relate): what two constraints both accept, and whether
// a rest that must match text can stop after an empty segment, are left to
// relate, so a few pairs it finds disjoint may come up. Each pair of
// positions is walked once: the work grows with the pairs of trie nodes a
// path can reach together (for the provider's shapes, about the number of
// routes), not with the square of the routes. That number is quadratic
// where a rest follows a shared prefix in many routes and parameters follow
// it in many others (/v1/.+/thingN/\d+ beside /v1/{crn}/thingN/{id}: each
// thingN after the rest meets each {id}); such routes are mostly ambiguous
// with each other, and Compile rejects them.

import (
	"cmp"
	"slices"
)

// forEachOverlap calls f for every two routes that match a common path,
// with how a relates to b and a path both match (relate), in catalog order:
// by the index of a, then of b, a before b.
func forEachOverlap(routes []compiled, f func(a, b compiled, rel relation, example string)) {
	pairs, _ := candidatePairs(routes)
	for _, p := range pairs {
		a, b := routes[p[0]], routes[p[1]]
		if rel, example := relate(a.p, b.p); rel != relDisjoint {
			f(a, b, rel, example)
		}
	}
}

// candidatePairs returns, by index and sorted, the pairs of routes that
// the pair walk finds, and how many pairs of positions it walked.
func candidatePairs(routes []compiled) (pairs [][2]int32, walked int) {
	w := pairWalk{t: newPairTrie(routes), seen: map[uint64]struct{}{}}
	w.visit(0, 0)
	for len(w.todo) > 0 {
		s := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		walked++
		w.pairEnds(s[0], s[1])
		w.step(s[0], s[1])
	}
	slices.SortFunc(w.pairs, func(x, y [2]int32) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	})
	return slices.Compact(w.pairs), walked
}

// pairTrie is the trie of one method's routes. Its positions are nodes,
// between two segments, and rest positions, inside a rest element after
// one or more segments; position 0 is the root. A position's edges and
// ends are lists in links, so that a trie allocates a few slices, not a
// few per node.
type pairTrie struct {
	pos   []pairPos
	links []pairLink // links[0] is unused: 0 ends a list
	// edges finds a literal edge by where it starts, its segment and
	// whether it folds.
	edges map[pairKey]int32
	// lower finds the exact literal edges of a position by their segment in
	// lower case; only built when some literal folds.
	lower map[pairKey][]int32
}

type pairKey struct {
	from int32
	seg  string
	fold bool
}

type pairPos struct {
	// lits and folds list the literal edges, exact and folding, and nlits
	// and nfolds count them; a trailing slash is the exact literal "" (no
	// literal is empty otherwise).
	lits, folds   int32
	nlits, nfolds int32
	// params lists the parameter edges, one per constraint.
	params int32
	// ends lists the routes that end here.
	ends int32
	// rest is the rest position entered from this node; 0 for none. Rests
	// that may and that may not match an empty segment share it.
	rest int32
	// exit is, for a rest position, the node after the rest; 0 for a node.
	exit int32
}

// pairLink is an element of a list: an edge to the position to, or a
// route (its index in to) that ends at the position.
type pairLink struct {
	// seg is a literal edge's segment, or a parameter edge's constraint.
	seg string
	// check tests a constrained parameter's segment; nil for any.
	check func(string) bool
	to    int32
	next  int32
}

func newPairTrie(routes []compiled) *pairTrie {
	t := &pairTrie{pos: make([]pairPos, 1, len(routes)+1), links: make([]pairLink, 1, 2*len(routes)+1), edges: make(map[pairKey]int32, len(routes))}
	folds := false
	for i, r := range routes {
		at := int32(0)
		for _, e := range r.p.elems {
			switch e.kind {
			case elemLiteral:
				at = t.literal(at, e.lit, e.fold)
				folds = folds || e.fold
			case elemParam:
				at = t.param(at, e)
			case elemRest:
				if t.pos[at].rest == 0 {
					rest, exit := t.add(), t.add()
					t.pos[rest].exit = exit
					t.pos[at].rest = rest
				}
				at = t.pos[t.pos[at].rest].exit
			}
		}
		if r.p.trail != trailRequired {
			t.pos[at].ends = t.link(t.pos[at].ends, pairLink{to: int32(i)})
		}
		if r.p.trail != trailNone {
			slash := t.literal(at, "", false)
			t.pos[slash].ends = t.link(t.pos[slash].ends, pairLink{to: int32(i)})
		}
	}
	if folds {
		t.lower = map[pairKey][]int32{}
		for k, to := range t.edges {
			if !k.fold {
				lk := pairKey{k.from, lowerASCII(k.seg), false}
				t.lower[lk] = append(t.lower[lk], to)
			}
		}
	}
	return t
}

func (t *pairTrie) add() int32 {
	t.pos = append(t.pos, pairPos{})
	return int32(len(t.pos) - 1)
}

// link puts l in front of the list that starts at head and returns the
// list's new head.
func (t *pairTrie) link(head int32, l pairLink) int32 {
	l.next = head
	t.links = append(t.links, l)
	return int32(len(t.links) - 1)
}

// literal returns the position after a literal edge, adding it when new.
func (t *pairTrie) literal(from int32, seg string, fold bool) int32 {
	k := pairKey{from, seg, fold}
	if to, ok := t.edges[k]; ok {
		return to
	}
	to := t.add()
	t.edges[k] = to
	p := &t.pos[from]
	if fold {
		p.folds = t.link(p.folds, pairLink{seg: seg, to: to})
		p.nfolds++
	} else {
		p.lits = t.link(p.lits, pairLink{seg: seg, to: to})
		p.nlits++
	}
	return to
}

// param returns the position after a parameter edge, adding it when new.
func (t *pairTrie) param(from int32, e elem) int32 {
	for l := t.pos[from].params; l != 0; l = t.links[l].next {
		if t.links[l].seg == e.constraint {
			return t.links[l].to
		}
	}
	to := t.add()
	t.pos[from].params = t.link(t.pos[from].params, pairLink{seg: e.constraint, check: e.check, to: to})
	return to
}

// pairWalk walks pairs of positions of a trie that a path reaches together.
type pairWalk struct {
	t     *pairTrie
	seen  map[uint64]struct{} // the pairs of positions queued, smaller first
	todo  [][2]int32
	pairs [][2]int32
}

// visit queues a pair of positions unless it was queued before; the walk
// is symmetric, so (x, y) stands for (y, x) too.
func (w *pairWalk) visit(x, y int32) {
	if x > y {
		x, y = y, x
	}
	k := uint64(x)<<32 | uint64(y)
	if _, ok := w.seen[k]; ok {
		return
	}
	w.seen[k] = struct{}{}
	w.todo = append(w.todo, [2]int32{x, y})
}

// pairEnds adds the pairs of routes that end at x and at y.
func (w *pairWalk) pairEnds(x, y int32) {
	links := w.t.links
	for i := w.t.pos[x].ends; i != 0; i = links[i].next {
		j := w.t.pos[y].ends
		if x == y {
			j = links[i].next // each pair of the position's routes once
		}
		for ; j != 0; j = links[j].next {
			// a route with an optional trailing slash ends at two positions
			if a, b := links[i].to, links[j].to; a != b {
				w.pairs = append(w.pairs, [2]int32{min(a, b), max(a, b)})
			}
		}
	}
}

// step visits the pairs of positions reached from x and y: by leaving a
// rest, or by one segment that both accept.
func (w *pairWalk) step(x, y int32) {
	px, py := &w.t.pos[x], &w.t.pos[y]
	if px.exit != 0 || py.exit != 0 {
		// a rest position takes any segment and stays, or is left
		if px.exit != 0 {
			w.visit(px.exit, y)
			w.anyWith(x, y)
		}
		if py.exit != 0 {
			w.visit(x, py.exit)
			w.anyWith(y, x)
		}
		return
	}
	if px.rest != 0 {
		w.anyWith(px.rest, y)
	}
	if py.rest != 0 {
		w.anyWith(py.rest, x)
	}
	w.sameLiterals(x, y, false)
	w.sameLiterals(x, y, true)
	w.foldedLiterals(x, y)
	w.foldedLiterals(y, x)
	w.literalsParams(x, y)
	w.literalsParams(y, x)
	links := w.t.links
	for a := px.params; a != 0; a = links[a].next {
		for b := py.params; b != 0; b = links[b].next {
			w.visit(links[a].to, links[b].to) // what two constraints both accept is relate's to tell
		}
	}
}

// anyWith visits the rest position r with each position y goes to by one
// segment. A rest position y stays where it is: that pair is r's own.
func (w *pairWalk) anyWith(r, y int32) {
	py := &w.t.pos[y]
	if py.exit != 0 {
		return
	}
	links := w.t.links
	for _, l := range [...]int32{py.lits, py.folds, py.params} {
		for ; l != 0; l = links[l].next {
			w.visit(r, links[l].to)
		}
	}
	if py.rest != 0 {
		w.visit(r, py.rest)
	}
}

// sameLiterals visits the children of x and y by the same literal, exact
// or folding: it looks up each literal of the node with fewer in the
// other.
func (w *pairWalk) sameLiterals(x, y int32, fold bool) {
	lits := func(p *pairPos) (int32, int32) {
		if fold {
			return p.folds, p.nfolds
		}
		return p.lits, p.nlits
	}
	lx, nx := lits(&w.t.pos[x])
	ly, ny := lits(&w.t.pos[y])
	links := w.t.links
	if x == y {
		for ; lx != 0; lx = links[lx].next {
			w.visit(links[lx].to, links[lx].to)
		}
		return
	}
	if nx > ny {
		lx, y = ly, x
	}
	for ; lx != 0; lx = links[lx].next {
		if to, ok := w.t.edges[pairKey{y, links[lx].seg, fold}]; ok {
			w.visit(links[lx].to, to)
		}
	}
}

// foldedLiterals visits the children of x by an exact literal with those
// of y by the folding literal of the same letters.
func (w *pairWalk) foldedLiterals(x, y int32) {
	px, py := &w.t.pos[x], &w.t.pos[y]
	if px.nlits == 0 || py.nfolds == 0 {
		return
	}
	links := w.t.links
	if py.nfolds <= px.nlits {
		for f := py.folds; f != 0; f = links[f].next {
			for _, to := range w.t.lower[pairKey{x, links[f].seg, false}] {
				w.visit(to, links[f].to)
			}
		}
		return
	}
	for e := px.lits; e != 0; e = links[e].next {
		if to, ok := w.t.edges[pairKey{y, lowerASCII(links[e].seg), true}]; ok {
			w.visit(links[e].to, to)
		}
	}
}

// literalsParams visits the children of x by a literal with those of y by
// a parameter that accepts it. A folding literal stands for its case
// variants: any constraint may accept one of them.
func (w *pairWalk) literalsParams(x, y int32) {
	px, py := &w.t.pos[x], &w.t.pos[y]
	links := w.t.links
	for p := py.params; p != 0; p = links[p].next {
		check, to := links[p].check, links[p].to
		for e := px.lits; e != 0; e = links[e].next {
			if seg := links[e].seg; seg != "" && (check == nil || check(seg)) {
				w.visit(links[e].to, to)
			}
		}
		for e := px.folds; e != 0; e = links[e].next {
			w.visit(links[e].to, to)
		}
	}
}
