package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/auditconnector"
	"github.com/otel-audit/auditprocessor/bench/floorprocessor/floorconnector"
	"github.com/otel-audit/auditprocessor/catalog"
)

// Every benchmark processes batches of RecordsPerBatch records and reports
// ns/record beside ns/op; allocs/record is allocs/op / RecordsPerBatch.
// Input batches are cloned with the timer stopped (b.StopTimer/StartTimer
// around CopyTo), so neither the time nor the allocations of the copy count.

// The slow benchmarks take tens of seconds per iteration; make bench runs
// them once, in a run of their own.
var slow = flag.Bool("bench.slow", false, "run only the slow benchmarks: the peer on 10,000 routes and the 10,000-route shared-prefix catalog")

// slowOnly skips a slow benchmark without -bench.slow, and a fast one with it.
func slowOnly(b *testing.B, isSlow bool) {
	if isSlow != *slow {
		b.Skipf("runs only with -bench.slow=%t", isSlow)
	}
}

const (
	resourcesPerBatch = 8
	seed              = 42
	sourceBatches     = 4 // rotated, so that no single batch is learnt by the branch predictor
)

var scratch string // catalog files of the synthetic catalogs

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "auditbench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// catalogSet is one catalog configuration of the scale benchmarks.
type catalogSet struct {
	name     string // "builtin" or the number of routes
	services int    // synthetic services; 0 for the built-in catalogs
	layout   Layout
	// core: the built-in catalogs' events with every region sending
	// (AllSending, as catalog_files) and the optional fields off, so that
	// the processor drops nothing and writes audit.action, audit.outcome and
	// audit.region: the floor's own work.
	core bool
}

func (s catalogSet) routes() int {
	if s.services == 0 {
		return 0
	}
	return s.services * RoutesPerService
}

var (
	builtin        = catalogSet{name: "builtin"}
	builtinCore    = catalogSet{name: "builtin", core: true}
	scaleSets      = []catalogSet{builtin, {"100", 5, OwnPrefix, false}, {"1000", 50, OwnPrefix, false}, {"10000", 500, OwnPrefix, false}}
	sharedSets     = []catalogSet{{"1000-shared", 50, SharedPrefix, false}, {"10000-shared", 500, SharedPrefix, false}}
	catalogsCache  sync.Map // catalogSet -> []*catalog.Catalog
	matchersCache  sync.Map // catalogSet -> *catalog.Matcher
	filesCache     sync.Map // catalogSet -> []string
	peerRulesCache sync.Map // catalogSet -> *Peer
)

func catalogsOf(tb testing.TB, s catalogSet) []*catalog.Catalog {
	if v, ok := catalogsCache.Load(s); ok {
		return v.([]*catalog.Catalog)
	}
	var cs []*catalog.Catalog
	var err error
	if s.services == 0 {
		cs, err = Builtins()
	} else {
		cs, err = Synthetic(s.services, s.layout)
	}
	if err != nil {
		tb.Fatal(err)
	}
	catalogsCache.Store(s, cs)
	return cs
}

func matcherOf(tb testing.TB, s catalogSet) *catalog.Matcher {
	if v, ok := matchersCache.Load(s); ok {
		return v.(*catalog.Matcher)
	}
	m, err := catalog.Compile(catalogsOf(tb, s)...)
	if err != nil {
		tb.Fatal(err)
	}
	matchersCache.Store(s, m)
	return m
}

// filesOf writes the synthetic catalogs as catalog_files.
func filesOf(tb testing.TB, s catalogSet) []string {
	if v, ok := filesCache.Load(s); ok {
		return v.([]string)
	}
	var files []string
	for i := 0; i < s.services; i++ {
		f := filepath.Join(scratch, fmt.Sprintf("%s-%s-%04d.yaml", s.name, s.layout, i))
		data, err := SyntheticYAML(i, s.layout)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			tb.Fatal(err)
		}
		files = append(files, f)
	}
	filesCache.Store(s, files)
	return files
}

func peerOf(tb testing.TB, s catalogSet) *Peer {
	if v, ok := peerRulesCache.Load(s); ok {
		return v.(*Peer)
	}
	p, err := NewPeer(PeerRules(catalogsOf(tb, s)))
	if err != nil {
		tb.Fatal(err)
	}
	peerRulesCache.Store(s, p)
	return p
}

