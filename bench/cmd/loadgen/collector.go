package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// freePort returns a TCP port on 127.0.0.1 that was free when asked for.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// collector is one running otelcol-audit process.
type collector struct {
	name         string
	grpcEndpoint string // host:port of the OTLP/gRPC receiver
	httpURL      string // base URL of the OTLP/HTTP receiver
	metricsURL   string
	logPath      string

	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

// pipelineConfig is what differs between the runs: the collector binary,
// the processors between memory_limiter and batch and their configuration,
// and the audit connector.
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
	// connector is the audit connector's YAML body; "" = none. With it the
	// traces pipeline exports to the connector too, and a logs pipeline
	// exports its events to the same sink.
	connector string
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

// collectorYAML is the configuration of every run: OTLP in (gRPC and HTTP)
// on loopback, memory_limiter, [processors,] batch, OTLP/HTTP out without
// compression to the driver's sink, the collector's own metrics in
// Prometheus format. Only the processors (and the connector) differ.
func collectorYAML(p pipelineConfig, grpcPort, httpPort, metricsPort int, sinkURL string) string {
	procs := []namedYAML{}
	if p.audit != "" {
		procs = append(procs, namedYAML{"audit", p.audit})
	}
	procs = append(procs, p.processors...)
	chain := []string{"memory_limiter"}
	var defs strings.Builder
	for _, np := range procs {
		chain = append(chain, np.name)
		defs.WriteString("  " + np.name + ":\n" + indent(strings.TrimSpace(np.body), "    ") + "\n")
	}
	chain = append(chain, "batch")
	exporters := "[otlp_http]"
	connectors, events := "", ""
	if p.connector != "" {
		exporters = "[otlp_http, audit]"
		connectors = "connectors:\n  audit:\n" + indent(strings.TrimSpace(p.connector), "    ") + "\n"
		events = "    logs/events:\n      receivers: [audit]\n      exporters: [otlp_http]\n"
	}
	return fmt.Sprintf(`# %[1]s: written by bench/cmd/loadgen
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[2]d
      http:
        endpoint: 127.0.0.1:%[3]d
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 1024
    spike_limit_mib: 256
%[4]s  batch:
    timeout: 200ms
    send_batch_size: 8192
%[8]sexporters:
  otlp_http:
    endpoint: %[5]s
    compression: none
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[6]d
  pipelines:
    traces:
      receivers: [otlp]
      processors: [%[7]s]
      exporters: %[9]s
%[10]s`, p.name, grpcPort, httpPort, defs.String(), sinkURL, metricsPort, strings.Join(chain, ", "), connectors, exporters, events)
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// startCollector writes the configuration of p into dir, starts binary in a
// process group of its own (killed by the kernel if the driver dies first, on
// Linux) and waits until its receivers and metrics endpoint answer. On error
// nothing is left running.
func startCollector(ctx context.Context, binary, dir string, p pipelineConfig, sinkURL string) (*collector, error) {
	var ports [3]int
	for i := range ports {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ports[i] = port
	}
	c := &collector{
		name:         p.name,
		grpcEndpoint: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		httpURL:      fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		metricsURL:   fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2]),
		logPath:      filepath.Join(dir, p.name+".log"),
		exited:       make(chan struct{}),
	}
	cfgPath := filepath.Join(dir, p.name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(collectorYAML(p, ports[0], ports[1], ports[2], sinkURL)), 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		return nil, err
	}
	c.logFile = logFile
	c.cmd = exec.Command(binary, "--config", cfgPath)
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	c.cmd.SysProcAttr = procAttr()
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.waitReady(readyCtx); err != nil {
		c.stop(5 * time.Second)
		return nil, fmt.Errorf("collector %s: %w\nits log (%s):\n%s", p.name, err, c.logPath, c.log())
	}
	return c, nil
}

func (c *collector) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("exited during start-up: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if !dialable(c.grpcEndpoint) || !dialable(strings.TrimPrefix(c.httpURL, "http://")) {
			continue
		}
		resp, err := client.Get(c.metricsURL)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
}

func dialable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// alive reports an error when the collector has exited.
func (c *collector) alive() error {
	select {
	case <-c.exited:
		return fmt.Errorf("collector %s exited: %v\nits log (%s):\n%s", c.name, c.waitErr, c.logPath, c.log())
	default:
		return nil
	}
}

// stop sends SIGTERM to the collector's process group, waits up to timeout
// and then kills the group. Safe to call more than once.
func (c *collector) stop(timeout time.Duration) {
	select {
	case <-c.exited:
	default:
		signalGroup(c.cmd.Process.Pid, false)
		select {
		case <-c.exited:
		case <-time.After(timeout):
			signalGroup(c.cmd.Process.Pid, true)
			<-c.exited
		}
	}
	c.logFile.Close()
}

func (c *collector) log() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	return string(b)
}

// cpuSeconds returns the CPU time the collector has used so far: the sum of
// its threads' run time from /proc/PID/task/*/schedstat (nanoseconds, as
// the scheduler accounts it), and, as a cross-check, utime+stime from
// /proc/PID/stat (in clock ticks, 10 ms, sampled). A thread that exits takes
// its schedstat time with it; Go's runtime keeps its threads, and the
// driver warns when the two figures disagree.
func (c *collector) cpuSeconds() (sched, ticks float64, err error) {
	pid := c.cmd.Process.Pid
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
