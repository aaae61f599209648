package catalog

import "strings"

// Precedence is a relation between two routes, decided once at load time:
// route A is more specific than route B when every path A matches, B matches
// too, and B matches some path A does not (as Go's net/http ServeMux defines
// it). Two routes of one method must be disjoint, or one must be more
// specific than the other; routes that match the same paths, or overlap with
// neither more specific, are rejected with an example path.
//
// The relation is computed exactly on the segment structure of the two
// patterns: each is a small automaton over path segments, and a breadth-first
// walk of their product finds a path both match, one only A matches and one
// only B matches. The segment alphabet is every literal of the two patterns,
// the empty segment, a fresh segment no literal equals, and for each
// constrained segment a sample it accepts plus a symbol that stands for the
// rest of its language (so two different constraints at one position never
// look ordered: they are reported as ambiguous).

type relation uint8

const (
	relDisjoint  relation = iota
	relEqual              // both match the same paths
	relASpecific          // A is more specific than B
	relBSpecific          // B is more specific than A
	relOverlap            // they overlap and neither is more specific
)

// symbol is one letter of the segment alphabet.
type symbol struct {
	text string
	// only, when set, makes the symbol stand for strings that only this
	// constraint (and unconstrained params) accept.
	only string
}

func (s symbol) example() string {
	if s.only != "" && s.text == "" { // a constraint with no sample
		return "{" + s.only + "}"
	}
	return s.text
}

// stateSet is a set of automaton states; a pattern has at most 3*maxElems+2.
type stateSet [2]uint64

func (s *stateSet) add(i int)     { s[i/64] |= 1 << (i % 64) }
func (s stateSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s stateSet) empty() bool    { return s[0] == 0 && s[1] == 0 }
func (s stateSet) union(o stateSet) stateSet {
	return stateSet{s[0] | o[0], s[1] | o[1]}
}

// automaton states of a pattern with n elements:
// 0..n     positions (n: all elements matched)
// n+1      after the final trailing slash
// n+2+2i   inside the rest element i, having matched text
// n+3+2i   inside the rest element i, having matched one empty segment
type automaton struct{ p pattern }

func (a automaton) n() int               { return len(a.p.elems) }
func (a automaton) slashState() int      { return a.n() + 1 }
func (a automaton) restState(i int) int  { return a.n() + 2 + 2*i }
func (a automaton) emptyState(i int) int { return a.n() + 3 + 2*i }

func (a automaton) start() stateSet {
	var s stateSet
	s.add(0)
	return s
}

// closure adds the free move out of every rest state.
func (a automaton) closure(s stateSet) stateSet {
	for i, e := range a.p.elems {
		if e.kind == elemRest && s.has(a.restState(i)) {
			s.add(i + 1)
		}
	}
	return s
}

func (a automaton) accepts(s stateSet) bool {
	return s.has(a.slashState()) || (a.p.trail != trailRequired && s.has(a.n()))
}

func (a automaton) step(s stateSet, sym symbol) stateSet {
	var out stateSet
	empty := sym.text == "" && sym.only == ""
	for i, e := range a.p.elems {
		if s.has(i) {
			switch e.kind {
			case elemLiteral:
				if sym.only == "" && (sym.text == e.lit || e.fold && foldEqual(sym.text, e.lit)) {
					out.add(i + 1)
				}
			case elemParam:
				if !empty && paramAccepts(e, sym) {
					out.add(i + 1)
				}
			case elemRest:
				if empty && !e.allowEmpty {
					out.add(a.emptyState(i))
				} else {
					out.add(a.restState(i))
				}
			}
		}
		if e.kind == elemRest && (s.has(a.restState(i)) || s.has(a.emptyState(i))) {
			out.add(a.restState(i))
		}
	}
	if empty && s.has(a.n()) && a.p.trail != trailNone {
		out.add(a.slashState())
	}
	return a.closure(out)
}

func paramAccepts(e elem, sym symbol) bool {
	if e.check == nil {
		return true
	}
	if sym.only != "" {
		return sym.only == e.constraint
	}
	return e.check(sym.text)
}

