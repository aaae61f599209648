// Command auditcatalog builds and checks the audit processor's catalogs:
//
//	auditcatalog import PAGE.md > service.yaml   a docs page of activity-tracking events to a catalog
//	auditcatalog import --openapi SPEC --service NAME   an OpenAPI description to a catalog
//	auditcatalog lint FILE...                    what the processor would reject, and warnings
//	auditcatalog lint --openapi SPEC FILE...     API operations no event covers, and stale events
//	auditcatalog match METHOD PATH_OR_ROUTE      which event a request matches, and why
//	auditcatalog coverage FILE.json...           matched actions and unmatched routes in OTLP JSON
//	auditcatalog verify --key PUB.pem FILE.json... whether the audit events are all there, unaltered and signed
//
// Run "auditcatalog COMMAND -h" for a command's flags; docs/auditcatalog.md
// has examples.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/audit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found errors (or no match)
	exitUsage = 2
)

const usage = `usage: auditcatalog COMMAND [flags] ARGS

commands:
  import PAGE.md          turn an activity-tracking events docs page into a catalog
  import --openapi SPEC   turn an OpenAPI description into a catalog (with --service NAME)
  lint FILE...            check catalogs as the processor loads them, plus warnings
  lint --openapi SPEC FILE...  list API operations no catalog event covers, and stale events
  match METHOD PATH       tell which event a method and path (or route) match, and why
  coverage FILE.json...   count matched actions and unmatched routes in OTLP JSON
  verify --key PUB.pem FILE.json...  check the audit events' chains: missing, altered, unsigned

run "auditcatalog COMMAND -h" for a command's flags
`

// run runs one command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"import":   runImport,
		"lint":     runLint,
		"match":    runMatch,
		"coverage": runCoverage,
		"verify":   runVerify,
	}
	cmd := cmds[args[0]]
	if cmd == nil {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "auditcatalog: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(args[1:], stdout, stderr)
}

// parseFlags parses flags anywhere among the arguments ("import page.md
// --service x" as well as "import --service x page.md") and returns the
// other arguments. want is the number of them, -1 for one or more.
func parseFlags(fs *flag.FlagSet, args []string, want int, stderr io.Writer) ([]string, bool) {
	rest, ok := parseFlagsAny(fs, args, stderr)
	if !ok {
		return nil, false
	}
	if (want < 0 && len(rest) == 0) || (want >= 0 && len(rest) != want) {
		fmt.Fprintf(stderr, "auditcatalog %s: wrong number of arguments\n", fs.Name())
		fs.Usage()
		return nil, false
	}
	return rest, true
}

// parseFlagsAny is parseFlags for any number of other arguments.
func parseFlagsAny(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, bool) {
	fs.SetOutput(stderr)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			return rest, true
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: auditcatalog %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", "[flags] PAGE.md | --openapi SPEC --service NAME")
	var opt importOptions
	fs.StringVar(&opt.service, "service", "", "the service name (default: the first part of the action names); it also stands in for {{site.data.keyword...}} references and <service_name> placeholders in action names")
	fs.StringVar(&opt.displayName, "display-name", "", "the catalog's display_name (default: the service name)")
	fs.StringVar(&opt.regions, "regions", "", "the set of region tables to use when the page has several: its number or its heading's anchor (default: the first)")
	fs.StringVar(&opt.kind, "kind", "", "the kind of route-less events in tables whose caption, paragraph and heading name none (data, ...; default: management, with a warning)")
	fs.BoolVar(&opt.keepGoing, "keep-going", false, "when the page has errors, write the catalog of the rows without errors (the exit status is still 1)")
	spec := fs.String("openapi", "", "import an OpenAPI description (JSON or YAML) instead of a page; needs --service")
	out := fs.String("o", "", "write the catalog to this file instead of standard output")
	files, ok := parseFlagsAny(fs, args, stderr)
	if !ok {
		return exitUsage
	}
	if want := 1 - min(1, len(*spec)); len(files) != want {
		fmt.Fprintf(stderr, "auditcatalog import: wrong number of arguments\n")
		fs.Usage()
		return exitUsage
	}
	if opt.kind != "" && (!kindWordRE.MatchString(opt.kind) || opt.kind == catalog.KindAPI) {
		fmt.Fprintf(stderr, "auditcatalog import: --kind %q: want a lower-case word other than api, such as management\n", opt.kind)
		return exitUsage
	}
	var (
		name string
		im   *imported
	)
	if *spec != "" {
		if opt.service == "" {
			fmt.Fprintln(stderr, "auditcatalog import: --openapi needs --service NAME (an OpenAPI description does not name the service's actions)")
			return exitUsage
		}
		name = filepath.Base(*spec)
		im = importOpenAPI(*spec, opt)
	} else {
		page := files[0]
		data, err := readPage(page)
		if err != nil {
			fmt.Fprintf(stderr, "auditcatalog import: %v\n", err)
			return exitFail
		}
		name = filepath.Base(page)
		im = importPage(name, data, opt)
	}
	// errors and notes in the order of the page's lines, the page's own last
	all := make([]problem, 0, len(im.errs)+len(im.notes))
	for _, p := range im.errs {
		all = append(all, problem{p.line, "error: " + p.msg})
	}
	all = byLine(append(all, im.notes...))
	for _, p := range all {
		fmt.Fprintln(stderr, where(name, p.line)+p.msg)
	}
	if im.cat == nil {
		fmt.Fprintf(stderr, "auditcatalog import: %d %s, no catalog written\n", len(im.errs), plural(len(im.errs), "error", "errors"))
		return exitFail
	}
	yml, err := encodeCatalog(im, name)
	if err == nil {
		err = checkCatalog(name, yml)
	}
	if err != nil { // a bug of the importer: what it wrote does not load
		fmt.Fprintf(stderr, "auditcatalog import: the catalog written does not load: %v\n", err)
		return exitFail
	}
	if *out != "" {
		if err := os.WriteFile(*out, yml, 0o644); err != nil {
			fmt.Fprintf(stderr, "auditcatalog import: %v\n", err)
			return exitFail
		}
	} else if _, err := stdout.Write(yml); err != nil {
		return exitFail
	}
	fmt.Fprintln(stderr, summary(name, im))
	if len(im.errs) > 0 {
		fmt.Fprintf(stderr, "auditcatalog import: %d %s: the catalog holds the rows without errors (--keep-going)\n", len(im.errs), plural(len(im.errs), "error", "errors"))
		return exitFail
	}
	return exitOK
}

