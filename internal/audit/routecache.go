package audit

import (
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/otel-audit/auditprocessor/catalog"
)

// routeCache remembers what the unscoped Matcher answered for the routes
// that servers report (http.route, or the route in a span's name). Routes
// are templates: a service reports a few dozen, again and again, so that a
// hash and two comparisons find most answers without walking the tree
// (BENCHMARKS.md, issue 26's third step). The routes are the senders'
// data, so the cache is bounded in entries and in bytes: a table of
// routeCacheSlots slots, and routes longer than maxCachedRoute bytes are
// never cached (nor methods longer than maxCachedMethod). A route may sit
// in either slot of the pair its hash picks (so that two routes in use
// that hash alike do not keep replacing each other); a new route takes an
// empty one, else replaces one of the two. A replaced entry costs a tree
// walk next time, never a wrong answer: an entry is immutable and is used
// only for its own method and route. Lookups take no lock. Each Auditor
// has its own (a catalog reload builds a new Auditor, and so a new cache).
type routeCache struct {
	seed  maphash.Seed
	slots [routeCacheSlots]atomic.Pointer[routeEntry]
}

// routeCacheSlots is a power of two. A full cache holds at most
// routeCacheSlots entries of 48 bytes, each with copies of a route of up to
// maxCachedRoute bytes and a method of up to maxCachedMethod: about 320 KiB
// (TestRouteCacheBounded checks the three bounds).
const (
	routeCacheSlots = 1024
	maxCachedRoute  = 256
	maxCachedMethod = 16
)

type routeEntry struct {
	method, route string
	ev            *catalog.Event
	fields        *eventFields // ev's
}

func newRouteCache() *routeCache { return &routeCache{seed: maphash.MakeSeed()} }

// matchRoute returns m.MatchRoute(method, route) and the event's fields
// (of fields, the Auditor's), from the cache when it holds the answer.
func (c *routeCache) matchRoute(m *catalog.Matcher, fields map[*catalog.Event]*eventFields, method, route string) (*catalog.Event, *eventFields) {
	if len(route) > maxCachedRoute || method == "" || len(method) > maxCachedMethod {
		ev := m.MatchRoute(method, route)
		return ev, fields[ev]
	}
	h := maphash.String(c.seed, route) + uint64(len(method))<<7 + uint64(method[0])
	i := h & (routeCacheSlots - 1)
	pair := [2]*atomic.Pointer[routeEntry]{&c.slots[i], &c.slots[i^1]}
	var loaded [2]*routeEntry
	for k, slot := range pair {
		e := slot.Load()
		if e != nil && e.route == route && e.method == method {
			return e.ev, e.fields
		}
		loaded[k] = e
	}
	ev := m.MatchRoute(method, route)
	f := fields[ev]
	k := int(h>>32) & 1 // replace either, when both are taken
	switch {
	case loaded[0] == nil:
		k = 0
	case loaded[1] == nil:
		k = 1
	}
	// copies, so that the entry does not keep the record's strings alive
	pair[k].Store(&routeEntry{method: strings.Clone(method), route: strings.Clone(route), ev: ev, fields: f})
	return ev, f
}
