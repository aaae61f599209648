package catalog

// Scopes: a shared Matcher (CompileShared) holds catalogs that were not
// checked against each other, and a node where routes of several of them
// end keeps each one's event by catalog index; a lookup in a Scope takes
// the event of its catalogs.

// A Scope is a set of catalogs of a shared Matcher (CompileShared): a
// lookup in it returns the most specific route among those catalogs'
// routes. It is immutable and safe for concurrent use.
type Scope struct {
	catalogs []*Catalog
	index    []int // of each catalog in the Matcher's
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
