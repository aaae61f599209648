package audit

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/catalog"
)

// builtinMatcher compiles the built-in catalogs and makes their events'
// fields.
func builtinMatcher(t *testing.T) (*catalog.Matcher, []*catalog.Catalog, map[*catalog.Event]*eventFields) {
	t.Helper()
	var cats []*catalog.Catalog
	fields := map[*catalog.Event]*eventFields{}
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		cats = append(cats, c)
		for i := range c.Events {
			fields[&c.Events[i]] = fieldsOf(c, &c.Events[i])
		}
	}
	m, err := catalog.Options{}.Compile(cats...)
	require.NoError(t, err)
	return m, cats, fields
}

// TestRouteCacheAgrees: for every route of the built-in catalogs, asked
// with every method (HEAD finds GET routes; other methods find nothing or
// another event of the same route) and in two route syntaxes, the cache
// answers what the matcher answers, with the event's fields, when it misses
// and when it hits, also after other routes replaced the entries.
func TestRouteCacheAgrees(t *testing.T) {
	m, cats, fields := builtinMatcher(t)
	c := newRouteCache()
	// GXT hashes into GET's slot: its own answer (none), not GET's
	methods := append(append([]string{}, catalog.Methods...), "get", "PROPFIND", "GXT")
	var routes []string
	for _, cat := range cats {
		for _, ev := range cat.Events {
			if ev.HasRoute() && !ev.RouteIsRegex {
				routes = append(routes, ev.Route, strings.TrimPrefix(ev.Route, "/"), ev.Route+"/x", colonParams(ev.Route))
			}
		}
	}
	require.Greater(t, len(routes), 100)
	matched := 0
	check := func(round string) {
		for _, route := range routes {
			for _, method := range methods {
				want := m.MatchRoute(method, route)
				if want != nil {
					matched++
				}
				ev, f := c.matchRoute(m, fields, method, route)
				require.Same(t, want, ev, "%s: %s %s", round, method, route)
				require.Same(t, fields[want], f, "%s: %s %s", round, method, route)
			}
		}
	}
	check("cold")
	check("warm")
	for i := range 4 * routeCacheSlots {
		c.matchRoute(m, fields, "GET", fmt.Sprintf("/v1/other/%d", i))
	}
	check("after replacement")
	assert.Positive(t, matched)
}

// colonParams writes a template's {name} parameters as Express's :name.
func colonParams(route string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + strings.Trim(s, "{}")
		}
	}
	return strings.Join(segs, "/")
}

// TestRouteCacheBounded: distinct routes and methods, the senders' data,
// never hold more than routeCacheSlots entries, nor a route longer than
// maxCachedRoute bytes or a method longer than maxCachedMethod, and an entry
// holds copies, not the record's strings.
func TestRouteCacheBounded(t *testing.T) {
	m, _, fields := builtinMatcher(t)
	c := newRouteCache()
	for i := range 20 * routeCacheSlots {
		route := fmt.Sprintf("/v1/customizations/%0*d", maxCachedRoute-len("/v1/customizations/")+i%2, i)
		c.matchRoute(m, fields, "POST", route)
		c.matchRoute(m, fields, strings.Repeat("M", maxCachedMethod+1+i%2), "/v1/customizations")
	}
	entries := 0
	for i := range c.slots {
		e := c.slots[i].Load()
		if e == nil {
			continue
		}
		entries++
		assert.LessOrEqual(t, len(e.route), maxCachedRoute)
		assert.LessOrEqual(t, len(e.method), maxCachedMethod)
	}
	assert.Equal(t, routeCacheSlots, entries, "the table is full and no larger")

	route := strings.Repeat("a", 40)
	c.matchRoute(m, fields, "GET", route)
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil && e.route == route {
			assert.NotSame(t, unsafe.StringData(route), unsafe.StringData(e.route), "the entry copies the route")
		}
	}
	runtime.KeepAlive(route)
}

// TestRouteCacheKeepsTwoAlike: two routes in use whose hashes pick the same
// slot are both kept (in its pair), instead of replacing each other on
// every record.
func TestRouteCacheKeepsTwoAlike(t *testing.T) {
	m, _, fields := builtinMatcher(t)
	c := newRouteCache()
	slotOf := func(route string) uint64 {
		return (maphash.String(c.seed, route) + uint64(len("GET"))<<7 + 'G') & (routeCacheSlots - 1)
	}
	first := "/v1/models/{model_id}"
	second := ""
	for i := 0; second == ""; i++ {
		if r := fmt.Sprintf("/v1/models/{model_id}/x%d", i); slotOf(r) == slotOf(first) {
			second = r
		}
	}
	for range 3 {
		c.matchRoute(m, fields, "GET", first)
		c.matchRoute(m, fields, "GET", second)
	}
	i := slotOf(first)
	var held []string
	for _, e := range []*routeEntry{c.slots[i].Load(), c.slots[i^1].Load()} {
		if e != nil {
			held = append(held, e.route)
		}
	}
	assert.ElementsMatch(t, []string{first, second}, held)
}

// TestRouteCacheConcurrent: goroutines asking for overlapping routes, so
// that they replace each other's entries, always get the matcher's answer
// (run with -race: the slots are read and written without a lock).
func TestRouteCacheConcurrent(t *testing.T) {
	m, cats, fields := builtinMatcher(t)
	var routes []string
	for _, cat := range cats {
		for _, ev := range cat.Events {
			if ev.HasRoute() && !ev.RouteIsRegex {
				routes = append(routes, ev.Route, colonParams(ev.Route))
			}
		}
	}
	c := newRouteCache()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				route := routes[(i*7+g)%len(routes)]
				if i%5 == 0 {
					route = fmt.Sprintf("/v1/other/%d/%d", g, i) // replaces entries
				}
				method := catalog.Methods[(i+g)%3]
				want := m.MatchRoute(method, route)
				if ev, f := c.matchRoute(m, fields, method, route); ev != want || f != fields[want] {
					errs <- fmt.Sprintf("%s %s", method, route)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("wrong answer for %s", e)
	}
}