// config is the processor's default configuration, with the synthetic
// catalogs in place of the built-in ones for a synthetic set.
func config(tb testing.TB, s catalogSet) component.Config {
	f := auditprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*auditprocessor.Config)
	if s.core {
		files, err := WriteAllSending(scratch)
		if err != nil {
			tb.Fatal(err)
		}
		cfg.BuiltinCatalogs = []string{}
		cfg.CatalogFiles = files
		cfg.Fields.Severity, cfg.Fields.ReasonCode, cfg.Fields.TargetType, cfg.Fields.Message, cfg.Fields.InitiatorID = false, false, false, false, false
	}
	if s.services > 0 {
		cfg.BuiltinCatalogs = []string{}
		cfg.CatalogFiles = filesOf(tb, s)
	}
	return cfg
}

func settings() processor.Settings {
	return processortest.NewNopSettings(auditprocessor.NewFactory().Type())
}

func newTracesProcessor(tb testing.TB, s catalogSet) processor.Traces {
	p, err := auditprocessor.NewFactory().CreateTraces(context.Background(), settings(), config(tb, s), consumertest.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func newLogsProcessor(tb testing.TB, s catalogSet) processor.Logs {
	p, err := auditprocessor.NewFactory().CreateLogs(context.Background(), settings(), config(tb, s), consumertest.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// newConnector is the audit connector with the processor's configuration
// of the catalog set (the same decisions), emitting to a consumer that
// counts the events into *events.
func newConnector(tb testing.TB, s catalogSet, events *int) (connector.Traces, connector.Logs) {
	f := auditconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*auditconnector.Config)
	cfg.Config = config(tb, s).(*auditprocessor.Config).Config
	set := connectortest.NewNopSettings(f.Type())
	count, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		*events += ld.LogRecordCount()
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	ct, err := f.CreateTracesToLogs(context.Background(), set, cfg, count)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := f.CreateLogsToLogs(context.Background(), set, cfg, count)
	if err != nil {
		tb.Fatal(err)
	}
	return ct, cl
}

func traceBatches(tb testing.TB, s catalogSet) []ptrace.Traces {
	return batches(tb, s, (*Input).Traces)
}

func logBatches(tb testing.TB, s catalogSet) []plog.Logs {
	return batches(tb, s, (*Input).Logs)
}

// batches returns sourceBatches batches of the input of catalog set s, each
// of RecordsPerBatch records in resourcesPerBatch resources made by gen.
func batches[T any](tb testing.TB, s catalogSet, gen func(in *Input, records, resources int) T) []T {
	in := NewInput(catalogsOf(tb, s), seed)
	out := make([]T, sourceBatches)
	for i := range out {
		out[i] = gen(in, RecordsPerBatch, resourcesPerBatch)
	}
	return out
}

// runTraces times run on a fresh copy of a source batch per iteration.
func runTraces(b *testing.B, src []ptrace.Traces, run func(ptrace.Traces) error) {
	runCopies(b, src, ptrace.NewTraces, run)
}

func runLogs(b *testing.B, src []plog.Logs, run func(plog.Logs) error) {
	runCopies(b, src, plog.NewLogs, run)
}

// runCopies times run on a fresh copy (made with newBatch, CopyTo with the
// timer stopped) of a source batch per iteration.
func runCopies[T interface{ CopyTo(T) }](b *testing.B, src []T, newBatch func() T, run func(T) error) {
	b.ReportAllocs()
	runtime.GC() // the set-up's garbage (parsing, compiling) is not the loop's
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		batch := newBatch()
		src[i%len(src)].CopyTo(batch)
		b.StartTimer()
		c0 := processCPU()
		if err := run(batch); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
	}
	reportPerRecord(b, cpu)
}

// reportPerRecord reports ns/record (wall time) and cpu-ns/record: the
// CPU time of the whole process (every thread: the benchmark's and the
// garbage collector's) while the timer ran. On a machine shared with other
// work, wall time also counts the time the benchmark waited for a core;
// CPU time does not.
func reportPerRecord(b *testing.B, cpu time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*RecordsPerBatch), "ns/record")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*RecordsPerBatch), "cpu-ns/record")
	}
}

// processCPU is the CPU time the process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerEvent reports the connector's cost per event it emitted, and
// how many events a record gave.
func reportPerEvent(b *testing.B, events int) {
	if events > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		b.ReportMetric(float64(events)/float64(b.N*RecordsPerBatch), "events/record")
	}
}

