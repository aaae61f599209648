package audit

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/otel-audit/auditprocessor/catalog"
)

// Scoped catalogs: services.NAME.service_names and services.NAME.hosts make
// a catalog apply only to the records they select. The rules, stated in the
// README ("Catalogs for many services"):
//
//   - A catalog with neither selector is unscoped: it applies to every record.
//   - A scoped catalog applies to a record when the resource's service.name
//     matches one of its service_names (or it has none) and the server's host
//     matches one of its hosts (or it has none).
//   - Scoped catalogs come first: the unscoped catalogs are consulted only
//     when the scoped catalogs that apply have no route for the record (for
//     the reported route, then for the path). So a scoped catalog and an
//     unscoped one may hold the same route; the scoped one wins.
//   - Two scoped catalogs whose selectors can select the same record are
//     compiled together at load, and their routes must not conflict. Two
//     glob sets can select the same name when some pattern of one and some
//     pattern of the other can match the same string (globsOverlap); two
//     selectors can select the same record when neither dimension keeps them
//     apart (a selector left out matches anything).

// maxScoped bounds the scoped catalogs, so that a selection is a small
// comparable bit set.
const maxScoped = 256

// selection is a set of scoped catalogs, by their index in scopes.list.
type selection [maxScoped / 64]uint64

func (s *selection) add(i int) { s[i/64] |= 1 << (i % 64) }

func (s selection) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

func (s selection) and(o selection) selection {
	for i := range s {
		s[i] &= o[i]
	}
	return s
}

// scope is one scoped catalog and its selectors (nil: any).
type scope struct {
	cat          *catalog.Catalog
	names, hosts []string
}

// scopes holds the scoped catalogs, compiled into one shared matcher
// (identical routes share their nodes), and the catalog.Scope of each set of
// them that records select, made when a set is first selected.
type scopes struct {
	list     []scope
	anyHosts bool      // some catalog has hosts: a record's host is read
	anyHost  selection // the catalogs without hosts
	opts     catalog.Options
	shared   *catalog.Matcher
	mu       sync.RWMutex
	sets     map[selection]*catalog.Scope
	// names caches the selection of each service.name seen, in bounded
	// memory (namecache.go).
	names *nameCache
}

// maxSets bounds the Scopes kept by selection: each distinct set of scoped
// catalogs that a record selects gets one. Names can select many sets only
// when many catalogs are scoped by overlapping globs; past the bound a
// selection's Scope is made for each resource that needs it.
const maxSets = 4096

// scope returns the catalog.Scope of a selection; nil for none.
func (s *scopes) scope(sel selection) *catalog.Scope {
	if sel == (selection{}) {
		return nil
	}
	s.mu.RLock()
	sc, ok := s.sets[sel]
	s.mu.RUnlock()
	if ok {
		return sc
	}
	sc = s.shared.NewScope(s.catalogs(sel)...)
	s.mu.Lock()
	if len(s.sets) < maxSets {
		s.sets[sel] = sc
	}
	s.mu.Unlock()
	return sc
}

func (s *scopes) catalogs(sel selection) []*catalog.Catalog {
	var cats []*catalog.Catalog
	for i := range s.list {
		if sel.has(i) {
			cats = append(cats, s.list[i].cat)
		}
	}
	return cats
}

// byName is the selection of the catalogs whose service_names select name
// (with those that have none).
func (s *scopes) byName(name string) selection {
	if sel, ok := s.names.get(name); ok {
		return sel
	}
	sel := s.selectName(name)
	s.names.put(name, sel)
	return sel
}

func (s *scopes) selectName(name string) selection {
	var sel selection
	for i := range s.list {
		if matchAny(s.list[i].names, name) {
			sel.add(i)
		}
	}
	return sel
}

// byHost is the same for a host.
func (s *scopes) byHost(host string) selection {
	sel := s.anyHost
	for i := range s.list {
		if s.list[i].hosts != nil && matchAny(s.list[i].hosts, host) {
			sel.add(i)
		}
	}
	return sel
}

