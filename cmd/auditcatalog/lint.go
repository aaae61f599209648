package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

var actionPartRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// runLint reports what the processor's loader rejects (catalog.Parse, then
// catalog.Compile of each file, then of all of them together) and warns of
// what it accepts but is likely wrong.
func runLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", "[flags] FILE...")
	withBuiltins := fs.Bool("builtins", false, "check the files together with the built-in catalogs, as the processor's default configuration loads them")
	spec := fs.String("openapi", "", "list the operations of this OpenAPI description that no catalog event covers, and the catalogs' stale events (openapi_lint.go)")
	asJSON := fs.Bool("json", false, "with --openapi: print the report as JSON")
	configFile := fs.String("config", "", "a collector configuration: check the catalogs its audit processor (else connector) loads, with its services' selectors, and the files together with them")
	parse := func() ([]string, bool) { return parseFlags(fs, args, -1, stderr) }
	for _, a := range args {
		if a == "-config" || a == "--config" || strings.HasPrefix(a, "-config=") || strings.HasPrefix(a, "--config=") {
			parse = func() ([]string, bool) { return parseFlagsAny(fs, args, stderr) } // files are optional
		}
	}
	files, ok := parse()
	if !ok {
		return exitUsage
	}
	if *spec != "" || *asJSON {
		return lintOpenAPI(*spec, files, *withBuiltins, *asJSON, stdout, stderr)
	}
	errs, warns := 0, 0
	report := func(kind, msg string) {
		fmt.Fprintf(stdout, "%s: %s\n", kind, msg)
		if kind == "error" {
			errs++
		} else {
			warns++
		}
	}
	var all []*catalog.Catalog
	compiles := true
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			report("error", err.Error())
			compiles = false
			continue
		}
		c, err := catalog.Parse(f, data)
		if err != nil {
			for _, e := range splitErrors(err) {
				report("error", e)
			}
			compiles = false
			continue
		}
		if _, err := catalog.Compile(c); err != nil {
			for _, e := range splitErrors(err) {
				report("error", e)
			}
			compiles = false
		}
		for _, w := range lintCatalog(c) {
			report("warning", w)
		}
		all = append(all, c)
	}
	if compiles && (len(all) > 1 || *withBuiltins || *configFile != "") {
		// together, as the processor loads them
		cfg := audit.NewDefaultConfig()
		if !*withBuiltins {
			cfg.BuiltinCatalogs = nil
		}
		cfg.CatalogFiles = files
		if *configFile != "" {
			var err error
			if cfg, err = collectorAuditConfig(*configFile); err != nil {
				report("error", err.Error())
			}
			cfg.CatalogFiles = append(cfg.CatalogFiles, files...)
		}
		if _, err := audit.Load(&cfg); err != nil {
			for _, e := range splitErrors(err) {
				report("error", e)
			}
		}
	}
	fmt.Fprintf(stdout, "%d %s: %d %s, %d %s\n", len(files), plural(len(files), "file", "files"),
		errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
	if errs > 0 {
		return exitFail
	}
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// lintCatalog returns the warnings for one catalog that loads.
func lintCatalog(c *catalog.Catalog) []string {
	var warns []string
	at := func(ev *catalog.Event) string { return fmt.Sprintf("%s:%d", c.Source, ev.Line) }
	for i := range c.Events {
		ev := &c.Events[i]
		service, object, verb, parts := catalog.ActionParts(ev.Action)
		switch {
		case parts != 3:
			warns = append(warns, fmt.Sprintf("%s: action %s is not service.object.verb (it has %d parts)", at(ev), ev.Action, parts))
		case service != c.Service:
			warns = append(warns, fmt.Sprintf("%s: action %s does not start with the service name %s", at(ev), ev.Action, c.Service))
		case !actionPartRE.MatchString(object) || !actionPartRE.MatchString(verb):
			warns = append(warns, fmt.Sprintf("%s: action %s: object and verb should be lower-case words joined by - or _", at(ev), ev.Action))
		}
	}
	warns = append(warns, shadows(c)...)
	if len(c.Regions) > 0 && countSending(c) == 0 { // no regions: not stated, not none
		warns = append(warns, fmt.Sprintf("%s: no region of service %s sends events: the processor drops every record it matches unless services.%s.regions adds one",
			c.Source, c.Service, c.Service))
	}
	return warns
}

// shadows warns of each route that is more specific than another of its
// method, by the catalog order of the specific route, then of the general
// one. Only routes that share a path are related (catalog.Overlaps), not
// every two.
func shadows(c *catalog.Catalog) []string {
	index := make(map[*catalog.Event]int, len(c.Events))
	for i := range c.Events {
		index[&c.Events[i]] = i
	}
	overlaps, _ := catalog.Overlaps(c) // Parse checked every route
	overlaps = slices.DeleteFunc(overlaps, func(o catalog.Overlap) bool { return o.Relation != catalog.MoreSpecific })
	slices.SortFunc(overlaps, func(x, y catalog.Overlap) int {
		return cmp.Or(cmp.Compare(index[x.A], index[y.A]), cmp.Compare(index[x.B], index[y.B]))
	})
	var warns []string
	for _, o := range overlaps {
		warns = append(warns, shadowWarning(c, o.A, o.B, o.Examples.Both))
	}
	return warns
}

// shadowWarning is the warning for route a of c, more specific than route
// b, which both match the path both.
func shadowWarning(c *catalog.Catalog, a, b *catalog.Event, both string) string {
	if a.Action == b.Action {
		return fmt.Sprintf("%s:%d: route %s %s adds nothing to %s: the more general route %s (line %d) has the same action",
			c.Source, a.Line, a.Method, a.Route, a.Action, b.Route, b.Line)
	}
	return fmt.Sprintf("%s:%d: route %s %s (%s) is shadowed by the more general %s %s (%s, line %d): by path the specific route wins (%s), but a server that routes such requests through the general route reports that route, and the processor goes by the reported route",
		c.Source, a.Line, a.Method, a.Route, a.Action, b.Method, b.Route, b.Action, b.Line, both)
}