// summary is import's last line: what was read, imported and skipped.
func summary(name string, im *imported) string {
	regions := "regions not stated"
	if n := len(im.cat.Regions); n > 0 {
		regions = fmt.Sprintf("%d %s (%d sending events)", n, plural(n, "region", "regions"), countSending(im.cat))
	}
	read := fmt.Sprintf("%d event %s and %d region %s read", im.eventTables, plural(im.eventTables, "table", "tables"), im.regionTables, plural(im.regionTables, "table", "tables"))
	rows := plural(im.skipped, "row", "rows")
	if im.operations > 0 {
		read = fmt.Sprintf("%d %s read", im.operations, plural(im.operations, "operation", "operations"))
		rows = plural(im.skipped, "operation", "operations")
	}
	return fmt.Sprintf("%s: %s; %d API %s and %d without a route imported, %d %s skipped; %s",
		name, read, im.api, plural(im.api, "event", "events"), im.other, im.skipped, rows, regions)
}

func where(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d: ", file, line)
	}
	return file + ": "
}

func countSending(c *catalog.Catalog) int {
	n := 0
	for _, r := range c.Regions {
		if r.SendsEvents {
			n++
		}
	}
	return n
}

// checkCatalog loads a catalog as the processor does.
func checkCatalog(source string, data []byte) error {
	c, err := catalog.Parse(source, data)
	if err != nil {
		return err
	}
	_, err = catalog.Compile(c)
	return err
}

// catalogFlags are the catalogs match and coverage use: the built-in ones
// unless --catalog names others, or what a collector configuration's audit
// processor (or connector) loads (--config).
type catalogFlags struct {
	files      listFlag
	builtins   bool
	configFile string
}

func (cf *catalogFlags) register(fs *flag.FlagSet) {
	fs.Var(&cf.files, "catalog", "a catalog file to use (repeatable); without it the built-in catalogs are used")
	fs.BoolVar(&cf.builtins, "builtins", false, "use the built-in catalogs as well as the --catalog files, as the processor's default configuration does")
	fs.StringVar(&cf.configFile, "config", "", "a collector configuration: load the catalogs and services (regions, selectors) of its audit processor, else its audit connector; --catalog files are added")
}

// config is the processor's default configuration with the catalogs of
// the flags, or the one --config names.
func (cf *catalogFlags) config() (audit.Config, error) {
	if cf.configFile != "" {
		cfg, err := collectorAuditConfig(cf.configFile)
		if err != nil {
			return cfg, err
		}
		cfg.CatalogFiles = append(cfg.CatalogFiles, cf.files...)
		return cfg, nil
	}
	cfg := audit.NewDefaultConfig()
	if len(cf.files) > 0 && !cf.builtins {
		cfg.BuiltinCatalogs = nil
	}
	cfg.CatalogFiles = cf.files
	return cfg, nil
}

// load loads the catalogs of the flags as the processor loads them.
func (cf *catalogFlags) load() (*audit.Auditor, error) {
	cfg, err := cf.config()
	if err != nil {
		return nil, err
	}
	return audit.Load(&cfg)
}

// collectorAuditConfig reads the configuration of the audit processor
// (processors: audit, else the first audit/NAME), else of the audit
// connector, from a collector configuration file, with the defaults for
// what it leaves out, checked as the collector checks it.
func collectorAuditConfig(file string) (audit.Config, error) {
	cfg := audit.NewDefaultConfig()
	data, err := os.ReadFile(file)
	if err != nil {
		return cfg, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfg, fmt.Errorf("%s: %w", file, err)
	}
	for _, kind := range []string{"processors", "connectors"} {
		section, _ := doc[kind].(map[string]any)
		var names []string
		for name := range section {
			if name == "audit" || strings.HasPrefix(name, "audit/") {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names) // "audit" sorts first
		raw, _ := section[names[0]].(map[string]any)
		delete(raw, "event") // the connector's own options
		if err := confmap.NewFromStringMap(raw).Unmarshal(&cfg); err != nil {
			return cfg, fmt.Errorf("%s: %s::%s: %w", file, kind, names[0], err)
		}
		if err := cfg.Check(); err != nil {
			return cfg, fmt.Errorf("%s: %s::%s: %w", file, kind, names[0], err)
		}
		return cfg, nil
	}
	return cfg, fmt.Errorf("%s: no audit processor or connector is configured (processors: audit or connectors: audit)", file)
}
