package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// pipelineConfig is what differs between the runs: the collector binary,
// the processors between memory_limiter and batch and their configuration,
// and the connector that makes events (audit, or the floor's).
type pipelineConfig struct {
	name  string
	about string // one line for the report
	// binary is the distribution that runs it: binAudit (otelcol-audit,
	// -collector), binFloor (otelcol-floor, -floor-collector) or binOTTL
	// (otelcol-ottl, -ottl-collector).
	binary string
	audit  string // the audit processor's YAML body; "" = not in the pipeline
	// processors are other processors, in pipeline order, between
	// memory_limiter and batch (after audit): name and YAML body.
	processors []namedYAML
	// connector is the events connector: its name (audit, or floor in
	// otelcol-floor) and YAML body; no name = none. With it the traces
	// pipeline exports to the connector too, and a logs pipeline exports
	// its events to the same sink.
	connector namedYAML
	// eventsBase: for a configuration with a connector, the one without it
	// (the same processors), against which its CPU per event is computed.
	eventsBase string
	// tagged: the configuration is sent the pre-tagged input (the spans as
	// the audit configuration exports them) instead of the plain one.
	tagged bool
	// base is the configuration its overhead is computed against.
	base string
}

type namedYAML struct{ name, body string }

// The distributions a configuration can run on.
const (
	binAudit = "otelcol-audit"
	binFloor = "otelcol-floor"
	binOTTL  = "otelcol-ottl"
)

// collectorYAML is the configuration of every run: OTLP in, memory_limiter,
// [processors,] batch, OTLP/HTTP out without compression to the driver's
// sink. Only the processors (and the connector) differ. The harness adds
// the rest (harness.CollectorOptions.BaseConfig): the otlp receiver (gRPC
// and HTTP) and the collector's own metrics (level normal, Prometheus) on
// free loopback ports, and the sink's URL as the exporter's endpoint.
func collectorYAML(p pipelineConfig) string {
	procs := []namedYAML{}
	if p.audit != "" {
		procs = append(procs, namedYAML{"audit", p.audit})
	}
	procs = append(procs, p.processors...)
	chain := []string{"memory_limiter"}
	var defs strings.Builder
	for _, np := range procs {
		chain = append(chain, np.name)
		defs.WriteString("  " + np.name + ":\n" + harness.Indent(strings.TrimSpace(np.body), "    ") + "\n")
	}
	chain = append(chain, "batch")
	exporters := "[otlp_http]"
	connectors, events := "", ""
	if c := p.connector; c.name != "" {
		exporters = "[otlp_http, " + c.name + "]"
		connectors = "connectors:\n  " + c.name + ":\n" + harness.Indent(strings.TrimSpace(c.body), "    ") + "\n"
		events = "    logs/events:\n      receivers: [" + c.name + "]\n      exporters: [otlp_http]\n"
	}
	return fmt.Sprintf(`# %[1]s: written by bench/cmd/loadgen
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 1024
    spike_limit_mib: 256
%[2]s  batch:
    timeout: 200ms
    send_batch_size: 8192
%[4]sexporters:
  otlp_http:
    compression: none
service:
  telemetry:
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      processors: [%[3]s]
      exporters: %[5]s
%[6]s`, p.name, defs.String(), strings.Join(chain, ", "), connectors, exporters, events)
}

// startCollector writes the configuration of p into dir/NAME/ and runs
// binary on it with the feature gates gates enabled
// (harness.StartCollector: in a process group of its own, killed by the
// kernel if the driver dies first, on Linux), exporting to sinkURL, and
// waits until its receivers and metrics endpoint answer. On error nothing
// is left running.
func startCollector(ctx context.Context, binary, dir string, p pipelineConfig, sinkURL string, gates []string) (*harness.Collector, error) {
	dir = filepath.Join(dir, p.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, p.name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(collectorYAML(p)), 0o600); err != nil {
		return nil, err
	}
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// Neither otelcol-floor nor otelcol-ottl has the health_check extension.
	col, err := harness.StartCollector(readyCtx, harness.CollectorOptions{
		Binary: binary, Dir: dir, BaseConfig: cfgPath, ExportEndpoint: sinkURL, NoHealthCheck: true,
		FeatureGates: gates,
	})
	if err != nil {
		return nil, fmt.Errorf("collector %s: %w", p.name, err)
	}
	return col, nil
}

// alive reports an error, with the end of its log, when the collector of
// configuration name has exited.
func alive(col *harness.Collector, name string) error {
	if err := col.Exited(); err != nil {
		return fmt.Errorf("collector %s: %w\nits log (%s):\n%s", name, err, col.LogPath, logTail(col.Log(), 4000))
	}
	return nil
}

// logTail returns the last max bytes of log.
func logTail(log string, max int) string {
	if len(log) > max {
		return "...\n" + log[len(log)-max:]
	}
	return log
}

// cpuSeconds returns the CPU time the collector pid has used so far: the sum of
// its threads' run time from /proc/PID/task/*/schedstat (nanoseconds, as
// the scheduler accounts it), and, as a cross-check, utime+stime from
// /proc/PID/stat (in clock ticks, 10 ms, sampled). A thread that exits takes
// its schedstat time with it; Go's runtime keeps its threads, and the
// driver warns when the two figures disagree.
func cpuSeconds(pid int) (sched, ticks float64, err error) {
	if ticks, err = procStatSeconds(pid); err != nil {
		return 0, 0, err
	}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, 0, fmt.Errorf("no /proc/%d/task/*/schedstat (Linux with schedstat only)", pid)
	}
	var ns uint64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited just now
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, 0, fmt.Errorf("%s: unexpected format", t)
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: unexpected format", t)
		}
		ns += v
	}
	return float64(ns) / 1e9, ticks, nil
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// procStatSeconds returns utime+stime of every thread of pid, live or exited.
func procStatSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the collector's CPU time (Linux only): %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count the fields after the last ')'. utime and stime are fields 14
	// and 15, so the 12th and 13th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return float64(utime+stime) / clockTicks, nil
}