// BenchmarkTraces: the three contenders on the built-in catalogs, and ours
// and the peer on synthetic catalogs of growing size.
func BenchmarkTraces(b *testing.B) {
	ctx := context.Background()
	b.Run("contender=floor", func(b *testing.B) {
		slowOnly(b, false)
		runTraces(b, traceBatches(b, builtin), func(td ptrace.Traces) error { FloorTraces(td); return nil })
	})
	for _, s := range scaleSets {
		b.Run("contender=ours/catalog="+s.name, func(b *testing.B) {
			slowOnly(b, false)
			p := newTracesProcessor(b, s)
			runTraces(b, traceBatches(b, s), func(td ptrace.Traces) error { return p.ConsumeTraces(ctx, td) })
		})
	}
	// ours-core: nothing dropped, the floor's three attributes written.
	b.Run("contender=ours-core/catalog=builtin", func(b *testing.B) {
		slowOnly(b, false)
		p := newTracesProcessor(b, builtinCore)
		runTraces(b, traceBatches(b, builtinCore), func(td ptrace.Traces) error { return p.ConsumeTraces(ctx, td) })
	})
	b.Run("contender=connector/catalog=builtin", func(b *testing.B) {
		slowOnly(b, false)
		events := 0
		c, _ := newConnector(b, builtin, &events)
		runTraces(b, traceBatches(b, builtin), func(td ptrace.Traces) error { return c.ConsumeTraces(ctx, td) })
		reportPerEvent(b, events)
	})
	for _, s := range scaleSets {
		b.Run("contender=peer/catalog="+s.name, func(b *testing.B) {
			slowOnly(b, s.routes() == 10000)
			p := peerOf(b, s)
			runTraces(b, traceBatches(b, s), func(td ptrace.Traces) error { return p.ProcessTraces(ctx, td) })
		})
	}
}

// BenchmarkLogs: ours and the floor on access-log records.
func BenchmarkLogs(b *testing.B) {
	ctx := context.Background()
	b.Run("contender=floor", func(b *testing.B) {
		slowOnly(b, false)
		runLogs(b, logBatches(b, builtin), func(ld plog.Logs) error { FloorLogs(ld); return nil })
	})
	b.Run("contender=ours/catalog=builtin", func(b *testing.B) {
		slowOnly(b, false)
		p := newLogsProcessor(b, builtin)
		runLogs(b, logBatches(b, builtin), func(ld plog.Logs) error { return p.ConsumeLogs(ctx, ld) })
	})
	b.Run("contender=ours-core/catalog=builtin", func(b *testing.B) {
		slowOnly(b, false)
		p := newLogsProcessor(b, builtinCore)
		runLogs(b, logBatches(b, builtinCore), func(ld plog.Logs) error { return p.ConsumeLogs(ctx, ld) })
	})
	b.Run("contender=connector/catalog=builtin", func(b *testing.B) {
		slowOnly(b, false)
		events := 0
		_, c := newConnector(b, builtin, &events)
		runLogs(b, logBatches(b, builtin), func(ld plog.Logs) error { return c.ConsumeLogs(ctx, ld) })
		reportPerEvent(b, events)
	})
}

// BenchmarkClone is the copy the other benchmarks leave out, for scale.
func BenchmarkClone(b *testing.B) {
	slowOnly(b, false)
	src := traceBatches(b, builtin)
	b.ReportAllocs()
	c0 := processCPU()
	for i := 0; b.Loop(); i++ {
		td := ptrace.NewTraces()
		src[i%len(src)].CopyTo(td)
	}
	reportPerRecord(b, processCPU()-c0)
}

// BenchmarkCompile compiles catalogs that are already parsed.
func BenchmarkCompile(b *testing.B) {
	sets := append([]catalogSet{builtin}, scaleSets[1:]...)
	sets = append(sets, sharedSets...)
	for _, s := range sets {
		b.Run("catalog="+s.name, func(b *testing.B) {
			slowOnly(b, s.name == "10000-shared")
			cs := catalogsOf(b, s)
			b.ReportAllocs()
			var m *catalog.Matcher
			for b.Loop() {
				var err error
				if m, err = catalog.Compile(cs...); err != nil {
					b.Fatal(err)
				}
			}
			matchersCache.Store(s, m)
			b.ReportMetric(float64(m.Routes()), "routes")
		})
	}
}

// matchRequest is what the processor gives the matcher for one record.
type matchRequest struct {
	method, route, path string
}

