package catalog

// Helpers for tools that explain a catalog rather than apply it (the
// auditcatalog command): which routes match a path and how two routes
// relate, with example paths. They use the route parser, the precedence
// relation and the matching trees of the rest of the package read-only, so
// what they explain is what the processor does.

import (
	"errors"
	"strings"
)

// CheckRoute tells whether a route is one a catalog accepts: a template
// (isRegex false) or a regular expression read segment by segment.
func CheckRoute(route string, isRegex bool) error {
	_, err := parseRoute(route, isRegex)
	return err
}

// ValidRegionID tells whether id has the form catalogs require of region ids
// ("eu-de", "us-south").
func ValidRegionID(id string) bool { return regionRE.MatchString(id) }

// IsRouteTemplate tells whether s has a parameter in one of the route syntaxes
// servers report ({id}, :id, <id>, {rest...}, *), so that the processor's
// route matching, not its path matching, applies to it.
func IsRouteTemplate(s string) bool {
	for _, seg := range strings.Split(s, "/") {
		if classifySegment(seg) != segLiteral {
			return true
		}
	}
	return false
}

// Candidates returns every API event of the method whose route matches the
// concrete path (route false) or has the shape of the route template a server
// reported (route true), in catalog order. The event MatchPath or MatchRoute
// returns is among them; the others are the routes it was preferred to.
func (m *Matcher) Candidates(method, s string, route bool) []*Event {
	if s == "" {
		return nil
	}
	if route {
		s = strings.TrimPrefix(s, "/")
		s = strings.TrimSuffix(s, "{$}")
	} else {
		if s[0] != '/' {
			return nil
		}
		s = s[1:]
	}
	var out []*Event
	for _, c := range m.catalogs {
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() || ev.Method != method {
				continue
			}
			p, err := routeOf(ev, m.opts.CaseInsensitive[c.Service])
			if err != nil {
				continue
			}
			one := &node{}
			one.insert(compiled{ev: ev, p: p})
			if one.match(s, false, route, nil) == ev {
				out = append(out, ev)
			}
		}
	}
	return out
}

// Relation is how the paths of two routes relate.
type Relation uint8

// The relations between two routes a and b.
const (
	// Disjoint: no path matches both.
	Disjoint Relation = iota
	// Same: both match exactly the same paths.
	Same
	// MoreSpecific: every path a matches, b matches too, and b matches more.
	MoreSpecific
	// LessSpecific: every path b matches, a matches too, and a matches more.
	LessSpecific
	// Overlapping: they share paths and each matches a path the other does not.
	Overlapping
)

func (r Relation) String() string {
	switch r {
	case Disjoint:
		return "disjoint"
	case Same:
		return "same"
	case MoreSpecific:
		return "more specific"
	case LessSpecific:
		return "less specific"
	case Overlapping:
		return "overlapping"
	}
	return "unknown"
}

// Examples are paths that show how two routes relate; "" where there is none.
type Examples struct {
	// Both is a path both routes match.
	Both string
	// OnlyA is a path only route a matches.
	OnlyA string
	// OnlyB is a path only route b matches.
	OnlyB string
}

// ErrNoRoute is returned by Relate for an event without a route.
var ErrNoRoute = errors.New("event has no route")

// Relate tells how the routes of two events relate, whatever their methods,
// by the precedence relation Compile uses, with example paths. Constrained
// segments with no short sample show as "{constraint}" in the examples.
func Relate(a, b *Event) (Relation, Examples, error) { return Options{}.Relate(a, b) }

// Relate is the package's Relate for routes compiled with these options.
func (o Options) Relate(a, b *Event) (Relation, Examples, error) {
	if !a.HasRoute() || !b.HasRoute() {
		return Disjoint, Examples{}, ErrNoRoute
	}
	pa, err := routeOf(a, o.folds(a))
	if err != nil {
		return Disjoint, Examples{}, err
	}
	pb, err := routeOf(b, o.folds(b))
	if err != nil {
		return Disjoint, Examples{}, err
	}
	rel, _ := relate(pa, pb)
	return rel.exported(), examples(pa, pb), nil
}

// Overlap is two API events of one method whose routes match a common path.
type Overlap struct {
	// A and B are the two events. Of two routes in order of precedence, A
	// is the more specific; otherwise A comes first in catalog order.
	A, B *Event
	// Relation is how A's route relates to B's: Same, MoreSpecific or
	// Overlapping.
	Relation Relation
	// Examples are the paths Relate gives for A and B.
	Examples Examples
}

// Overlaps returns every two API events of the catalogs, of one method,
// whose routes match a common path, by the precedence relation Compile
// uses; see Options.Overlaps.
func Overlaps(catalogs ...*Catalog) ([]Overlap, error) { return Options{}.Overlaps(catalogs...) }

// Overlaps returns every two API events of the catalogs, of one method,
// whose routes match a common path, as Compile finds them: without relating
// every route to every other (see pairs.go), so in about linear time for
// catalogs in the usual shapes. They are ordered by method, then by the
// catalog order of the earlier event of each pair, then of the later. A
// route that does not parse is left out and reported in the error.
func (o Options) Overlaps(catalogs ...*Catalog) ([]Overlap, error) {
	byMethod, errs := o.parse(catalogs)
	var out []Overlap
	for _, method := range sortedMethods(byMethod) {
		forEachOverlap(byMethod[method], func(a, b compiled, rel relation, _ string) {
			if rel == relBSpecific {
				a, b, rel = b, a, relASpecific
			}
			out = append(out, Overlap{A: a.ev, B: b.ev, Relation: rel.exported(), Examples: examples(a.p, b.p)})
		})
	}
	return out, errors.Join(errs...)
}
