package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/httppath"
)

// The attribute keys the processor reads by default (README, "What it does
// to a record"); coverage reads records the same way.
var (
	methodKeys   = []string{"http.request.method", "http.method"}
	originalKeys = []string{"http.request.method_original"}
	routeKeys    = []string{"http.route"}
	pathKeys     = []string{"url.path"}
	targetKeys   = []string{"http.target"}
	urlKeys      = []string{"url.full", "http.url"}
)

var spanKindNames = map[string]ptrace.SpanKind{
	"server": ptrace.SpanKindServer, "client": ptrace.SpanKindClient, "internal": ptrace.SpanKindInternal,
	"producer": ptrace.SpanKindProducer, "consumer": ptrace.SpanKindConsumer,
}

// coverageReport is what coverage prints, and its --json form.
type coverageReport struct {
	Spans      int              `json:"spans"`
	LogRecords int              `json:"log_records"`
	HTTP       int              `json:"http_records"`
	Matched    int              `json:"matched"`
	Unmatched  int              `json:"unmatched"`
	Malformed  int              `json:"malformed"`
	Actions    []actionCount    `json:"actions"`
	Routes     []unmatchedRoute `json:"unmatched_routes"`
}

type actionCount struct {
	Action  string `json:"action"`
	Catalog string `json:"catalog"`
	Records int    `json:"records"`
}

type unmatchedRoute struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	// From is "route" for a route the server reported, "path" for a concrete path.
	From    string `json:"from"`
	Records int    `json:"records"`
}

func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("coverage", "[flags] FILE.json...")
	var cf catalogFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	kinds := fs.String("span-kinds", "server", "span kinds that are audited, comma-separated (as the processor's span_kinds)")
	files, ok := parseFlags(fs, args, -1, stderr)
	if !ok {
		return exitUsage
	}
	audited := map[ptrace.SpanKind]bool{}
	for _, k := range strings.Split(*kinds, ",") {
		sk, ok := spanKindNames[strings.TrimSpace(k)]
		if !ok {
			fmt.Fprintf(stderr, "auditcatalog coverage: --span-kinds: unknown span kind %q (want server, client, internal, producer or consumer)\n", k)
			return exitUsage
		}
		audited[sk] = true
	}
	m, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog coverage: %v\n", err)
		return exitFail
	}
	cov := newCoverage(m, audited)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			err = cov.readFile(data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "auditcatalog coverage: %s: %v\n", f, err)
			return exitFail
		}
	}
	rep := cov.report()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFail
		}
		return exitOK
	}
	printCoverage(stdout, rep)
	return exitOK
}

type coverage struct {
	m        *catalog.Matcher
	audited  map[ptrace.SpanKind]bool
	rep      coverageReport
	byAction map[string]int
	byRoute  map[unmatchedRoute]int
	// onTraces and onLogs receive each document read; they count records
	// unless a test replaces them.
	onTraces func(ptrace.Traces)
	onLogs   func(plog.Logs)
}

func newCoverage(m *catalog.Matcher, audited map[ptrace.SpanKind]bool) *coverage {
	c := &coverage{m: m, audited: audited, byAction: map[string]int{}, byRoute: map[unmatchedRoute]int{}}
	c.onTraces, c.onLogs = c.countTraces, c.countLogs
	return c
}

// readFile reads OTLP JSON: one document, or one per line as the file
// exporter writes them; each a traces or a logs request.
func (c *coverage) readFile(data []byte) error {
	if trimmed := bytes.TrimSpace(data); json.Valid(trimmed) {
		return c.readDoc(trimmed)
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := c.readDoc(line); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return nil
}

func (c *coverage) readDoc(doc []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc, &probe); err != nil {
		return err
	}
	switch {
	case probe["resourceSpans"] != nil:
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(doc)
		if err != nil {
			return err
		}
		c.onTraces(td)
	case probe["resourceLogs"] != nil:
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(doc)
		if err != nil {
			return err
		}
		c.onLogs(ld)
	case len(probe) == 0:
	default:
		return fmt.Errorf("neither OTLP traces (resourceSpans) nor logs (resourceLogs)")
	}
	return nil
}

func (c *coverage) countTraces(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				c.rep.Spans++
				if c.audited[s.Kind()] {
					c.record(s.Attributes(), s.Name())
				}
			}
		}
	}
}

func (c *coverage) countLogs(ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				c.rep.LogRecords++
				c.record(r.Attributes(), "")
			}
		}
	}
}

// record matches one span or log record as the processor does.
func (c *coverage) record(attrs pcommon.Map, spanName string) {
	r, http, bad := readHTTP(attrs, spanName)
	switch {
	case bad:
		c.rep.HTTP++
		c.rep.Malformed++
		return
	case !http:
		return
	}
	c.rep.HTTP++
	var ev *catalog.Event
	if r.hasRoute {
		ev = c.m.MatchRoute(r.method, r.route)
	}
	if ev == nil && r.hasPath {
		ev = c.m.MatchPath(r.method, r.path)
	}
	if ev != nil {
		c.rep.Matched++
		c.byAction[ev.Action]++
		return
	}
	c.rep.Unmatched++
	key := unmatchedRoute{Method: r.method, Route: r.route, From: "route"}
	if !r.hasRoute {
		key.Route, key.From = r.path, "path"
	}
	c.byRoute[key]++
}

