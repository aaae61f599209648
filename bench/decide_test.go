package bench

import (
	"testing"

	auditprocessor "github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

// BenchmarkDecide is the processor's own work on ours-core's input, what
// the floor does not do, without the tags both write: per record the scan
// for forged audit attributes (Strip; this input has none), the view and
// the decision, as processTraces and processLogs make them, on the same
// batches every iteration. It changes nothing and allocates nothing, so a
// cut in the decision shows here without the allocator's and the garbage
// collector's noise; BenchmarkTraces and BenchmarkLogs (contender=ours-core
// against contender=floor) show what it buys.
func BenchmarkDecide(b *testing.B) {
	cfg := config(b, builtinCore).(*auditprocessor.Config)
	a, err := audit.Load(&cfg.Config)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("signal=traces", func(b *testing.B) {
		slowOnly(b, false)
		src := traceBatches(b, builtinCore)
		runDecide(b, func(i int) (matched int) {
			for _, rs := range src[i%len(src)].ResourceSpans().All() {
				region := a.NewResource(rs.Resource().Attributes())
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						v := audit.SpanView(s)
						matched += decideOne(a, &v, &region)
					}
				}
			}
			return matched
		})
	})
	b.Run("signal=logs", func(b *testing.B) {
		slowOnly(b, false)
		src := logBatches(b, builtinCore)
		runDecide(b, func(i int) (matched int) {
			for _, rl := range src[i%len(src)].ResourceLogs().All() {
				region := a.NewResource(rl.Resource().Attributes())
				for _, sl := range rl.ScopeLogs().All() {
					for _, r := range sl.LogRecords().All() {
						v := audit.LogView(r)
						matched += decideOne(a, &v, &region)
					}
				}
			}
			return matched
		})
	})
}

// decideOne decides a record as the processor does; 1 when it matched.
func decideOne(a *audit.Auditor, v *audit.View, region *audit.Resource) int {
	audit.Strip(v.Attrs)
	if !a.Audits(v) {
		return 0
	}
	if d := a.Decide(v, region); d.Result == audit.Matched {
		return 1
	}
	return 0
}

// runDecide times decide(i) on the i-th iteration, which must match
// something, and reports it per record of a batch (reportPerRecord).
func runDecide(b *testing.B, decide func(i int) int) {
	b.ReportAllocs()
	matched := 0
	c0 := processCPU()
	for i := 0; b.Loop(); i++ {
		matched += decide(i)
	}
	if matched == 0 {
		b.Fatal("nothing matched")
	}
	reportPerRecord(b, processCPU()-c0)
}
