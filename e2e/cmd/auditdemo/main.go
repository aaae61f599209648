// Command auditdemo shows the audit processor at work inside a real collector.
//
// It starts a built otelcol-audit on free loopback ports, sends it a sample of
// HTTP server spans and access-log records over OTLP/HTTP, one record per
// request, and reads the collector's own metrics after each request to learn
// whether the processor matched, passed or dropped the record and why. What
// the collector exports arrives at a small OTLP/HTTP receiver of the demo's
// own; the demo prints, per record, the audit action, outcome and region that
// came out, then stops the collector. It exits 0 when every record is
// accounted for (exported or dropped) and 1 otherwise.
//
// With -record DIR (make demo: ./bin/demo-recording), it also records, as the
// collector's file exporter writes them (one OTLP JSON request per line):
// DIR/output/{traces,logs}.json, what the collector exported, and
// DIR/input/{traces,logs}.json, every record as the collector received it,
// exported by pipelines without the audit processor. It prints how to run
// auditcatalog coverage on them.
//
//	make demo
//	go run ./cmd/auditdemo -collector ../dist/otelcol-audit   # from e2e/
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// auditConfig is the audit processor's configuration in the demo: the
// defaults, plus us-south for backup-recovery, which sends audit events from
// no region at all otherwise.
const auditConfig = `
services:
  backup-recovery:
    regions: [us-south]
    regions_mode: add
`

// sample is one record the demo sends.
type sample struct {
	signal  string // "span" or "log"
	service string
	region  string
	method  string
	route   string // route template; "" when the instrumentation knows none
	path    string
	status  int
	forged  string // a forged audit.action the record arrives with
	user    string // enduser.id: who made the request, "" when unknown
	// routeInName puts the route in the span name only, as Go's otelhttp does;
	// otherwise it is also in http.route, as most other instrumentations do.
	routeInName bool
}

const (
	stt = "speech-to-text"
	br  = "backup-recovery"
)

var samples = []sample{
	{signal: "span", service: stt, region: "eu-de", method: "POST", route: "/v1/customizations", path: "/v1/customizations", status: 201, user: "IBMid-alice"},
	{signal: "span", service: stt, region: "us-south", method: "POST", route: "/v1/customizations", path: "/v1/customizations", status: 201},
	{signal: "span", service: stt, region: "eu-de", method: "GET", route: "/v1/recognitions/{id}", path: "/v1/recognitions/job-42", status: 200, forged: "speech-to-text.gdpr-user-data.delete"},
	{signal: "span", service: stt, region: "eu-de", method: "POST", route: "/v1/customizations/{customization_id}/words", path: "/v1/customizations/cust-1/words", status: 404, routeInName: true},
	{signal: "span", service: stt, region: "eu-de", method: "POST", route: "/v1/recognitions", path: "/v1/recognitions", status: 202},
	{signal: "span", service: stt, region: "eu-de", method: "DELETE", route: "/v1/customizations/{customization_id}", path: "/v1/customizations/cust-1", status: 500, routeInName: true, user: "IBMid-bob"},
	{signal: "span", service: br, region: "us-south", method: "PUT", path: "/v2/data-protect/protection-groups/7/runs", status: 200, user: "ServiceId-backup-agent"},
	{signal: "span", service: br, region: "eu-de", method: "POST", route: "/v2/data-protect/policies", path: "/v2/data-protect/policies", status: 201},
	{signal: "span", service: stt, region: "eu-de", method: "GET", route: "/healthz", path: "/healthz", status: 200},
	{signal: "log", service: stt, region: "eu-de", method: "POST", route: "/v1/customizations", path: "/v1/customizations", status: 201},
	{signal: "log", service: stt, region: "us-south", method: "GET", route: "/v1/recognitions/{id}", path: "/v1/recognitions/job-42", status: 200},
	{signal: "log", service: stt, region: "eu-de", method: "POST", route: "/v1/customizations/{customization_id}/train", path: "/v1/customizations/cust-1/train", status: 503, forged: "speech-to-text.custom-language-model.read"},
	{signal: "log", service: br, region: "us-south", method: "DELETE", path: "/v2/data-protect/policies/p-9", status: 204},
	{signal: "log", service: stt, region: "eu-de", method: "GET", route: "/healthz", path: "/healthz", status: 200},
}

