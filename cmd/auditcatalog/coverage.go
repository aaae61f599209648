package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("coverage", "[flags] FILE.json...")
	var cf catalogFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	kinds := fs.String("span-kinds", "server", "span kinds that are audited, comma-separated (as the processor's span_kinds; with --config, its span_kinds unless this is given)")
	files, ok := parseFlags(fs, args, -1, stderr)
	if !ok {
		return exitUsage
	}
	cfg, err := cf.config()
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog coverage: %v\n", err)
		return exitFail
	}
	kindsSet := cf.configFile == "" // without --config, the flag's default counts
	fs.Visit(func(f *flag.Flag) { kindsSet = kindsSet || f.Name == "span-kinds" })
	if kindsSet {
		cfg.SpanKinds = nil
		for _, k := range strings.Split(*kinds, ",") {
			var sk audit.SpanKind
			if err := sk.UnmarshalText([]byte(strings.TrimSpace(k))); err != nil {
				fmt.Fprintf(stderr, "auditcatalog coverage: --span-kinds: %v\n", err)
				return exitUsage
			}
			cfg.SpanKinds = append(cfg.SpanKinds, sk)
		}
	}
	a, err := audit.Load(&cfg)
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog coverage: %v\n", err)
		return exitFail
	}
	cov := newCoverage(a)
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
	a        *audit.Auditor
	rep      report.Coverage
	byAction map[string]int
	byRoute  map[report.UnmatchedRoute]int
	// onBatch receives each document read (ptrace.Traces or plog.Logs); it
	// counts records unless a test replaces it.
	onBatch func(batch any)
}

func newCoverage(a *audit.Auditor) *coverage {
	c := &coverage{a: a, byAction: map[string]int{}, byRoute: map[report.UnmatchedRoute]int{}}
	c.onBatch = c.count
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
		c.onBatch(td)
	case probe["resourceLogs"] != nil:
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(doc)
		if err != nil {
			return err
		}
		c.onBatch(ld)
	case len(probe) == 0:
	default:
		return fmt.Errorf("neither OTLP traces (resourceSpans) nor logs (resourceLogs)")
	}
	return nil
}

// count counts a batch (ptrace.Traces or plog.Logs) record by record.
func (c *coverage) count(batch any) {
	var res audit.Resource
	audit.Walk(batch, func(r pcommon.Resource, _ string) {
		res = c.a.NewResource(r.Attributes())
	}, func(v audit.View) bool {
		if v.IsSpan() {
			c.rep.Spans++
		} else {
			c.rep.LogRecords++
		}
		if c.a.Audits(&v) {
			c.record(v.Attrs, &res, v.SpanName)
		}
		return true
	})
}

// record matches one span or log record as the processor does.
func (c *coverage) record(attrs pcommon.Map, res *audit.Resource, spanName string) {
	m := c.a.Match(attrs, res, spanName)
	switch m.Result {
	case audit.NotHTTP:
		return
	case audit.Malformed:
		c.rep.Malformed++
	case audit.Matched:
		c.rep.Matched++
		c.byAction[m.Event.Action]++
	case audit.Refused:
		c.rep.Refused++
	case audit.Unmatched:
		c.rep.Unmatched++
		key := report.UnmatchedRoute{Method: m.Request.Method, Route: m.Request.Route, From: "route"}
		if !m.Request.HasRoute {
			key.Route, key.From = m.Request.Path, "path"
		}
		c.byRoute[key]++
	}
	c.rep.HTTP++
}

func (c *coverage) report() report.Coverage {
	rep := c.rep
	rep.Actions = []report.ActionCount{}
	for _, cat := range c.a.Catalogs() {
		seen := map[string]bool{}
		for _, ev := range cat.Events {
			if !ev.HasRoute() || seen[ev.Action] {
				continue
			}
			seen[ev.Action] = true
			rep.Actions = append(rep.Actions, report.ActionCount{Action: ev.Action, Catalog: cat.Source, Records: c.byAction[ev.Action]})
		}
	}
	rep.Routes = []report.UnmatchedRoute{}
	for k, n := range c.byRoute {
		k.Records = n
		rep.Routes = append(rep.Routes, k)
	}
	slices.SortFunc(rep.Routes, func(a, b report.UnmatchedRoute) int {
		if a.Records != b.Records {
			return b.Records - a.Records
		}
		return strings.Compare(a.Method+" "+a.Route+" "+a.From, b.Method+" "+b.Route+" "+b.From)
	})
	return rep
}

func printCoverage(out io.Writer, rep report.Coverage) {
	fmt.Fprintf(out, "%d spans, %d log records: %d HTTP records, %d matched, %d unmatched, %d malformed, %d refused\n\n",
		rep.Spans, rep.LogRecords, rep.HTTP, rep.Matched, rep.Unmatched, rep.Malformed, rep.Refused)
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
