// Command loadgen is the end-to-end benchmark behind make bench-e2e: it runs
// the built distribution (dist/otelcol-audit) with and without the audit
// processor in the traces pipeline, sends each the same OTLP spans at fixed
// rate steps on loopback, and reports per step the collector's CPU time per
// 100k spans, the overhead of the processor and whether the collector
// sustained the rate: every span accepted, none refused, none lost, and the
// achieved rate within -tolerance of the offered one.
//
//	loadgen -collector ../dist/otelcol-audit [-rates 5000,10000,...] [-step 10s] [-out results/e2e.md]
//
// The spans are those of the in-process benchmarks (bench.Input: SERVER
// spans of three instrumentation flavours, in 8 resources with different
// cloud.region values, 20% matching no catalog route), built once and sent
// round robin. Each configuration runs in its own collector process, started
// at the beginning with free ports on 127.0.0.1 and exporting to a sink of
// its own in this process; the steps alternate between the configurations.
// Linux only (CPU time from /proc/PID/task/*/schedstat and /proc/PID/stat).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/bench"
	"github.com/otel-audit/auditprocessor/e2e/harness"
)

type options struct {
	collector   string
	floor       string
	ottl        string
	rates       []float64
	step        time.Duration
	warmup      time.Duration
	batch       int
	resources   int
	concurrency int
	protocol    string
	configs     []string
	repeat      int
	tolerance   float64
	drain       time.Duration
	keepGoing   bool
	quiet       float64
	quietWait   time.Duration
	retries     int
	out         string
	csv         string
	workdir     string
	timeout     time.Duration
	// featureGates are enabled in every collector (--feature-gates).
	featureGates []string
}

func main() {
	var o options
	var rates, configs string
	flag.StringVar(&o.collector, "collector", "../dist/otelcol-audit", "the otelcol-audit binary (make dist)")
	flag.StringVar(&o.floor, "floor-collector", "floor-dist/build/otelcol-floor", "the otelcol-floor binary, for the floor configuration (make bench-dists)")
	flag.StringVar(&o.ottl, "ottl-collector", "ottl-dist/build/otelcol-ottl", "the otelcol-ottl binary, for the ottl configurations (make bench-dists)")
	flag.StringVar(&rates, "rates", "10000,20000,40000,80000,160000,240000,320000,400000", "offered rates in spans/s, one step each, comma-separated, ascending")
	flag.DurationVar(&o.step, "step", 10*time.Second, "duration of each step")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load at the first rate before the steps")
	flag.IntVar(&o.batch, "batch", 500, "spans per OTLP request")
	flag.IntVar(&o.resources, "resources", 8, "resources per OTLP request (as the in-process benchmarks)")
	flag.IntVar(&o.concurrency, "concurrency", 8, "requests in flight at most")
	flag.StringVar(&o.protocol, "protocol", "http", "OTLP protocol to send with: http (protobuf) or grpc")
	flag.StringVar(&configs, "configs", "without,audit,audit-core,audit-connector,floor,floor-connector,ottl-without,ottl", "configurations to run: "+strings.Join(configNames(), ", "))
	flag.IntVar(&o.repeat, "repeat", 1, "runs of each step per configuration (the median CPU is reported)")
	flag.Float64Var(&o.tolerance, "tolerance", 0.03, "a step is sustained only if the achieved rate is at least (1 - tolerance) × offered")
	flag.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait after a step for every accepted span to reach the sink")
	flag.Float64Var(&o.quiet, "quiet", 0.3, "before each step, wait until the rest of the machine uses fewer cores than this (0: do not wait)")
	flag.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "wait at most this long for -quiet")
	flag.IntVar(&o.retries, "retries", 2, "re-run a step that was not sustained while the rest of the machine used -quiet cores or more, at most this often")
	flag.BoolVar(&o.keepGoing, "keep-going", false, "run a configuration's higher steps after one it did not sustain")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.StringVar(&o.csv, "csv", "", "write the median CPU per 100k spans of every configuration and step to this CSV file (for benchtable -e2e)")
	flag.StringVar(&o.workdir, "workdir", "", "where to write configurations and collector logs (default: a temporary directory, removed afterwards)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up (and stop the collectors) after this long")
	flag.Func("feature-gates", "feature gates to enable in every collector, comma-separated (as the collector's --feature-gates), e.g. pdata.useProtoPooling", func(v string) error {
		o.featureGates = append(o.featureGates, strings.Split(v, ",")...)
		return nil
	})
	flag.Parse()

	var err error
	if o.rates, err = parseRates(rates); err != nil {
		fail(err)
	}
	for _, c := range strings.Split(configs, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.configs = append(o.configs, c)
		}
	}
	if o.protocol != "http" && o.protocol != "grpc" {
		fail(fmt.Errorf("-protocol must be http or grpc, got %q", o.protocol))
	}
	if o.batch < o.resources || o.concurrency < 1 || o.repeat < 1 || o.step <= 0 || o.drain <= 0 {
		fail(errors.New("-batch must be at least -resources; -concurrency, -repeat, -step and -drain must be positive"))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-rates: %q is not a positive number", f)
		}
		if len(out) > 0 && v <= out[len(out)-1] {
			return nil, fmt.Errorf("-rates must ascend")
		}
		out = append(out, v)
	}
	return out, nil
}

