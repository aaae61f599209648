package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/otel-audit/auditprocessor/catalog"
)

// openAPIReport is what lint --openapi finds: the API's operations that no
// catalog event covers, and the catalogs' API events that no operation has.
type openAPIReport struct {
	Operations int `json:"operations"`
	Covered    int `json:"covered"`
	// Unaudited are the operations no catalog event covers.
	Unaudited []unauditedOp `json:"unaudited"`
	// Events counts the catalogs' API events.
	Events int `json:"catalog_api_events"`
	// Stale are the API events whose route no operation has.
	Stale []staleEvent `json:"stale"`
}

type unauditedOp struct {
	Method      string `json:"method"`
	Route       string `json:"route"`
	OperationID string `json:"operation_id,omitempty"`
	Line        int    `json:"line,omitempty"`
}

type staleEvent struct {
	Action  string `json:"action"`
	Method  string `json:"method"`
	Route   string `json:"route"`
	Catalog string `json:"catalog"`
	Line    int    `json:"line,omitempty"`
}

// lintOpenAPI compares an OpenAPI description with catalogs: an operation
// is covered when a catalog event matches its route as the processor
// matches a server's http.route (the base path included); an API event is
// stale when no operation reaches it. It exits 1 when there are unaudited
// operations or stale events, or the files do not load.
func lintOpenAPI(spec string, files []string, withBuiltins, asJSON bool, stdout, stderr io.Writer) int {
	if spec == "" {
		fmt.Fprintln(stderr, "auditcatalog lint: --json needs --openapi SPEC")
		return exitUsage
	}
	d, err := loadOpenAPI(spec)
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog lint: %s: %v\n", spec, err)
		return exitFail
	}
	var cs []*catalog.Catalog
	if withBuiltins {
		for _, name := range catalog.BuiltinNames() {
			c, err := catalog.Builtin(name)
			if err != nil {
				fmt.Fprintf(stderr, "auditcatalog lint: %v\n", err)
				return exitFail
			}
			cs = append(cs, c)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			var c *catalog.Catalog
			if c, err = catalog.Parse(f, data); err == nil {
				cs = append(cs, c)
				continue
			}
		}
		fmt.Fprintf(stdout, "error: %v\n", err)
		return exitFail
	}
	m, err := catalog.Compile(cs...)
	if err != nil {
		for _, e := range splitErrors(err) {
			fmt.Fprintf(stdout, "error: %s\n", e)
		}
		return exitFail
	}
	r := openAPIReport{Operations: len(d.ops), Unaudited: []unauditedOp{}, Stale: []staleEvent{}}
	reached := map[*catalog.Event]bool{}
	for _, op := range d.ops {
		if ev := m.MatchRoute(op.method, op.route); ev != nil {
			reached[ev] = true
			r.Covered++
			continue
		}
		r.Unaudited = append(r.Unaudited, unauditedOp{op.method, op.route, op.id, op.line})
	}
	for _, c := range cs {
		for i := range c.Events {
			ev := &c.Events[i]
			if !ev.HasRoute() {
				continue
			}
			r.Events++
			if !reached[ev] {
				r.Stale = append(r.Stale, staleEvent{ev.Action, ev.Method, ev.Route, c.Source, ev.Line})
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return exitFail
		}
	} else {
		printOpenAPIReport(stdout, spec, r)
	}
	if len(r.Unaudited) > 0 || len(r.Stale) > 0 {
		return exitFail
	}
	return exitOK
}

func printOpenAPIReport(w io.Writer, spec string, r openAPIReport) {
	if len(r.Unaudited) > 0 {
		fmt.Fprintf(w, "unaudited operations: in %s, and no catalog event covers them\n", spec)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "METHOD\tROUTE\tOPERATION\tLINE")
		for _, u := range r.Unaudited {
			id := u.OperationID
			if id == "" {
				id = "-"
			}
			line := "-"
			if u.Line > 0 {
				line = fmt.Sprint(u.Line)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Method, u.Route, id, line)
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Stale) > 0 {
		fmt.Fprintf(w, "stale events: in a catalog, and %s has no such operation\n", spec)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tMETHOD\tROUTE\tCATALOG")
		for _, s := range r.Stale {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s:%d\n", s.Action, s.Method, s.Route, s.Catalog, s.Line)
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d %s: %d covered, %d unaudited; %d catalog API %s: %d stale\n",
		r.Operations, plural(r.Operations, "operation", "operations"), r.Covered, len(r.Unaudited),
		r.Events, plural(r.Events, "event", "events"), len(r.Stale))
}
