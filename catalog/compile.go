package catalog

// Compiling: the routes of the catalogs are parsed once, the pairs that
// overlap are related (pairs.go, relation.go) and rejected when they have
// no order, and the trees are built (tree.go).

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

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
		forEachOverlap(byMethod[method], func(a, b compiled, rel relation, example string) {
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
			resolved := "no route"
			if got != nil {
				resolved = got.Ref()
			}
			err := fmt.Errorf("precedence: %s is more specific than %s, yet the matcher resolves %s %s to %s", c.specific.Ref(), c.general.Ref(), c.specific.Method, c.example, resolved)
			if strings.Contains(c.example, "{") {
				// a segment of the example stands for a constraint no sample
				// was found for: likely a regular expression that matches no text
				err = fmt.Errorf("%w: no path was found that %s matches; does a regular expression of it match no text (such as $ before text)?", err, c.specific.Ref())
			}
			return nil, err
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
	byMethod, errs := o.parse(catalogs)
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

// parse parses the routes of the catalogs, by method in catalog order,
// leaving out a second catalog of one service.
func (o Options) parse(catalogs []*Catalog) (map[string][]compiled, []error) {
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
	return byMethod, errs
}

func sortedMethods(byMethod map[string][]compiled) []string {
	methods := make([]string, 0, len(byMethod))
	for method := range byMethod {
		methods = append(methods, method)
	}
	slices.Sort(methods)
	return methods
}

// folds tells whether the event's routes are compiled case-insensitive.
func (o Options) folds(ev *Event) bool {
	return ev.Catalog != nil && o.CaseInsensitive[ev.Catalog.Service]
}