// matchRequests takes the records of a trace batch the way the processor
// reads them: the reported route (http.route, else the span name), then the
// path.
func matchRequests(td ptrace.Traces) []matchRequest {
	var out []matchRequest
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for k := 0; k < spans.Len(); k++ {
			s := spans.At(k)
			attrs := s.Attributes()
			r := matchRequest{method: str(attrs, "http.request.method"), route: str(attrs, "http.route"), path: str(attrs, "url.path")}
			if r.method == "" {
				r.method = str(attrs, "http.method")
			}
			if r.path == "" {
				r.path = str(attrs, "http.target")
				if j := indexAny(r.path, "?#"); j >= 0 {
					r.path = r.path[:j]
				}
			}
			if name := s.Name(); r.route == "" && len(name) > len(r.method)+1 {
				r.route = name[len(r.method)+1:]
			}
			out = append(out, r)
		}
	}
	return out
}

func indexAny(s, chars string) int {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return i
			}
		}
	}
	return -1
}

// BenchmarkMatcher: the matcher alone, on the requests of one batch.
func BenchmarkMatcher(b *testing.B) {
	sets := append(append([]catalogSet{}, scaleSets...), sharedSets...)
	for _, s := range sets {
		b.Run("catalog="+s.name, func(b *testing.B) {
			slowOnly(b, s.name == "10000-shared")
			m := matcherOf(b, s)
			reqs := matchRequests(traceBatches(b, s)[0])
			if len(reqs) != RecordsPerBatch {
				b.Fatalf("%d requests", len(reqs))
			}
			// The slow run is -benchtime 1x: repeat the batch inside the
			// iteration so that one cold pass does not make the number.
			reps := 1
			if *slow {
				reps = 200
			}
			var found int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range reps * len(reqs) {
					i %= len(reqs)
					r := &reqs[i]
					var ev *catalog.Event
					if r.route != "" {
						ev = m.MatchRoute(r.method, r.route)
					}
					if ev == nil {
						ev = m.MatchPath(r.method, r.path)
					}
					if ev != nil {
						found++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*RecordsPerBatch), "ns/record")
			if found == 0 {
				b.Fatal("nothing matched")
			}
		})
	}
}

// BenchmarkEvents: the audit connector beside the floor connector
// (bench/floorprocessor/floorconnector, issue 26) on the same input, the
// built-in catalogs' batches as the audit processor tagged them, so that
// both emit exactly the same events; ns/event and cpu-ns/event compare.
func BenchmarkEvents(b *testing.B) {
	ctx := context.Background()
	for _, signal := range []string{"traces", "logs"} {
		for _, contender := range []string{"ours", "floor"} {
			b.Run("signal="+signal+"/contender="+contender, func(b *testing.B) {
				slowOnly(b, false)
				events := 0
				var ct connector.Traces
				var cl connector.Logs
				if contender == "ours" {
					ct, cl = newConnector(b, builtin, &events)
				} else {
					ct, cl = newFloorConnector(b, &events)
				}
				if signal == "traces" {
					src := traceBatches(b, builtin)
					p := newTracesProcessor(b, builtin)
					for i, td := range src {
						tagged := ptrace.NewTraces()
						td.CopyTo(tagged)
						if err := p.ConsumeTraces(ctx, tagged); err != nil {
							b.Fatal(err)
						}
						src[i] = tagged
					}
					runTraces(b, src, func(td ptrace.Traces) error { return ct.ConsumeTraces(ctx, td) })
				} else {
					src := logBatches(b, builtin)
					p := newLogsProcessor(b, builtin)
					for i, ld := range src {
						tagged := plog.NewLogs()
						ld.CopyTo(tagged)
						if err := p.ConsumeLogs(ctx, tagged); err != nil {
							b.Fatal(err)
						}
						src[i] = tagged
					}
					runLogs(b, src, func(ld plog.Logs) error { return cl.ConsumeLogs(ctx, ld) })
				}
				reportPerEvent(b, events)
			})
		}
	}
}

// newFloorConnector is the floor connector, counting its events into *events.
func newFloorConnector(tb testing.TB, events *int) (connector.Traces, connector.Logs) {
	f := floorconnector.NewFactory()
	set := connectortest.NewNopSettings(f.Type())
	count, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		*events += ld.LogRecordCount()
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	ct, err := f.CreateTracesToLogs(context.Background(), set, f.CreateDefaultConfig(), count)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := f.CreateLogsToLogs(context.Background(), set, f.CreateDefaultConfig(), count)
	if err != nil {
		tb.Fatal(err)
	}
	return ct, cl
}
