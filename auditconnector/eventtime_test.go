package auditconnector

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// eventTime writes what Format(EventTimeLayout) writes: at the edges of
// the timestamp's range, around second, day and year boundaries (the
// hundredths truncated, not rounded), and at random instants.
func TestEventTimeIsFormat(t *testing.T) {
	stamps := []pcommon.Timestamp{0, 1, 9_999_999, 10_000_000, 999_999_999, 1_000_000_000, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64}
	for _, at := range []time.Time{
		time.Date(2019, 11, 3, 21, 40, 53, 949_999_999, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 995_000_000, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 5_000_000, time.UTC),
		time.Date(2100, 3, 1, 9, 8, 7, 60_000_000, time.UTC),
	} {
		stamps = append(stamps, pcommon.NewTimestampFromTime(at))
	}
	r := rand.New(rand.NewPCG(26, 26))
	for range 10000 {
		stamps = append(stamps, pcommon.Timestamp(r.Uint64()))
	}
	for _, ts := range stamps {
		want := ts.AsTime().UTC().Format(EventTimeLayout)
		if got := eventTime(ts); got != want {
			assert.Equal(t, want, got, "timestamp %d", uint64(ts))
		}
	}
	assert.Equal(t, "2019-11-03T21:40:53.94+0000", eventTime(pcommon.NewTimestampFromTime(time.Date(2019, 11, 3, 21, 40, 53, 949_999_999, time.UTC))))
}

// BenchmarkEventTime: eventTime beside the Format call it replaces.
func BenchmarkEventTime(b *testing.B) {
	ts := pcommon.NewTimestampFromTime(time.Date(2019, 11, 3, 21, 40, 53, 949_999_999, time.UTC))
	var out string
	b.Run("impl=format", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			out = (ts + pcommon.Timestamp(i)).AsTime().UTC().Format(EventTimeLayout)
		}
	})
	b.Run("impl=eventTime", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			out = eventTime(ts + pcommon.Timestamp(i))
		}
	})
	_ = out
}