type httpRecord struct {
	method, route, path string
	hasRoute, hasPath   bool
}

// readHTTP reads a record's method, route and path by the processor's rules:
// http is false for records that are not HTTP records, bad true for values
// the processor leaves alone as malformed.
func readHTTP(attrs pcommon.Map, spanName string) (r httpRecord, http, bad bool) {
	mv, ok := lookup(attrs, methodKeys)
	if !ok {
		return r, false, false
	}
	if mv.Type() != pcommon.ValueTypeStr || mv.Str() == "" {
		return r, true, true
	}
	r.method = strings.ToUpper(mv.Str())
	if r.method == "_OTHER" {
		orig, ok := lookup(attrs, originalKeys)
		if !ok || orig.Type() != pcommon.ValueTypeStr || orig.Str() == "" {
			return r, true, true
		}
		r.method = strings.ToUpper(orig.Str())
	}
	if v, ok := lookup(attrs, routeKeys); ok {
		if v.Type() != pcommon.ValueTypeStr {
			return r, true, true
		}
		r.route, r.hasRoute = v.Str(), true
	} else {
		r.route, r.hasRoute = routeFromSpanName(spanName, r.method)
	}
	if v, ok := lookup(attrs, pathKeys); ok {
		if v.Type() != pcommon.ValueTypeStr {
			return r, true, true
		}
		r.path, r.hasPath = v.Str(), v.Str() != ""
	} else {
		for _, src := range []struct {
			keys    []string
			extract func(string) (string, bool)
		}{{targetKeys, httppath.FromTarget}, {urlKeys, httppath.FromURL}} {
			v, ok := lookup(attrs, src.keys)
			if !ok {
				continue
			}
			if v.Type() != pcommon.ValueTypeStr {
				return r, true, true
			}
			p, ok := src.extract(v.Str())
			if !ok {
				return r, true, true
			}
			r.path, r.hasPath = p, true
			break
		}
	}
	return r, r.hasRoute || r.hasPath, false
}

func lookup(attrs pcommon.Map, keys []string) (pcommon.Value, bool) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			return v, true
		}
	}
	return pcommon.Value{}, false
}

// routeFromSpanName reads the route of a span named "{METHOD} {route}", as
// the processor does.
func routeFromSpanName(name, method string) (string, bool) {
	if len(name) < len(method)+2 || name[len(method)] != ' ' || !strings.EqualFold(name[:len(method)], method) {
		return "", false
	}
	route := name[len(method)+1:]
	if strings.ContainsAny(route, " \t") {
		return "", false
	}
	return route, true
}

func (c *coverage) report() coverageReport {
	rep := c.rep
	rep.Actions = []actionCount{}
	for _, cat := range c.m.Catalogs() {
		seen := map[string]bool{}
		for _, ev := range cat.Events {
			if !ev.HasRoute() || seen[ev.Action] {
				continue
			}
			seen[ev.Action] = true
			rep.Actions = append(rep.Actions, actionCount{Action: ev.Action, Catalog: cat.Source, Records: c.byAction[ev.Action]})
		}
	}
	rep.Routes = []unmatchedRoute{}
	for k, n := range c.byRoute {
		k.Records = n
		rep.Routes = append(rep.Routes, k)
	}
	slices.SortFunc(rep.Routes, func(a, b unmatchedRoute) int {
		if a.Records != b.Records {
			return b.Records - a.Records
		}
		return strings.Compare(a.Method+" "+a.Route+" "+a.From, b.Method+" "+b.Route+" "+b.From)
	})
	return rep
}

func printCoverage(out io.Writer, rep coverageReport) {
	fmt.Fprintf(out, "%d spans, %d log records: %d HTTP records, %d matched, %d unmatched, %d malformed\n\n",
		rep.Spans, rep.LogRecords, rep.HTTP, rep.Matched, rep.Unmatched, rep.Malformed)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORDS\tACTION\tCATALOG")
	seen := 0
	for _, a := range rep.Actions {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", a.Records, a.Action, a.Catalog)
		if a.Records > 0 {
			seen++
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "%d of %d actions seen\n\n", seen, len(rep.Actions))
	if len(rep.Routes) == 0 {
		fmt.Fprintln(out, "every HTTP record matched an event")
		return
	}
	fmt.Fprintln(out, "unmatched HTTP routes, most frequent first:")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORDS\tMETHOD\tROUTE\tFROM")
	for _, r := range rep.Routes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Records, r.Method, r.Route, r.From)
	}
	tw.Flush()
}
