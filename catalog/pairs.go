package catalog

import (
	"slices"
)

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