// pipelines are the configurations that can be compared. "audit" is the
// fair one: the processor matches and tags every span it would with its
// default configuration, but every region sends audit events, so it drops
// nothing and the exporter has as much to send as without it. "audit-core",
// "floor" and "ottl" write the same three attributes (audit.action,
// audit.outcome, audit.region) on the same spans and drop nothing: they are
// the like-for-like comparison. peer is the OTTL generated from the same
// (every region sending) catalogs.
func pipelines(catalogFiles []string, peer bench.PeerConfig) map[string]pipelineConfig {
	var files strings.Builder
	for _, f := range catalogFiles {
		fmt.Fprintf(&files, "\n  - %s", strconv.Quote(f))
	}
	fields := "\nfields:\n  severity: false\n  reason_code: false\n  target_type: false\n  message: false\n  initiator_id: false"
	allFiles := "builtin_catalogs: []\ncatalog_files:" + files.String()
	return map[string]pipelineConfig{
		"without": {name: "without", binary: binAudit, about: "otelcol-audit: memory_limiter, batch: no processor"},
		"audit": {
			name:   "audit",
			binary: binAudit,
			about:  "otelcol-audit: memory_limiter, audit, batch; audit = " + allSending + ": matches and tags as the default (every field), drops nothing",
			audit:  allFiles,
			base:   "without",
		},
		"audit-core": {
			name:   "audit-core",
			binary: binAudit,
			about:  "as `audit`, with the optional audit fields switched off (fields: severity, reason_code, target_type, message, initiator_id all false): only audit.action, audit.outcome and audit.region are written",
			audit:  allFiles + fields,
			base:   "without",
		},
		"audit-connector": {
			name:       "audit-connector",
			binary:     binAudit,
			about:      "as `audit`, and the traces pipeline also exports to the audit connector (the same catalogs), whose events a logs pipeline exports to the same sink",
			audit:      allFiles,
			connector:  namedYAML{"audit", allFiles},
			base:       "without",
			eventsBase: "audit",
		},
		"audit-default": {
			name:   "audit-default",
			binary: binAudit,
			about:  "otelcol-audit: memory_limiter, audit, batch; audit = {} (defaults: drops the matched spans of regions where the service sends no events, ~64% of this input)",
			audit:  "{}",
			base:   "without",
		},
		// The pre-tagged pair receives the spans as `audit` exports them:
		// the processor strips the audit attributes it finds and writes the
		// same ones again, so both collectors decode and export the same
		// bytes and the difference between them is the processor's own work.
		"without-tagged": {
			name:   "without-tagged",
			binary: binAudit,
			about:  "as `without`, sent the pre-tagged input: the same spans with the audit attributes `audit` writes already on them (80.1% of the spans)",
			tagged: true,
		},
		"audit-tagged": {
			name:   "audit-tagged",
			binary: binAudit,
			about:  "as `audit`, sent the pre-tagged input: it removes the audit attributes it receives and writes the same ones again, so it exports exactly what it receives and what `without-tagged` exports",
			audit:  allFiles,
			tagged: true,
			base:   "without-tagged",
		},
		"floor": {
			name:       "floor",
			binary:     binFloor,
			about:      "otelcol-floor (the otelcol-audit release with bench/floorprocessor instead of audit): memory_limiter, floor, batch; writes audit.action (a constant), audit.outcome and audit.region on every HTTP server span, matching nothing",
			processors: []namedYAML{{"floor", "{}"}},
			base:       "without",
		},
		"floor-connector": {
			name:       "floor-connector",
			binary:     binFloor,
			about:      "as `floor`, and the traces pipeline also exports to the floor connector (bench/floorprocessor/floorconnector: an event of the audit connector's shape for every span carrying audit.action, deciding nothing), whose events a logs pipeline exports to the same sink",
			processors: []namedYAML{{"floor", "{}"}},
			connector:  namedYAML{"floor", "{}"},
			base:       "without",
			eventsBase: "floor",
		},
		"ottl-without": {
			name:   "ottl-without",
			binary: binOTTL,
			about:  "otelcol-ottl (contrib v0.161.0, core v1.67.0): memory_limiter, batch: no processor",
		},
		"ottl": {
			name:   "ottl",
			binary: binOTTL,
			about: fmt.Sprintf("otelcol-ottl: memory_limiter, transform, filter, batch; the peer's OTTL generated from the same catalogs by bench.PeerRules (%d span statements, %d filter conditions): tags audit.action, audit.outcome, audit.region as `audit-core` does, drops nothing",
				len(peer.Statements), len(peer.Conditions)),
			processors: []namedYAML{{"transform", transformYAML(peer)}, {"filter", filterYAML(peer)}},
			base:       "ottl-without",
		},
	}
}