// verdict is what the collector's metrics say the processor did with one record.
type verdict struct {
	matched, unmatched, dropped bool
	reason                      string
}

func main() {
	collector := flag.String("collector", "../dist/otelcol-audit", "path of the built otelcol-audit binary")
	timeout := flag.Duration("timeout", 2*time.Minute, "deadline for the whole demo")
	record := flag.String("record", "", "record what the collector received and exported into `DIR`/input and DIR/output")
	format := flag.String("format", "provider", "the connector's event.format: provider, or ocsf (the events as OCSF API Activity events)")
	flag.Parse()
	// Ctrl-C stops the collector too: run returns and its defers run.
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, *timeout)
	defer cancel()
	if err := run(ctx, *collector, *record, *format, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditdemo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, binary, record, format string, out io.Writer) error {
	if format != "provider" && format != "ocsf" {
		return fmt.Errorf("-format must be provider or ocsf, got %q", format)
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("%w (build it with `make dist`)", err)
	}
	dir, err := os.MkdirTemp("", "auditdemo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var outputDir, inputDir string
	if record != "" {
		if record, err = filepath.Abs(record); err != nil {
			return err
		}
		outputDir, inputDir = filepath.Join(record, "output"), filepath.Join(record, "input")
	}
	backend, err := harness.StartBackend(outputDir)
	if err != nil {
		return err
	}
	defer backend.Close()
	events, err := harness.StartBackend("")
	if err != nil {
		return err
	}
	defer events.Close()
	opts := harness.CollectorOptions{Binary: binary, Dir: dir, AuditConfig: auditConfig, ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
		Overrides: []string{"connectors:\n  audit:\n    event:\n      format: " + format + "\n"}}
	// input receives every record as the collector received it; only when recording.
	var input *harness.Backend
	if record != "" {
		if input, err = harness.StartBackend(inputDir); err != nil {
			return err
		}
		defer input.Close()
		opts.InputEndpoint = input.URL
	}

	startCtx, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	col, err := harness.StartCollector(startCtx, opts)
	if err != nil {
		return err
	}
	defer col.Stop(10 * time.Second)

	fmt.Fprintf(out, "otelcol-audit is listening for OTLP on %s (gRPC) and %s (HTTP); its metrics are on %s.\n",
		col.GRPCEndpoint, col.HTTPEndpoint, col.MetricsURL)
	fmt.Fprintf(out, "Pipeline: otlp -> memory_limiter -> audit -> batch -> otlp_http (%s, the demo's own OTLP receiver).\n", backend.URL)
	fmt.Fprintf(out, "Events: the traces pipeline also exports to the audit connector -> logs/events -> otlp_http/events (%s, another receiver of the demo's).\n", events.URL)
	if input != nil {
		fmt.Fprintf(out, "Recording pipeline: otlp -> memory_limiter -> batch -> otlp_http/input (%s, another receiver of the demo's).\n", input.URL)
	}
	fmt.Fprintf(out, "Audit processor configuration: the defaults, plus\n%s\n", indent(strings.TrimSpace(auditConfig)))
	fmt.Fprintf(out, "Sending %d records, one OTLP request each.\n\n", len(samples))

	verdicts := make([]verdict, len(samples))
	before, err := harness.Scrape(ctx, col.MetricsURL)
	if err != nil {
		return err
	}
	for i, s := range samples {
		if err := send(ctx, col.HTTPEndpoint, s, i); err != nil {
			return fmt.Errorf("send record %d: %w", i+1, err)
		}
		// The processor runs before the batch processor, inside the receiver's
		// request, so its counters have moved by the time the request returns.
		after, err := harness.Scrape(ctx, col.MetricsURL)
		if err != nil {
			return err
		}
		verdicts[i] = diff(before, after)
		before = after
	}

	dropped, wantEvents := 0, 0
	for i, v := range verdicts {
		if v.dropped {
			dropped++
		}
		if samples[i].signal == "span" && v.matched && !v.dropped {
			wantEvents++
		}
	}
	want := len(samples) - dropped
	waitCtx, cancelWait := context.WithTimeout(ctx, 15*time.Second)
	defer cancelWait()
	for len(backend.Records()) < want {
		select {
		case <-waitCtx.Done():
			return fmt.Errorf("the backend received %d records, want %d: %w", len(backend.Records()), want, waitCtx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for events.Count("logs") < wantEvents {
		select {
		case <-waitCtx.Done():
			return fmt.Errorf("the events backend received %d events, want %d: %w", events.Count("logs"), wantEvents, waitCtx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for input != nil && len(input.Records()) < len(samples) {
		select {
		case <-waitCtx.Done():
			return fmt.Errorf("the recording pipelines exported %d records, want %d: %w", len(input.Records()), len(samples), waitCtx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}

	received := map[pcommon.SpanID]harness.Record{}
	for _, r := range backend.Records() {
		received[r.SpanID] = r
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tsignal\tservice\tregion\trequest\tstatus\tresult")
	var problems []string
	for i, s := range samples {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s %s\t%d\t%s\n", i+1, s.signal, s.service, s.region, s.method, s.path, s.status,
			describe(s, verdicts[i], received, i, &problems))
	}
	tw.Flush()

	if format == "ocsf" {
		printOCSF(out, events)
	} else {
		printEvents(out, events)
	}
	if n := events.Count("logs"); n != wantEvents {
		problems = append(problems, fmt.Sprintf("%d events received, want %d (one per audited span)", n, wantEvents))
	}

	final, err := harness.Scrape(ctx, col.MetricsURL)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe collector's own metrics:")
	for _, m := range final.Named("otelcol_processor_audit_") {
		fmt.Fprintln(out, "  "+m.String())
	}
	for _, m := range final.Named("otelcol_connector_audit_") {
		fmt.Fprintln(out, "  "+m.String())
	}
	for _, m := range final.Named("otelcol_exporter_sent_") {
		fmt.Fprintln(out, "  "+m.String())
	}
	exported := len(backend.Records())
	fmt.Fprintf(out, "\nRecords in: %d = exported %d + dropped %d\n", len(samples), exported, dropped)
	if exported+dropped != len(samples) {
		problems = append(problems, fmt.Sprintf("%d records sent, %d exported and %d dropped", len(samples), exported, dropped))
	}
	if input != nil {
		if n := len(input.Records()); n != len(samples) {
			problems = append(problems, fmt.Sprintf("%d records sent, %d recorded as received", len(samples), n))
		}
		printRecording(out, record, len(samples), exported, dropped)
	}
	if len(problems) > 0 {
		fmt.Fprintf(out, "\ncollector log (%s):\n%s\n", col.LogPath, col.Log())
		return errors.New(strings.Join(problems, "; "))
	}
	return col.Stop(10 * time.Second)
}

// printEvents prints a table of the provider-format events, by sample.
func printEvents(out io.Writer, events *harness.Backend) {
	fmt.Fprintf(out, "\nAudit events the events backend received (one per audited span, in the provider's event model):\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\taction\toutcome\tseverity\tinitiator\treason")
	bySpan := bySpanID(events)
	for i := range samples {
		r, ok := bySpan[spanID(i)]
		if !ok {
			continue
		}
		body := r.Body.Map()
		get := func(path ...string) string {
			m := body
			for _, k := range path[:len(path)-1] {
				v, ok := m.Get(k)
				if !ok || v.Type() != pcommon.ValueTypeMap {
					return "-"
				}
				m = v.Map()
			}
			if v, ok := m.Get(path[len(path)-1]); ok {
				return v.AsString()
			}
			return "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s %s\n", i+1, get("action"), get("outcome"), get("severity"),
			get("initiator", "id"), get("reason", "reasonCode"), get("reason", "reasonType"))
	}
	tw.Flush()
}

// printOCSF prints a table of the OCSF events, by sample, and the first
// one whole.
func printOCSF(out io.Writer, events *harness.Backend) {
	fmt.Fprintf(out, "\nAudit events the events backend received (one per audited span, OCSF API Activity events, event.format: ocsf):\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tapi.operation\tactivity\tstatus\tseverity\tactor.user.uid\tstatus_code")
	bySpan := bySpanID(events)
	var first []byte
	for i := range samples {
		r, ok := bySpan[spanID(i)]
		if !ok {
			continue
		}
		var ev struct {
			ActivityName string `json:"activity_name"`
			Status       string `json:"status"`
			Severity     string `json:"severity"`
			StatusCode   string `json:"status_code"`
			API          struct {
				Operation string `json:"operation"`
			} `json:"api"`
			Actor struct {
				User struct {
					UID string `json:"uid"`
				} `json:"user"`
			} `json:"actor"`
		}
		text := []byte(r.Body.AsString())
		if err := json.Unmarshal(text, &ev); err != nil {
			fmt.Fprintf(tw, "%d\tnot an OCSF event: %v\n", i+1, err)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, ev.API.Operation, ev.ActivityName, ev.Status, ev.Severity,
			dash(ev.Actor.User.UID), dash(ev.StatusCode))
		if first == nil {
			first = text
		}
	}
	tw.Flush()
	var pretty bytes.Buffer
	if first != nil && json.Indent(&pretty, first, "  ", "  ") == nil {
		fmt.Fprintf(out, "\nThe first event's body, as the SIEM receives it:\n  %s\n", pretty.String())
	}
}

// bySpanID returns the events by the span id of their source.
func bySpanID(events *harness.Backend) map[pcommon.SpanID]harness.Record {
	m := map[pcommon.SpanID]harness.Record{}
	for _, r := range events.Records() {
		m[r.SpanID] = r
	}
	return m
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// describe says what became of sample i, and notes what contradicts the metrics.
func describe(s sample, v verdict, received map[pcommon.SpanID]harness.Record, i int, problems *[]string) string {
	r, ok := received[spanID(i)]
	switch {
	case v.dropped && ok:
		*problems = append(*problems, fmt.Sprintf("record %d counted as dropped but exported", i+1))
		return "dropped (" + v.reason + ") yet exported"
	case v.dropped:
		return "dropped: " + v.reason
	case !ok:
		*problems = append(*problems, fmt.Sprintf("record %d neither dropped nor exported", i+1))
		return "missing"
	}
	action := r.Str("audit.action")
	if v.unmatched || action == "" {
		return "passed through: no catalog route"
	}
	res := fmt.Sprintf("action=%s outcome=%s region=%s", action, r.Str("audit.outcome"), r.Str("audit.region"))
	if s.forged != "" && action != s.forged {
		res += " (forged " + s.forged + " removed)"
	}
	return res
}

// diff reads one record's fate from the audit counters before and after it was sent.
func diff(before, after harness.Metrics) verdict {
	delta := func(name string, labels map[string]string) float64 {
		return after.Sum(name, labels) - before.Sum(name, labels)
	}
	v := verdict{
		matched:   delta("otelcol_processor_audit_records_matched", nil) > 0,
		unmatched: delta("otelcol_processor_audit_records_unmatched", nil) > 0,
	}
	for _, reason := range []string{"unsupported_region", "missing_region", "unmatched"} {
		if delta("otelcol_processor_audit_records_dropped", map[string]string{"reason": reason}) > 0 {
			v.dropped, v.reason = true, reason
		}
	}
	return v
}

// traceID and spanID give sample i identifiers of its own, so that what the
// backend receives can be told apart.
func traceID(i int) pcommon.TraceID {
	return pcommon.TraceID{0xa0, 0xd1, 0x7, 15: byte(i + 1)}
}

func spanID(i int) pcommon.SpanID {
	return pcommon.SpanID{0x5a, 7: byte(i + 1)}
}

// send posts sample i to the collector's OTLP/HTTP receiver as protobuf.
func send(ctx context.Context, endpoint string, s sample, i int) error {
	baseURL := "http://" + endpoint
	switch s.signal {
	case "span":
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		putResource(rs.Resource(), s)
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(traceID(i))
		sp.SetSpanID(spanID(i))
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetName(s.method)
		if s.route != "" {
			sp.SetName(s.method + " " + s.route)
		}
		now := time.Now()
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-20 * time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		putHTTP(sp.Attributes(), s)
		if s.status >= 500 {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		return harness.ExportTraces(ctx, http.DefaultClient, baseURL, td)
	case "log":
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		putResource(rl.Resource(), s)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTraceID(traceID(i))
		lr.SetSpanID(spanID(i))
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
		lr.Body().SetStr(fmt.Sprintf("%s %s %d", s.method, s.path, s.status))
		putHTTP(lr.Attributes(), s)
		return harness.ExportLogs(ctx, http.DefaultClient, baseURL, ld)
	}
	return fmt.Errorf("unknown signal %q", s.signal)
}

func putResource(r pcommon.Resource, s sample) {
	r.Attributes().PutStr("service.name", s.service)
	r.Attributes().PutStr("cloud.region", s.region)
}

func putHTTP(m pcommon.Map, s sample) {
	m.PutStr("http.request.method", s.method)
	m.PutStr("url.path", s.path)
	if s.route != "" && !s.routeInName {
		m.PutStr("http.route", s.route)
	}
	m.PutInt("http.response.status_code", int64(s.status))
	if s.forged != "" {
		m.PutStr("audit.action", s.forged)
	}
	if s.user != "" {
		m.PutStr("enduser.id", s.user)
	}
}

// printRecording says what the recording in dir holds and how to run
// auditcatalog coverage on it.
func printRecording(out io.Writer, dir string, sent, exported, dropped int) {
	// Paths relative to the repository root when dir is inside it, since
	// that is where `go run ./cmd/auditcatalog` works.
	root, shown := repoRoot(), dir
	if root != "" {
		if rel, err := filepath.Rel(root, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			shown = rel
		}
	}
	files := func(sub string) string {
		return filepath.Join(shown, sub, "traces.json") + " " + filepath.Join(shown, sub, "logs.json")
	}
	fmt.Fprintf(out, "\nRecorded as the collector's file exporter writes OTLP JSON (one request per line), in %s:\n", dir)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  input/traces.json, input/logs.json\tthe %d records as the collector received them, before the audit processor\n", sent)
	fmt.Fprintf(tw, "  output/traces.json, output/logs.json\tthe %d records it exported, the matched ones tagged with audit.* (the %d dropped are not there)\n", exported, dropped)
	tw.Flush()
	fmt.Fprintln(out, "\nWhich catalog actions the traffic covers, and the routes no catalog has:")
	if root != "" {
		fmt.Fprintf(out, "  cd %s && go run ./cmd/auditcatalog coverage %s\n", root, files("input"))
	} else {
		fmt.Fprintf(out, "  auditcatalog coverage %s\n", files("input"))
	}
}

// repoRoot returns the nearest directory at or above the working directory
// whose go.mod is the audit processor's module, or "".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/otel-audit/auditprocessor\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
