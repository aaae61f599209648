package audit

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNameCacheBounded: 200,000 distinct names through a cache of 1 MiB
// keep its heap within the budget (the per-entry overhead it charges is not
// less than what an entry costs), evictions are counted, and a name in use
// survives every eviction.
func TestNameCacheBounded(t *testing.T) {
	const budget = 1 << 20
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var evicted atomic.Int64
	before := heap()
	c := newNameCache(budget, &evicted)
	var hot selection
	hot.add(3)
	c.put("hot", hot)
	const names = 200_000
	for i := range names {
		name := fmt.Sprintf("service-%012d", i) // 20 bytes
		if _, ok := c.get(name); !ok {
			c.put(name, selection{})
		}
		if i%1000 == 0 {
			got, ok := c.get("hot")
			require.True(t, ok, "the name in use is still cached after %d names", i)
			require.Equal(t, hot, got)
		}
	}
	used := int64(heap()) - int64(before)
	runtime.KeepAlive(c)
	t.Logf("heap held by the cache: %d bytes (budget %d); evicted %d", used, budget, evicted.Load())
	assert.LessOrEqual(t, used, int64(budget), "the cache keeps within its budget")
	assert.Greater(t, evicted.Load(), int64(names/2), "most names were evicted, and counted")
	cached := c.cur.Load().entries.Load() + c.prev.Load().entries.Load()
	// a name promoted from the previous generation is in both until that
	// one goes, so it may be counted as evicted and still be cached
	assert.GreaterOrEqual(t, cached+evicted.Load(), int64(names+1), "every name is cached or counted as evicted")
}

// TestNameCacheOff: a budget of 0 caches nothing; a name too long for the
// budget is never cached.
func TestNameCacheOff(t *testing.T) {
	c := newNameCache(0, nil)
	c.put("a", selection{1})
	_, ok := c.get("a")
	assert.False(t, ok)
	c = newNameCache(64<<10, nil)
	long := string(make([]byte, 1<<10)) // more than a 64th of a generation (32 KiB / 64 = 512 bytes)
	c.put(long, selection{1})
	_, ok = c.get(long)
	assert.False(t, ok)
	c.put("short", selection{1})
	got, ok := c.get("short")
	assert.True(t, ok)
	assert.Equal(t, selection{1}, got)
}