// transformYAML is the transform processor's configuration of the peer's
// statements (span context, error_mode propagate: an error refuses the batch).
func transformYAML(peer bench.PeerConfig) string {
	return "error_mode: propagate\ntrace_statements:\n  - context: span\n    statements:" + yamlList(peer.Statements, "      ")
}

// filterYAML is the filter processor's configuration of the peer's drop
// conditions.
func filterYAML(peer bench.PeerConfig) string {
	return "error_mode: propagate\ntrace_conditions:\n  - context: span\n    conditions:" + yamlList(peer.Conditions, "      ")
}

// yamlList writes each string as a YAML list item, double-quoted (a JSON
// string is a YAML double-quoted scalar), with every $ doubled: the
// collector reads $$ as a $ and ${NAME} as a variable to expand.
func yamlList(items []string, prefix string) string {
	var b strings.Builder
	for _, it := range items {
		q, _ := json.Marshal(strings.ReplaceAll(it, "$", "$$"))
		b.WriteString("\n" + prefix + "- " + string(q))
	}
	return b.String()
}

const allSending = "the built-in catalogs' events as catalog_files in which every region (and the input's ap-north) sends events"

func configNames() []string {
	names := []string{}
	for n := range pipelines(nil, bench.PeerConfig{}) {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// instance is one configuration under test: its collector, sink and sender.
type instance struct {
	cfg     pipelineConfig
	col     *harness.Collector
	sink    *harness.Sink
	send    sender
	p       *payloads    // what it is sent
	next    atomic.Int64 // the next payload to send, round robin
	stopped bool         // a step was not sustained and -keep-going is off
	// The spans of the exported requests the sink decoded (1 in
	// sampleEvery), and how many of them carry audit.action.
	sampledSpans, sampledTagged atomic.Int64
}

// sampleEvery: the sink decodes one exported request in sampleEvery to see
// how many spans carry audit.action.
const sampleEvery = 25

// inspect counts the spans of a request the sink decoded, and the tagged ones.
func (in *instance) inspect(td ptrace.Traces) {
	spans, tagged := countTagged(td)
	in.sampledSpans.Add(int64(spans))
	in.sampledTagged.Add(int64(tagged))
}

func run(ctx context.Context, o options) (err error) {
	tolerance = o.tolerance
	if runtime.GOOS != "linux" {
		return errors.New("the CPU figures come from /proc/PID/stat: Linux only")
	}
	// The binaries of the configurations to run, and what they are,
	// read before the run: the tree may change meanwhile.
	binaries := map[string]string{}
	var about []string
	for _, name := range o.configs {
		b := pipelines(nil, bench.PeerConfig{})[name].binary
		if _, seen := binaries[b]; seen || b == "" {
			continue
		}
		path := map[string]string{binAudit: o.collector, binFloor: o.floor, binOTTL: o.ottl}[b]
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%w (build it with make bench-dists)", err)
		}
		binaries[b] = abs
		about = append(about, abs+binaryInfo(abs))
	}
	dir := o.workdir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "auditbench-e2e"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files, err := bench.WriteAllSending(dir)
	if err != nil {
		return err
	}
	allSendingCatalogs, err := bench.AllSending()
	if err != nil {
		return err
	}
	all := pipelines(files, bench.PeerRules(allSendingCatalogs))

	catalogs, err := bench.Builtins()
	if err != nil {
		return err
	}
	const seed = 42 // as the in-process benchmarks
	plain, err := buildPayloads(bench.NewInput(catalogs, seed), 64, o.batch, o.resources)
	if err != nil {
		return err
	}
	var pretagged *payloads
	for _, name := range o.configs {
		if all[name].tagged && pretagged == nil {
			if pretagged, err = tagPayloads(plain, all["audit"].audit); err != nil {
				return fmt.Errorf("pre-tagged input: %w", err)
			}
		}
	}

	var insts []*instance
	defer func() {
		for _, in := range insts {
			if in.send != nil {
				in.send.close()
			}
			_ = in.col.Stop(5 * time.Second)
			_ = in.sink.Close()
		}
	}()
	for _, name := range o.configs {
		cfg, ok := all[name]
		if !ok {
			return fmt.Errorf("unknown configuration %q (known: %s)", name, strings.Join(configNames(), ", "))
		}
		in := &instance{cfg: cfg, p: plain}
		if cfg.tagged {
			in.p = pretagged
		}
		if in.sink, err = harness.StartSink(harness.SinkOptions{InspectEvery: sampleEvery, InspectTraces: in.inspect}); err != nil {
			return err
		}
		if in.col, err = startCollector(ctx, binaries[cfg.binary], dir, cfg, in.sink.URL, o.featureGates); err != nil {
			_ = in.sink.Close()
			return err
		}
		insts = append(insts, in)
		if o.protocol == "grpc" {
			gs, err := newGRPCSender(in.col.GRPCEndpoint, in.p)
			if err != nil {
				return err
			}
			in.send = gs
		} else {
			in.send = newHTTPSender("http://"+in.col.HTTPEndpoint, in.p, o.concurrency)
		}
		fmt.Fprintf(os.Stderr, "started %s (pid %d): %s\n", name, in.col.PID(), cfg.about)
	}

	if o.warmup > 0 {
		for _, in := range insts {
			fmt.Fprintf(os.Stderr, "warm-up %s: %s at %.0f spans/s\n", in.cfg.name, o.warmup, o.rates[0])
			if _, err := measure(ctx, in, o.rates[0], o.warmup, o); err != nil {
				return err
			}
		}
	}

	var results []result
	for si, rate := range o.rates {
		for r := 0; r < o.repeat; r++ {
			// Rotate the order so that no configuration always runs first.
			for k := range insts {
				in := insts[(k+si+r)%len(insts)]
				if in.stopped || (r > 0 && !o.keepGoing && !sustainedAll(results, in.cfg.name, rate)) {
					continue // a run of this step already failed: the step is not sustained
				}
				for attempt := 0; ; attempt++ {
					if o.quiet > 0 {
						if _, err := waitQuiet(ctx, insts, o.quiet, o.quietWait); err != nil {
							return err
						}
					}
					others := startOtherLoad(insts)
					res, err := measure(ctx, in, rate, o.step, o)
					if err != nil {
						return err
					}
					res.others = others.cores(insts)
					res.attempts = attempt + 1
					fmt.Fprintf(os.Stderr, "%-14s %7.0f spans/s offered: achieved %7.0f (last batch %s late), CPU %.3f s/100k spans, other load %.2f cores, %s\n",
						in.cfg.name, rate, res.achieved(), res.load.late.Round(time.Millisecond), res.cpuPer100k(), res.others, res.verdict())
					if res.sustained() || o.quiet <= 0 || res.others < o.quiet || attempt >= o.retries {
						results = append(results, res)
						break
					}
					fmt.Fprintf(os.Stderr, "  other work on the machine: running the step again\n")
				}
			}
		}
		for _, in := range insts {
			if !o.keepGoing && !in.stopped && !sustainedAll(results, in.cfg.name, rate) {
				in.stopped = true
				fmt.Fprintf(os.Stderr, "%s: not sustained at %.0f spans/s; no higher steps (-keep-going runs them)\n", in.cfg.name, rate)
			}
		}
	}

	var report strings.Builder
	writeReport(&report, o, strings.Join(about, "; "), insts, results)
	fmt.Print(report.String())
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(report.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", o.out)
	}
	if o.csv != "" {
		var b strings.Builder
		writeCSV(&b, o, results)
		if err := os.WriteFile(o.csv, []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", o.csv)
	}
	return nil
}

// result is one step of one configuration.
type result struct {
	config    string
	rate      float64
	load      load
	delta     counters      // the collector's own counts over the step and the drain
	delivered int64         // spans the sink received
	events    int64         // log records (the connector's events) the sink received
	missing   int64         // accepted − delivered − dropped by the processor
	cpu       float64       // collector CPU seconds (schedstat), from the step's start until drained
	ticksCPU  float64       // the same from /proc/PID/stat, 10 ms resolution
	wall      time.Duration // from the step's start until drained
	driverCPU float64       // this process's CPU seconds over the same time (senders and sinks)
	others    float64       // cores the rest of the machine used meanwhile
	attempts  int
	drained   bool
}

func (r result) achieved() float64 { return float64(r.load.accepted) / r.load.elapsed.Seconds() }

func (r result) cpuPer100k() float64 {
	if r.load.accepted == 0 {
		return math.NaN()
	}
	return r.cpu / float64(r.load.accepted) * 1e5
}

// problems says why the step was not sustained; empty when it was.
func (r result) problems(tolerance float64) []string {
	var p []string
	if r.load.refused > 0 || r.delta.refused > 0 {
		p = append(p, fmt.Sprintf("refused %d (receiver metric %.0f; %v)", r.load.refused, r.delta.refused, r.load.firstErr))
	}
	if r.delta.sendFailed > 0 || r.delta.enqueueFail > 0 {
		p = append(p, fmt.Sprintf("export failed %.0f, enqueue failed %.0f", r.delta.sendFailed, r.delta.enqueueFail))
	}
	if !r.drained || r.missing != 0 {
		p = append(p, fmt.Sprintf("missing %d after the drain", r.missing))
	}
	if r.achieved() < r.load.offeredRate()*(1-tolerance) {
		p = append(p, fmt.Sprintf("achieved %.0f < %.0f%% of offered", r.achieved(), 100*(1-tolerance)))
	}
	return p
}

// tolerance is -tolerance, set by run before any verdict.
var tolerance = 0.03

func (r result) sustained() bool { return len(r.problems(tolerance)) == 0 }

func (r result) verdict() string {
	if p := r.problems(tolerance); len(p) > 0 {
		return "NOT sustained: " + strings.Join(p, "; ")
	}
	return "sustained"
}

func sustainedAll(results []result, config string, rate float64) bool {
	seen := false
	for _, r := range results {
		if r.config == config && r.rate == rate {
			seen = true
			if !r.sustained() {
				return false
			}
		}
	}
	return seen
}

// measure runs one step against in and waits until every accepted span has
// reached the sink or was dropped by the processor (or -drain passes).
func measure(ctx context.Context, in *instance, rate float64, d time.Duration, o options) (result, error) {
	res := result{config: in.cfg.name, rate: rate}
	m0, err := harness.Scrape(ctx, in.col.MetricsURL)
	if err != nil {
		return res, err
	}
	c0 := countersOf(m0)
	sink0 := in.sink.Spans()
	events0 := in.sink.LogRecords()
	drv0 := selfCPUSeconds()
	cpu0, ticks0, err := cpuSeconds(in.col.PID())
	if err != nil {
		return res, err
	}
	start := time.Now()

	res.load = runLoad(ctx, in.send, in.p, &in.next, rate, d, o.concurrency)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := alive(in.col, in.cfg.name); err != nil {
		return res, err
	}

	// Drain: the batch processor holds spans up to its timeout (200ms), the
	// exporter's queue may hold more.
	drainCtx, cancel := context.WithTimeout(ctx, o.drain)
	m1, err := harness.WaitMetrics(drainCtx, in.col.MetricsURL, func(m harness.Metrics) bool {
		res.delivered = in.sink.Spans() - sink0
		res.missing = int64(res.load.accepted) - res.delivered - int64(countersOf(m).auditDropped-c0.auditDropped)
		return res.missing <= 0
	})
	cancel()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if m1 == nil {
		return res, err
	}
	res.drained = err == nil
	c1 := countersOf(m1)
	cpu1, ticks1, err := cpuSeconds(in.col.PID())
	if err != nil {
		return res, err
	}
	res.wall = time.Since(start)
	res.events = in.sink.LogRecords() - events0
	res.driverCPU = selfCPUSeconds() - drv0
	res.cpu = cpu1 - cpu0
	res.ticksCPU = ticks1 - ticks0
	if math.Abs(res.cpu-res.ticksCPU) > 0.05+0.1*res.ticksCPU {
		fmt.Fprintf(os.Stderr, "warning: %s: schedstat says %.3f s of CPU, /proc/PID/stat %.2f s\n", in.cfg.name, res.cpu, res.ticksCPU)
	}
	res.delta = c1.minus(c0)
	return res, nil
}

func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// group is the runs of one step of one configuration.
type group struct {
	config string
	rate   float64
	runs   []result
}

func (g group) sustained() bool {
	for _, r := range g.runs {
		if !r.sustained() {
			return false
		}
	}
	return len(g.runs) > 0
}

func (g group) median(f func(result) float64) float64 {
	var v []float64
	for _, r := range g.runs {
		v = append(v, f(r))
	}
	return median(v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func groups(results []result, configs []string, rates []float64) map[string]map[float64]group {
	out := map[string]map[float64]group{}
	for _, c := range configs {
		out[c] = map[float64]group{}
	}
	for _, r := range results {
		if out[r.config] == nil {
			continue // not one of configs
		}
		g := out[r.config][r.rate]
		g.config, g.rate = r.config, r.rate
		g.runs = append(g.runs, r)
		out[r.config][r.rate] = g
	}
	return out
}

// ran returns the groups of configs at rates that ran, rate by rate (every
// configuration at the first rate, then at the next) or, with byConfig,
// configuration by configuration.
func ran(gs map[string]map[float64]group, configs []string, rates []float64, byConfig bool) []group {
	var out []group
	add := func(c string, rate float64) {
		if g, ok := gs[c][rate]; ok {
			out = append(out, g)
		}
	}
	if byConfig {
		for _, c := range configs {
			for _, rate := range rates {
				add(c, rate)
			}
		}
		return out
	}
	for _, rate := range rates {
		for _, c := range configs {
			add(c, rate)
		}
	}
	return out
}

func writeReport(w io.Writer, o options, collector string, insts []*instance, results []result) {
	gs := groups(results, o.configs, o.rates)
	fmt.Fprintf(w, "## End to end: the collector without a processor, with the audit processor, the floor processor and the OTTL peer\n\n")
	fmt.Fprintf(w, "- %s, %s/%s, %d CPUs (shared by the collector under test and this load generator), %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "- collector: %s\n", collector)
	fmt.Fprintf(w, "- load: OTLP/%s on 127.0.0.1, %d spans per request in %d resources (bench.Input, seed 42, 64 distinct requests sent round robin), at most %d in flight, %s per step, warm-up %s, %d run(s) per step\n",
		o.protocol, o.batch, o.resources, o.concurrency, o.step, o.warmup, o.repeat)
	fmt.Fprintf(w, "- every collector: otlp receiver, memory_limiter (1 GiB), batch (8192 spans or 200ms), otlp_http exporter without compression to a sink in the load generator\n")
	if len(o.featureGates) > 0 {
		fmt.Fprintf(w, "- feature gates enabled in every collector: %s\n", strings.Join(o.featureGates, ", "))
	}
	for _, in := range insts {
		fmt.Fprintf(w, "- `%s`: %s\n", in.cfg.name, in.cfg.about)
	}
	fmt.Fprintf(w, "- CPU = the collector's run time (sum of /proc/PID/task/*/schedstat) from the start of a step until every accepted span reached the sink or was dropped by the processor, per 100k accepted spans (= cores needed per 100k spans/s); with several runs, the median (min–max). Other load = what the rest of the machine kept busy meanwhile (/proc/stat). Sustained = nothing refused, failed or missing, achieved rate ≥ %.0f%% of offered.\n\n", 100*(1-o.tolerance))

	fmt.Fprintf(w, "| offered spans/s | configuration | achieved spans/s | exported | dropped by audit | CPU s per 100k spans | collector cores | load generator cores | other load, cores | sustained |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, g := range ran(gs, o.configs, o.rates, false) {
		var exported, dropped, accepted int64
		var wall, drv, cpu, other float64
		reruns := 0
		for _, r := range g.runs {
			other += r.others * r.wall.Seconds()
			reruns += r.attempts - 1
			exported += r.delivered
			dropped += int64(r.delta.auditDropped)
			accepted += int64(r.load.accepted)
			wall += r.wall.Seconds()
			drv += r.driverCPU
			cpu += r.cpu
		}
		verdict := "yes"
		if !g.sustained() {
			var why []string
			for _, r := range g.runs {
				why = append(why, r.problems(o.tolerance)...)
			}
			verdict = "**no**: " + strings.Join(why, "; ")
		}
		if reruns > 0 {
			verdict += fmt.Sprintf(" (after %d re-run(s): other work on the machine)", reruns)
		}
		cpuCell := fmt.Sprintf("%.3f", g.median(result.cpuPer100k))
		if len(g.runs) > 1 {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range g.runs {
				lo, hi = min(lo, r.cpuPer100k()), max(hi, r.cpuPer100k())
			}
			cpuCell += fmt.Sprintf(" (%.3f–%.3f)", lo, hi)
		}
		fmt.Fprintf(w, "| %.0f | %s | %.0f | %s | %s | %s | %.2f | %.2f | %.2f | %s |\n",
			g.rate, g.config, g.median(result.achieved), pct(exported, accepted), pct(dropped, accepted),
			cpuCell, cpu/wall, drv/wall, other/wall, verdict)
	}

	// Each configuration is compared with its base, when that ran too.
	base := map[string]string{}
	var compared []string
	for _, in := range insts {
		if b := in.cfg.base; b != "" && slices.Contains(o.configs, b) {
			base[in.cfg.name] = b
			compared = append(compared, in.cfg.name)
		}
	}
	if len(compared) == 0 {
		return
	}
	fmt.Fprintf(w, "\nOverhead = CPU per span with the processor / without − 1 (each configuration against its base), at the steps both sustained:\n\n")
	fmt.Fprintf(w, "| offered spans/s |")
	for _, c := range o.configs {
		fmt.Fprintf(w, " %s CPU s per 100k |", c)
	}
	for _, c := range compared {
		fmt.Fprintf(w, " %s / %s |", c, base[c])
	}
	fmt.Fprintf(w, "\n|---:|%s%s\n", strings.Repeat("---:|", len(o.configs)), strings.Repeat("---:|", len(compared)))
	overheads := map[string][]float64{}
	for _, rate := range o.rates {
		fmt.Fprintf(w, "| %.0f |", rate)
		for _, c := range o.configs {
			if g, ok := gs[c][rate]; ok {
				fmt.Fprintf(w, " %.3f |", g.median(result.cpuPer100k))
			} else {
				fmt.Fprintf(w, " |")
			}
		}
		for _, c := range compared {
			b, okb := gs[base[c]][rate]
			g, ok := gs[c][rate]
			if !ok || !okb {
				fmt.Fprintf(w, " |")
				continue
			}
			ov := g.median(result.cpuPer100k)/b.median(result.cpuPer100k) - 1
			mark := ""
			if b.sustained() && g.sustained() {
				overheads[c] = append(overheads[c], ov)
			} else {
				mark = " (not sustained)"
			}
			fmt.Fprintf(w, " %+.1f%%%s |", 100*ov, mark)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, c := range o.configs {
		fmt.Fprintf(w, "- highest sustained rate, `%s`: %s\n", c, highest(gs[c], o.rates))
	}
	for _, c := range o.configs {
		fmt.Fprintf(w, "- exported spans carrying audit.action, `%s` (1 request in %d decoded): %s\n", c, sampleEvery, tagged(insts, c))
	}
	for _, c := range compared {
		ov := overheads[c]
		if len(ov) == 0 {
			fmt.Fprintf(w, "- overhead of `%s` against `%s`: no step sustained by both\n", c, base[c])
			continue
		}
		med := median(ov)
		fmt.Fprintf(w, "- overhead of `%s` against `%s` (median over %d sustained steps): %+.1f%% (range %+.1f%% to %+.1f%%)\n",
			c, base[c], len(ov), 100*med, 100*slices.Min(ov), 100*slices.Max(ov))
	}
	writeComparisons(w, o, gs)
	writeSplit(w, o, gs)
}

// overheadOf is the overhead of c against its base at one step, and whether
// both sustained it.
func overheadOf(gs map[string]map[float64]group, all map[string]pipelineConfig, c string, rate float64) (float64, bool) {
	b := all[c].base
	g, ok := gs[c][rate]
	bg, okb := gs[b][rate]
	if !ok || !okb || !g.sustained() || !bg.sustained() {
		return 0, false
	}
	return g.median(result.cpuPer100k)/bg.median(result.cpuPer100k) - 1, true
}

// comparisons are the targets of the end-to-end run: the ratio of the
// overheads of two configurations (each against the collector of its own
// release without a processor), over the steps where all four sustained.
var comparisons = []struct {
	num, den string
	target   string
	ok       func(float64) bool
}{
	{"ottl", "audit-core", "≥ 10", func(r float64) bool { return r >= 10 }},
	{"ottl", "audit", "", nil},
	{"audit-core", "floor", "≤ 1.15", func(r float64) bool { return r <= 1.15 }},
	{"audit", "floor", "", nil},
}

func writeComparisons(w io.Writer, o options, gs map[string]map[float64]group) {
	all := pipelines(nil, bench.PeerConfig{})
	for _, c := range comparisons {
		if !slices.Contains(o.configs, c.num) || !slices.Contains(o.configs, c.den) ||
			!slices.Contains(o.configs, all[c.num].base) || !slices.Contains(o.configs, all[c.den].base) {
			continue
		}
		var num, den []float64
		var steps []string
		for _, rate := range o.rates {
			a, oka := overheadOf(gs, all, c.num, rate)
			b, okb := overheadOf(gs, all, c.den, rate)
			if oka && okb {
				num, den = append(num, a), append(den, b)
				steps = append(steps, fmt.Sprintf("%.0fk", rate/1000))
			}
		}
		if len(num) == 0 {
			fmt.Fprintf(w, "- overhead of `%s` / overhead of `%s`: no step where both (and their bases) were sustained\n", c.num, c.den)
			continue
		}
		mn, md := median(num), median(den)
		if md <= 0 {
			fmt.Fprintf(w, "- overhead of `%s` / overhead of `%s` (medians over the %d steps all sustained: %s): %+.1f%% / %+.1f%%: no ratio, the second is within the noise of its base\n",
				c.num, c.den, len(num), strings.Join(steps, ", "), 100*mn, 100*md)
			continue
		}
		verdict := ""
		if c.ok != nil {
			verdict = "; target " + c.target + ": met"
			if !c.ok(mn / md) {
				verdict = "; target " + c.target + ": MISSED"
			}
		}
		fmt.Fprintf(w, "- overhead of `%s` / overhead of `%s` (medians over the %d steps all sustained: %s): %+.1f%% / %+.1f%% = %.2f×%s\n",
			c.num, c.den, len(num), strings.Join(steps, ", "), 100*mn, 100*md, mn/md, verdict)
	}
	// The connectors' cost per event: what a configuration with a connector
	// costs more than the same without it, per event the sink received.
	perEvent := map[string]map[float64]float64{}
	for _, c := range o.configs {
		b := all[c].eventsBase
		if b == "" || !slices.Contains(o.configs, b) {
			continue
		}
		per, perSpan := eventCosts(gs, o.rates, c, b)
		if len(per) == 0 {
			fmt.Fprintf(w, "- the %s connector: no step where `%s` and `%s` were both sustained\n", all[c].connector.name, c, b)
			continue
		}
		perEvent[c] = per
		costs := slices.Collect(maps.Values(per))
		fmt.Fprintf(w, "- the %s connector: %.2f events per span; CPU per event (`%s` − `%s`, per event received): median %.2f µs over %d steps (%.2f to %.2f)\n",
			all[c].connector.name, median(perSpan), c, b, median(costs), len(costs), slices.Min(costs), slices.Max(costs))
	}
	// Ours against the floor's, at the steps where both were measured.
	if ours, floor := perEvent["audit-connector"], perEvent["floor-connector"]; ours != nil && floor != nil {
		var r []float64
		var steps []string
		for _, rate := range o.rates {
			a, oka := ours[rate]
			f, okf := floor[rate]
			if oka && okf && f > 0 {
				r = append(r, a/f)
				steps = append(steps, fmt.Sprintf("%.0fk", rate/1000))
			}
		}
		if len(r) > 0 {
			fmt.Fprintf(w, "- CPU per event, `audit-connector` / `floor-connector` (median over the %d steps both measured: %s): %.2f× (%.2f to %.2f)\n",
				len(r), strings.Join(steps, ", "), median(r), slices.Min(r), slices.Max(r))
		}
	}
}

// eventCosts returns, for each step that c (a configuration with a
// connector) and base (the same without it) both sustained, the CPU per
// event in µs: c's CPU minus base's, per event the sink received; and the
// events per accepted span of each of those steps.
func eventCosts(gs map[string]map[float64]group, rates []float64, c, base string) (map[float64]float64, []float64) {
	per := map[float64]float64{}
	var perSpan []float64
	for _, rate := range rates {
		g, ok := gs[c][rate]
		a, oka := gs[base][rate]
		if !ok || !oka || !g.sustained() || !a.sustained() {
			continue
		}
		var events, accepted float64
		for _, r := range g.runs {
			events += float64(r.events)
			accepted += float64(r.load.accepted)
		}
		if events == 0 {
			continue
		}
		extra := (g.median(result.cpuPer100k) - a.median(result.cpuPer100k)) / 1e5 // CPU s per span
		perSpan = append(perSpan, events/accepted)
		per[rate] = extra * accepted / events * 1e6
	}
	return per, perSpan
}

// writeCSV writes one row per configuration and step, for benchtable's
// plot of CPU per span against the offered rate.
func writeCSV(w io.Writer, o options, results []result) {
	gs := groups(results, o.configs, o.rates)
	fmt.Fprintln(w, "config,rate,cpu_s_per_100k,achieved,sustained")
	for _, g := range ran(gs, o.configs, o.rates, true) {
		fmt.Fprintf(w, "%s,%.0f,%.4f,%.0f,%t\n", g.config, g.rate, g.median(result.cpuPer100k), g.median(result.achieved), g.sustained())
	}
}

// writeSplit divides the overhead of `audit` into the processor's own work
// (audit-tagged − without-tagged: the same bytes in and out) and the rest,
// which is what the collector pays for the larger spans `audit` exports.
func writeSplit(w io.Writer, o options, gs map[string]map[float64]group) {
	for _, c := range []string{"without", "audit", "without-tagged", "audit-tagged"} {
		if !slices.Contains(o.configs, c) {
			return
		}
	}
	fmt.Fprintf(w, "\nWhere the overhead of `audit` goes, in CPU s per 100k spans and as a share of `without` (medians, steps all four sustained):\n\n")
	fmt.Fprintf(w, "| offered spans/s | `audit` − `without` | processor's own work: `audit-tagged` − `without-tagged` | the rest: exporting the audit attributes |\n|---:|---:|---:|---:|\n")
	var total, own []float64
	for _, rate := range o.rates {
		var m [4]float64
		ok := true
		for i, c := range []string{"without", "audit", "without-tagged", "audit-tagged"} {
			g, found := gs[c][rate]
			if !found || !g.sustained() {
				ok = false
				break
			}
			m[i] = g.median(result.cpuPer100k)
		}
		if !ok {
			continue
		}
		t, p := m[1]-m[0], m[3]-m[2]
		total, own = append(total, t/m[0]), append(own, p/m[0])
		fmt.Fprintf(w, "| %.0f | %.3f (%+.1f%%) | %.3f (%+.1f%%) | %.3f (%+.1f%%) |\n", rate, t, 100*t/m[0], p, 100*p/m[0], t-p, 100*(t-p)/m[0])
	}
	if len(total) > 0 {
		fmt.Fprintf(w, "\n- median over %d steps: `audit` %+.1f%% of `without`, of which the processor's own work %+.1f%%\n", len(total), 100*median(total), 100*median(own))
	}
}

func highest(gs map[float64]group, rates []float64) string {
	best := "none of the steps"
	for _, rate := range rates {
		g, ok := gs[rate]
		if !ok || !g.sustained() {
			break
		}
		best = fmt.Sprintf("%.0f spans/s", rate)
		if rate == rates[len(rates)-1] {
			best += " (the highest step; more may be possible)"
		}
	}
	return best
}

func pct(n, of int64) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func tagged(insts []*instance, config string) string {
	for _, in := range insts {
		if in.cfg.name == config {
			n := in.sampledSpans.Load()
			if n == 0 {
				return "–"
			}
			return pct(in.sampledTagged.Load(), n)
		}
	}
	return "–"
}

// binaryInfo describes the binary: size, modification time and the git
// revision of the working tree it was (presumably) built from.
func binaryInfo(path string) string {
	var parts []string
	if st, err := os.Stat(path); err == nil {
		parts = append(parts, fmt.Sprintf("%.1f MiB, built %s", float64(st.Size())/(1<<20), st.ModTime().UTC().Format("2006-01-02 15:04 UTC")))
	}
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = filepath.Dir(path)
	if out, err := cmd.Output(); err == nil {
		parts = append(parts, "git describe --dirty at the start of the run: "+strings.TrimSpace(string(out)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