// matchAny tells whether name matches one of globs; nil matches anything.
func matchAny(globs []string, name string) bool {
	if globs == nil {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// checkGlob checks a pattern of service_names or hosts.
func checkGlob(g string) error {
	if strings.TrimSpace(g) == "" {
		return errors.New("empty pattern")
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("invalid pattern %q (path.Match syntax: *, ?, [a-z], \\ escapes): %w", g, err)
	}
	return nil
}

// selectorsOverlap tells whether two scoped catalogs can select the same
// record: in each dimension, one of them matches anything or their
// patterns overlap.
func selectorsOverlap(a, b scope) bool {
	return globsOverlap(a.names, b.names) && globsOverlap(a.hosts, b.hosts)
}

// globsOverlap tells whether some string can match a pattern of a and a
// pattern of b; nil matches anything.
func globsOverlap(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	for _, p := range a {
		for _, q := range b {
			if globOverlap(p, q) {
				return true
			}
		}
	}
	return false
}

// globOverlap tells whether two path.Match patterns can match the same
// string. It is exact when one of them is a literal (the other is matched
// against it), and otherwise sound: every string a pattern matches begins
// with its literal prefix and ends with its literal suffix, so two patterns
// whose prefixes (or suffixes) differ where both are defined match no
// common string; in any other case they are taken to overlap.
func globOverlap(p, q string) bool {
	pp, ps, plit := literalEnds(p)
	qp, qs, qlit := literalEnds(q)
	switch {
	case plit && qlit:
		return pp == qp
	case plit:
		ok, _ := path.Match(q, pp)
		return ok
	case qlit:
		ok, _ := path.Match(p, qp)
		return ok
	}
	return (strings.HasPrefix(pp, qp) || strings.HasPrefix(qp, pp)) &&
		(strings.HasSuffix(ps, qs) || strings.HasSuffix(qs, ps))
}

// literalEnds returns a pattern's literal prefix and suffix, unescaped, and
// whether it is all literal (then prefix is the whole string it matches).
func literalEnds(g string) (prefix, suffix string, literal bool) {
	type token struct {
		lit byte
		ok  bool // a literal character
	}
	var toks []token
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '\\':
			if i+1 < len(g) {
				i++
				toks = append(toks, token{g[i], true})
			}
		case '*', '?':
			toks = append(toks, token{})
		case '[':
			j := i + 1
			if j < len(g) && g[j] == '^' {
				j++
			}
			if j < len(g) && g[j] == ']' {
				j++
			}
			for j < len(g) && g[j] != ']' {
				if g[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			toks = append(toks, token{})
		default:
			toks = append(toks, token{c, true})
		}
	}
	var b strings.Builder
	n := 0
	for n < len(toks) && toks[n].ok {
		b.WriteByte(toks[n].lit)
		n++
	}
	prefix = b.String()
	if n == len(toks) {
		return prefix, prefix, true
	}
	m := len(toks)
	for m > 0 && toks[m-1].ok {
		m--
	}
	b.Reset()
	for _, t := range toks[m:] {
		b.WriteByte(t.lit)
	}
	return prefix, b.String(), false
}

// compile checks each scoped catalog on its own, and every two whose
// selectors overlap together, so that routes conflict only between
// catalogs that can apply to the same record; then it compiles them all
// into one shared matcher.
func (s *scopes) compile() error {
	var errs []error
	cats := make([]*catalog.Catalog, len(s.list))
	for i, sc := range s.list {
		cats[i] = sc.cat
		if sc.hosts != nil {
			s.anyHosts = true
		} else {
			s.anyHost.add(i)
		}
	}
	shared, err := s.opts.CompileShared(cats...)
	if err != nil {
		errs = append(errs, err)
	}
	s.shared = shared
	for i := range s.list {
		for j := i + 1; j < len(s.list); j++ {
			a, b := s.list[i], s.list[j]
			if !selectorsOverlap(a, b) {
				continue
			}
			_, err := s.opts.Compile(a.cat, b.cat)
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("%s and %s can select the same records: %w", a.describe(), b.describe(), e))
			}
		}
	}
	return errors.Join(errs...)
}

// unjoin returns the errors errors.Join joined, or err alone.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// describe names a scoped catalog and its selectors in errors.
func (sc scope) describe() string {
	var sel []string
	if sc.names != nil {
		sel = append(sel, fmt.Sprintf("service_names %q", sc.names))
	}
	if sc.hosts != nil {
		sel = append(sel, fmt.Sprintf("hosts %q", sc.hosts))
	}
	return fmt.Sprintf("services::%s (%s, %s)", sc.cat.Service, sc.cat.Source, strings.Join(sel, ", "))
}
