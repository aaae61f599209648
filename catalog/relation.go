package catalog

import (
	"slices"
	"strings"
)

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

// exported returns the Relation of r.
func (r relation) exported() Relation {
	switch r {
	case relEqual:
		return Same
	case relASpecific:
		return MoreSpecific
	case relBSpecific:
		return LessSpecific
	case relOverlap:
		return Overlapping
	}
	return Disjoint
}

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
	// taken holds the texts of the alphabet so far. Two patterns have few
	// literals: searching a slice costs less than hashing into a map.
	taken := []string{""}
	var exact, folds []string
	var lits []symbol
	var constraints []elem
	for _, p := range []pattern{a, b} {
		for _, e := range p.elems {
			switch {
			case e.kind == elemLiteral:
				if e.fold {
					folds = append(folds, e.lit)
				} else {
					exact = append(exact, e.lit)
				}
				if !slices.Contains(taken, e.lit) {
					taken = append(taken, e.lit)
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
		if slices.Contains(exact, f) {
			if v, ok := caseVariant(f, taken); ok {
				taken = append(taken, v)
				lits = append(lits, symbol{text: v})
			}
		}
	}
	fresh := freshSegment(taken, constraints)
	// the fresh segment comes first so that examples show it for parameters
	syms := make([]symbol, 0, 2+len(lits)+2*len(constraints))
	syms = append(syms, symbol{text: ""}, symbol{text: fresh})
	syms = append(syms, lits...)
	for _, c := range constraints {
		s := untakenSample(c, taken)
		if s != "" {
			taken = append(taken, s)
			syms = append(syms, symbol{text: s})
		}
		// the text only serves as an example; only decides what accepts it
		syms = append(syms, symbol{text: s, only: c.constraint})
	}
	return syms
}

// untakenSample returns a segment the constraint accepts that no literal
// (or earlier sample) equals, so that an example path shows a segment that
// only the constraint's symbol stands for; "" when none is found.
func untakenSample(c elem, taken []string) string {
	if s := sample(c); s != "" && !slices.Contains(taken, s) {
		return s
	}
	for _, s := range []string{"0", "1", "a", "b", "z", "x1", "A", "B", "Z", "abc", "0a", "_", "-"} {
		if c.check(s) && !slices.Contains(taken, s) {
			return s
		}
	}
	return ""
}

// freshSegment returns a segment that no literal equals and, when one of a
// few tried does, no constraint accepts: it stands for every such segment,
// so a constraint that rejects some segments ("/[a-z]+" rejects "/0") is
// seen to match fewer paths than a parameter ("/{id}").
func freshSegment(taken []string, constraints []elem) string {
	for _, s := range []string{"x", "X", "0", "-", "~", "x.0", "%25"} {
		if !slices.Contains(taken, s) && !slices.ContainsFunc(constraints, func(c elem) bool { return c.check(s) }) {
			return s
		}
	}
	fresh := "x"
	for slices.Contains(taken, fresh) {
		fresh += "x"
	}
	return fresh
}

// caseVariant returns a spelling of the lower-case literal f, with some
// letters upper-cased, that is not in taken; there is none when every
// variant is (a literal of few letters whose every spelling is a literal).
func caseVariant(f string, taken []string) (string, bool) {
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
		if v := string(b); !slices.Contains(taken, v) {
			return v, true
		}
	}
	return "", false
}

type productState struct{ a, b stateSet }

// relate decides how two patterns relate, with an example path both match
// (for relEqual, relOverlap and the specific cases) when there is one.
func relate(pa, pb pattern) (rel relation, example string) {
	w := walkProduct(pa, pb)
	both, onlyA, onlyB := w.found[0] >= 0, w.found[1] >= 0, w.found[2] >= 0
	switch {
	case !both:
		return relDisjoint, ""
	case !onlyA && !onlyB:
		return relEqual, w.path(w.found[0])
	case !onlyA:
		return relASpecific, w.path(w.found[0])
	case !onlyB:
		return relBSpecific, w.path(w.found[0])
	}
	return relOverlap, w.path(w.found[0])
}

// examples returns a shortest path for each of: both routes accept, only a
// accepts, only b accepts ("" where there is none).
func examples(pa, pb pattern) Examples {
	w := walkProduct(pa, pb)
	return Examples{Both: w.path(w.found[0]), OnlyA: w.path(w.found[1]), OnlyB: w.path(w.found[2])}
}

// walk is a breadth-first walk of the product of two routes' automata.
type walk struct {
	syms  []symbol
	queue []visit
	// found are the first states queued where both accept, only a
	// accepts and only b accepts; -1 where there is none.
	found [3]int
	// index holds the queued states once there are more than maxLinear.
	index map[productState]bool
}

type visit struct {
	st     productState
	parent int
	sym    int
}

// maxLinear is how many queued states a walk searches one by one before it
// indexes them: most walks queue fewer than ten.
const maxLinear = 32

func walkProduct(pa, pb pattern) *walk {
	A, B := automaton{pa}, automaton{pb}
	w := &walk{syms: alphabet(pa, pb), found: [3]int{-1, -1, -1}}
	w.queue = make([]visit, 0, 16)
	w.add(visit{st: productState{A.closure(A.start()), B.closure(B.start())}, parent: -1})
	for i := 0; i < len(w.queue) && (w.found[0] < 0 || w.found[1] < 0 || w.found[2] < 0); i++ {
		st := w.queue[i].st
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
		if k >= 0 && w.found[k] < 0 {
			w.found[k] = i
		}
		for si, sym := range w.syms {
			next := productState{A.step(st.a, sym), B.step(st.b, sym)}
			if !next.a.empty() || !next.b.empty() {
				w.add(visit{st: next, parent: i, sym: si})
			}
		}
	}
	return w
}

// add queues a state that was not queued before.
func (w *walk) add(v visit) {
	if w.index != nil {
		if w.index[v.st] {
			return
		}
		w.index[v.st] = true
	} else {
		for i := range w.queue {
			if w.queue[i].st == v.st {
				return
			}
		}
		if len(w.queue) == maxLinear {
			w.index = make(map[productState]bool, 2*maxLinear)
			for _, q := range w.queue {
				w.index[q.st] = true
			}
			w.index[v.st] = true
		}
	}
	w.queue = append(w.queue, v)
}

// path returns the path of segments that leads to the i-th queued state,
// "" for -1.
func (w *walk) path(i int) string {
	if i < 0 {
		return ""
	}
	var segs []string
	for ; w.queue[i].parent >= 0; i = w.queue[i].parent {
		segs = append(segs, w.syms[w.queue[i].sym].example())
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
