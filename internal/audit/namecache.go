package audit

import (
	"sync"
	"sync/atomic"
)

// nameCache remembers the selection of each service.name seen, within a
// budget of bytes (limits.service_name_cache_size). A gateway sees the same
// few names again and again, and a lookup costs less than matching every
// scoped catalog's globs; but the names are the senders' data, so the cache
// must not grow with them. It holds two generations of half the budget
// each: names are added to the current one; when it is full, the previous
// one is evicted whole and the current one becomes the previous one. A name
// found in the previous generation moves to the current one, so the names
// in use survive any number of new ones. Lookups take no lock.
//
// A name too long to be worth caching (more than a 64th of a generation)
// is never cached: its selection is worked out each time, which costs time,
// never a wrong decision.
type nameCache struct {
	genBytes int64 // the budget of one generation; 0: no cache
	mu       sync.Mutex
	cur      atomic.Pointer[nameGen]
	prev     atomic.Pointer[nameGen]
	// evicted counts the names evicted; shared by the Auditors of a Live,
	// across reloads (nil: not counted).
	evicted *atomic.Int64
}

type nameGen struct {
	m       sync.Map // string -> selection
	bytes   atomic.Int64
	entries atomic.Int64
}

// nameEntryOverhead is what one entry costs beside its name's bytes: the
// selection, the string header, the interface boxing and sync.Map's entry,
// measured on amd64 (TestNameCacheBounded) and rounded up.
const nameEntryOverhead = 256

func newNameCache(budget int64, evicted *atomic.Int64) *nameCache {
	c := &nameCache{genBytes: budget / 2, evicted: evicted}
	c.cur.Store(&nameGen{})
	c.prev.Store(&nameGen{})
	return c
}

func entryCost(name string) int64 { return int64(len(name)) + nameEntryOverhead }

// get returns the cached selection of name.
func (c *nameCache) get(name string) (selection, bool) {
	if c.genBytes == 0 {
		return selection{}, false
	}
	if v, ok := c.cur.Load().m.Load(name); ok {
		return v.(selection), true
	}
	if v, ok := c.prev.Load().m.Load(name); ok {
		sel := v.(selection)
		c.put(name, sel) // in use: keep it through the next eviction
		return sel, true
	}
	return selection{}, false
}

// put caches the selection of name, evicting the previous generation when
// the current one is full.
func (c *nameCache) put(name string, sel selection) {
	cost := entryCost(name)
	if c.genBytes == 0 || cost > c.genBytes/64 {
		return
	}
	g := c.cur.Load()
	if g.bytes.Add(cost) > c.genBytes {
		c.mu.Lock()
		if c.cur.Load() == g { // not rotated by another goroutine meanwhile
			old := c.prev.Load()
			c.prev.Store(g)
			c.cur.Store(&nameGen{})
			if c.evicted != nil {
				c.evicted.Add(old.entries.Load())
			}
		}
		c.mu.Unlock()
		g = c.cur.Load()
		g.bytes.Add(cost)
	}
	if _, loaded := g.m.LoadOrStore(name, sel); !loaded {
		g.entries.Add(1)
	}
}
