// Package harness runs a built collector binary (otelcol-audit, or any
// distribution with an OTLP receiver and an otlp_http exporter) on loopback
// ports, receives what it exports on a small OTLP/HTTP backend, which can
// record it as the file exporter would, or on a sink that only counts it,
// and reads the collector's own metrics. The demo program and the end-to-end
// tests share it, and so does the end-to-end benchmark (bench/cmd/loadgen,
// in the bench module, which requires this one).
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// pickPort returns a TCP port on 127.0.0.1 that was free when it was asked
// for. Another program may take it before the collector binds it, so its
// one user is StartCollector, which starts the collector again on new
// ports when one was taken (the collector is a process of its own and
// cannot be handed a listener). It is not exported: a server of a test's
// own listens on :0 and passes on the address it got.
func pickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CollectorOptions says how to run the collector.
type CollectorOptions struct {
	// Binary is the path of the otelcol-audit executable.
	Binary string
	// Dir is where the configuration and the collector's log are written.
	Dir string
	// AuditConfig is the YAML body of the audit processor's configuration,
	// unindented; empty means the processor's defaults.
	AuditConfig string
	// ExportEndpoint is the base URL of the OTLP/HTTP backend the collector exports to.
	ExportEndpoint string
	// InputEndpoint, when not empty, is the base URL of a second OTLP/HTTP
	// backend that receives every record as the receiver got it: pipelines
	// traces/input and logs/input take the same receiver through
	// memory_limiter and batch, without the audit processor, to the exporter
	// otlp_http/input.
	InputEndpoint string
	// EventsEndpoint, when not empty, is the base URL of an OTLP/HTTP backend
	// for audit events: the traces pipeline also exports to the audit
	// connector, configured as the processor (AuditConfig), whose events go
	// through the pipeline logs/events to the exporter otlp_http/events.
	EventsEndpoint string

	// BaseConfig, when not empty, is a configuration file to run instead of
	// the generated one; AuditConfig and InputEndpoint are then unused. Over
	// either, the collector reads a file written into Dir that sets what the
	// harness needs: the OTLP receiver's gRPC and HTTP protocols, the
	// health_check extension and the collector's own metrics (level normal,
	// a Prometheus reader) on the ports chosen here, its otlp_http exporter's
	// endpoint to ExportEndpoint and its otlp_http/events exporter's to
	// EventsEndpoint (each when set); then Overrides. A BaseConfig need not
	// define the otlp receiver itself, only name it in its pipelines.
	BaseConfig string
	// Overrides are YAML documents merged over the configuration last, in
	// order: maps merge key by key, anything else is replaced.
	Overrides []string
	// Env holds KEY=value pairs added to the collector's environment.
	Env []string
	// FeatureGates are feature gates to enable (--feature-gates).
	FeatureGates []string
	// NoHealthCheck is for a BaseConfig of a distribution without the
	// health_check extension: the file of ports leaves it out, and
	// HealthURL is empty.
	NoHealthCheck bool
}