func alphabet(a, b pattern) []symbol {
	seen := map[string]bool{"": true}
	exact := map[string]bool{}
	var folds []string
	var lits []symbol
	var constraints []elem
	for _, p := range []pattern{a, b} {
		for _, e := range p.elems {
			switch {
			case e.kind == elemLiteral:
				if e.fold {
					folds = append(folds, e.lit)
				} else {
					exact[e.lit] = true
				}
				if !seen[e.lit] {
					seen[e.lit] = true
					lits = append(lits, symbol{text: e.lit})
				}
			case e.kind == elemParam && e.check != nil:
				constraints = append(constraints, e)
			}
		}
	}
	// A folding literal also stands for its case variants that no exact
	// literal equals; when its lower-case form is itself an exact literal,
	// another variant represents them.
	for _, f := range folds {
		if exact[f] {
			if v, ok := caseVariant(f, seen); ok {
				seen[v] = true
				lits = append(lits, symbol{text: v})
			}
		}
	}
	fresh := "x"
	for seen[fresh] {
		fresh += "x"
	}
	// the fresh segment comes first so that examples show it for parameters
	syms := append([]symbol{{text: ""}, {text: fresh}}, lits...)
	for _, c := range constraints {
		s := sample(c)
		if s != "" && !seen[s] {
			seen[s] = true
			syms = append(syms, symbol{text: s})
		}
		// the text only serves as an example; only decides what accepts it
		syms = append(syms, symbol{text: s, only: c.constraint})
	}
	return syms
}

// caseVariant returns a spelling of the lower-case literal f, with some
// letters upper-cased, that is not in taken; there is none when every
// variant is (a literal of few letters whose every spelling is a literal).
func caseVariant(f string, taken map[string]bool) (string, bool) {
	var letters []int
	for i := 0; i < len(f); i++ {
		if 'a' <= f[i] && f[i] <= 'z' {
			letters = append(letters, i)
		}
	}
	// two patterns hold at most 2*maxElems literals, fewer than 2^8 spellings
	limit := 1 << min(len(letters), 8)
	for mask := 1; mask < limit; mask++ {
		b := []byte(f)
		for j, i := range letters {
			if mask&(1<<j) != 0 {
				b[i] -= 'a' - 'A'
			}
		}
		if !taken[string(b)] {
			return string(b), true
		}
	}
	return "", false
}

type productState struct{ a, b stateSet }

// relate decides how two patterns relate, with an example path both match
// (for relEqual, relOverlap and the specific cases) when there is one.
func relate(pa, pb pattern) (rel relation, example string) {
	ex := examples(pa, pb)
	switch {
	case ex.Both == "":
		return relDisjoint, ""
	case ex.OnlyA == "" && ex.OnlyB == "":
		return relEqual, ex.Both
	case ex.OnlyA == "":
		return relASpecific, ex.Both
	case ex.OnlyB == "":
		return relBSpecific, ex.Both
	}
	return relOverlap, ex.Both
}

// examples walks the product of the two routes' automata breadth first and
// returns a shortest path for each of: both accept, only a accepts, only b
// accepts ("" where there is none).
func examples(pa, pb pattern) Examples {
	A, B := automaton{pa}, automaton{pb}
	syms := alphabet(pa, pb)
	type visit struct {
		st     productState
		parent int
		sym    int
	}
	start := productState{A.closure(A.start()), B.closure(B.start())}
	queue := []visit{{st: start, parent: -1}}
	seen := map[productState]bool{start: true}
	found := [3]int{-1, -1, -1} // both, only a, only b
	for i := 0; i < len(queue) && (found[0] < 0 || found[1] < 0 || found[2] < 0); i++ {
		st := queue[i].st
		accA, accB := A.accepts(st.a), B.accepts(st.b)
		k := -1
		switch {
		case accA && accB:
			k = 0
		case accA:
			k = 1
		case accB:
			k = 2
		}
		if k >= 0 && found[k] < 0 {
			found[k] = i
		}
		for si, sym := range syms {
			next := productState{A.step(st.a, sym), B.step(st.b, sym)}
			if (next.a.empty() && next.b.empty()) || seen[next] {
				continue
			}
			seen[next] = true
			queue = append(queue, visit{st: next, parent: i, sym: si})
		}
	}
	path := func(i int) string {
		if i < 0 {
			return ""
		}
		var segs []string
		for ; queue[i].parent >= 0; i = queue[i].parent {
			segs = append(segs, syms[queue[i].sym].example())
		}
		var b strings.Builder
		for j := len(segs) - 1; j >= 0; j-- {
			b.WriteByte('/')
			b.WriteString(segs[j])
		}
		if b.Len() == 0 {
			return "/"
		}
		return b.String()
	}
	return Examples{Both: path(found[0]), OnlyA: path(found[1]), OnlyB: path(found[2])}
}