// Collector is a running collector process.
type Collector struct {
	// GRPCEndpoint and HTTPEndpoint are the OTLP receiver's host:port.
	GRPCEndpoint string
	HTTPEndpoint string
	// MetricsURL is the collector's own Prometheus endpoint.
	MetricsURL string
	// HealthURL is the health_check extension's endpoint; empty with
	// NoHealthCheck.
	HealthURL string
	// ConfigPath is the configuration the collector runs (the generated one
	// or BaseConfig), PortsPath the file merged over it that sets the
	// endpoints, LogPath what it writes.
	ConfigPath string
	PortsPath  string
	LogPath    string

	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

// StartCollector writes a configuration into opts.Dir, starts the collector in
// a process group of its own and waits until its receiver ports and metrics
// endpoint answer or ctx ends. The collector must be given its ports in its
// configuration, so they are found free first; when another program takes
// one in between and the collector exits for it, it is started again on new
// ports (up to maxPortTries times). On error nothing is left running.
func StartCollector(ctx context.Context, opts CollectorOptions) (*Collector, error) {
	for try := 1; ; try++ {
		c, err := startCollector(ctx, opts)
		if err == nil || try == maxPortTries || !errors.Is(err, errPortTaken) {
			return c, err
		}
	}
}

// maxPortTries bounds StartCollector's starts on new ports.
const maxPortTries = 5

// errPortTaken: the collector exited during start-up because a port it was
// given was taken.
var errPortTaken = errors.New("a port was taken")

// freePort is pickPort; a test replaces it to hand out a taken port.
var freePort = pickPort

func startCollector(ctx context.Context, opts CollectorOptions) (*Collector, error) {
	var ports [4]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ports[i] = p
	}
	c := &Collector{
		GRPCEndpoint: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		HTTPEndpoint: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		MetricsURL:   fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2]),
		ConfigPath:   opts.BaseConfig,
		PortsPath:    filepath.Join(opts.Dir, "ports.yaml"),
		LogPath:      filepath.Join(opts.Dir, "collector.log"),
		exited:       make(chan struct{}),
	}
	e := endpoints{grpc: c.GRPCEndpoint, http: c.HTTPEndpoint, metricsPort: ports[2]}
	if !opts.NoHealthCheck {
		e.health = fmt.Sprintf("127.0.0.1:%d", ports[3])
		c.HealthURL = "http://" + e.health + "/"
	}
	if opts.BaseConfig == "" {
		c.ConfigPath = filepath.Join(opts.Dir, "collector.yaml")
		if err := os.WriteFile(c.ConfigPath, []byte(collectorConfig(opts)), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(c.PortsPath, []byte(portsConfig(opts, e)), 0o644); err != nil {
		return nil, err
	}
	args := []string{"--config", c.ConfigPath, "--config", c.PortsPath}
	for i, o := range opts.Overrides {
		path := filepath.Join(opts.Dir, fmt.Sprintf("overrides-%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(o), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "--config", path)
	}
	if len(opts.FeatureGates) > 0 {
		args = append(args, "--feature-gates="+strings.Join(opts.FeatureGates, ","))
	}
	logFile, err := os.Create(c.LogPath)
	if err != nil {
		return nil, err
	}
	c.logFile = logFile

	c.cmd = exec.Command(opts.Binary, args...)
	if len(opts.Env) > 0 {
		c.cmd.Env = append(os.Environ(), opts.Env...)
	}
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	c.cmd.SysProcAttr = procAttr()
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", opts.Binary, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()

	if err := c.waitReady(ctx); err != nil {
		exited := c.Exited() != nil // on its own, before Stop
		_ = c.Stop(5 * time.Second)
		log := c.Log()
		if exited && strings.Contains(log, "address already in use") {
			err = errors.Join(errPortTaken, err)
		}
		return nil, fmt.Errorf("%w\ncollector log (%s):\n%s", err, c.LogPath, log)
	}
	return c, nil
}

func (c *Collector) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("collector exited during start-up: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("collector not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if !dialable(c.GRPCEndpoint) || !dialable(c.HTTPEndpoint) {
			continue
		}
		resp, err := client.Get(c.MetricsURL)
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

// PID is the collector's process id, which is also its process group's.
func (c *Collector) PID() int { return c.cmd.Process.Pid }

// Exited returns nil while the collector runs and, once it has exited, an
// error that says how.
func (c *Collector) Exited() error {
	select {
	case <-c.exited:
		return fmt.Errorf("collector exited: %v", c.waitErr)
	default:
		return nil
	}
}

// Stop sends SIGTERM to the collector's process group, waits up to timeout
// for it to exit and then kills the group. It is safe to call more than once.
func (c *Collector) Stop(timeout time.Duration) error {
	select {
	case <-c.exited:
		c.logFile.Close()
		return nil
	default:
	}
	pgid := c.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var err error
	select {
	case <-c.exited:
	case <-time.After(timeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.exited
		err = fmt.Errorf("collector did not stop within %s after SIGTERM; killed", timeout)
	}
	c.logFile.Close()
	return err
}

// Kill sends SIGKILL to the collector's process group and waits for it to
// exit: a crash, with no shutdown. Stop afterwards does nothing.
func (c *Collector) Kill() {
	select {
	case <-c.exited:
	default:
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
	c.logFile.Close()
}

// Log returns what the collector has written to stdout and stderr so far.
func (c *Collector) Log() string {
	b, err := os.ReadFile(c.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// collectorConfig returns the collector configuration: OTLP in,
// memory_limiter, the audit processor and batch for traces and logs, out over
// OTLP/HTTP, and a health_check; with an EventsEndpoint, the audit connector
// (the traces pipeline's only exporter), with its traces/records and
// logs/events pipelines; with an InputEndpoint, the input pipelines.
// The otlp receiver, the endpoints of the otlp_http and otlp_http/events
// exporters, the metrics and the health_check's endpoint are in portsConfig.
func collectorConfig(opts CollectorOptions) string {
	audit := "{}"
	if strings.TrimSpace(opts.AuditConfig) != "" {
		audit = "\n" + Indent(strings.TrimSpace(opts.AuditConfig), "    ")
	}
	const pipeline = `
      receivers: [otlp]
      processors: [memory_limiter, audit, batch]
      exporters: [otlp_http]`
	tracesPipeline := pipeline
	var connectors, eventsExporter, eventsPipeline string
	if opts.EventsEndpoint != "" {
		// the connector carries the spans after their events (traces/records)
		tracesPipeline = strings.Replace(pipeline, "exporters: [otlp_http]", "exporters: [audit]", 1) + `
    traces/records:
      receivers: [audit]
      exporters: [otlp_http]`
		connectors = `
connectors:
  audit: ` + audit
		eventsExporter = `
  otlp_http/events:`
		eventsPipeline = `
    logs/events:
      receivers: [audit]
      exporters: [otlp_http/events]`
	}
	var inputExporter, inputPipelines string
	if opts.InputEndpoint != "" {
		inputExporter = fmt.Sprintf(`
  otlp_http/input:
    endpoint: %s`, opts.InputEndpoint)
		const input = `
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp_http/input]`
		inputPipelines = `
    traces/input:` + input + `
    logs/input:` + input
	}
	return fmt.Sprintf(`processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 256
    spike_limit_mib: 64
  audit: %s
  batch:
    timeout: 100ms
exporters:
  otlp_http:%s%s%s
extensions:
  health_check:
service:
  extensions: [health_check]
  telemetry:
    logs:
      level: warn
  pipelines:
    traces:%s
    logs:%s%s%s
`, audit, inputExporter, eventsExporter, connectors, tracesPipeline, pipeline, inputPipelines, eventsPipeline)
}

// endpoints are the addresses StartCollector chose for the collector.
type endpoints struct {
	grpc, http, health string
	metricsPort        int
}

// portsConfig returns the configuration merged over the collector's: the
// otlp receiver and the collector's metrics on the endpoints chosen for it,
// health_check's endpoint unless e.health is empty, and the export endpoints
// that are set.
func portsConfig(opts CollectorOptions, e endpoints) string {
	var exporters string
	for _, x := range []struct{ id, endpoint string }{
		{"otlp_http", opts.ExportEndpoint},
		{"otlp_http/events", opts.EventsEndpoint},
	} {
		if x.endpoint != "" {
			exporters += fmt.Sprintf(`
  %s:
    endpoint: %s`, x.id, x.endpoint)
		}
	}
	if exporters != "" {
		exporters = "\nexporters:" + exporters
	}
	var extensions string
	if e.health != "" {
		extensions = fmt.Sprintf(`
extensions:
  health_check:
    endpoint: %s`, e.health)
	}
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s%s%s
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, e.grpc, e.http, exporters, extensions, e.metricsPort)
}

// Indent prefixes every line of s but the empty ones with prefix: for
// writing a YAML body under a key of a collector configuration.
func Indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
