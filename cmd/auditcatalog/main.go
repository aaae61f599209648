// Command auditcatalog builds and checks the audit processor's catalogs:
//
//	auditcatalog import PAGE.md > service.yaml   a docs page of activity-tracking events to a catalog
//	auditcatalog lint FILE...                    what the processor would reject, and warnings
//	auditcatalog match METHOD PATH_OR_ROUTE      which event a request matches, and why
//	auditcatalog coverage FILE.json...           matched actions and unmatched routes in OTLP JSON
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
	"strings"

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
  lint FILE...            check catalogs as the processor loads them, plus warnings
  match METHOD PATH       tell which event a method and path (or route) match, and why
  coverage FILE.json...   count matched actions and unmatched routes in OTLP JSON

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
	fs.SetOutput(stderr)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if (want < 0 && len(rest) == 0) || (want >= 0 && len(rest) != want) {
		fmt.Fprintf(stderr, "auditcatalog %s: wrong number of arguments\n", fs.Name())
		fs.Usage()
		return nil, false
	}
	return rest, true
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
	fs := newFlagSet("import", "[flags] PAGE.md")
	var opt importOptions
	fs.StringVar(&opt.service, "service", "", "the service name (default: the first part of the action names)")
	fs.StringVar(&opt.displayName, "display-name", "", "the catalog's display_name (default: the service name)")
	fs.StringVar(&opt.regions, "regions", "", "the set of region tables to use when the page has several: its number or its heading's anchor (default: the first)")
	out := fs.String("o", "", "write the catalog to this file instead of standard output")
	files, ok := parseFlags(fs, args, 1, stderr)
	if !ok {
		return exitUsage
	}
	page := files[0]
	data, err := os.ReadFile(page)
	if err != nil {
		fmt.Fprintf(stderr, "auditcatalog import: %v\n", err)
		return exitFail
	}
	name := filepath.Base(page)
	im, problems := importPage(name, data, opt)
	if problems != nil {
		for _, p := range problems {
			fmt.Fprintln(stderr, where(name, p.line)+"error: "+p.msg)
		}
		fmt.Fprintf(stderr, "auditcatalog import: %d %s, no catalog written\n", len(problems), plural(len(problems), "error", "errors"))
		return exitFail
	}
	for _, n := range im.notes {
		fmt.Fprintln(stderr, where(name, n.line)+n.msg)
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
	fmt.Fprintf(stderr, "%s: %d regions (%d sending events), %d API events, %d without a route\n",
		name, len(im.cat.Regions), countSending(im.cat), im.api, im.other)
	return exitOK
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
// unless --catalog names others.
type catalogFlags struct {
	files    listFlag
	builtins bool
}

func (cf *catalogFlags) register(fs *flag.FlagSet) {
	fs.Var(&cf.files, "catalog", "a catalog file to use (repeatable); without it the built-in catalogs are used")
	fs.BoolVar(&cf.builtins, "builtins", false, "use the built-in catalogs as well as the --catalog files, as the processor's default configuration does")
}

// config is the processor's default configuration with the catalogs of
// the flags.
func (cf *catalogFlags) config() audit.Config {
	cfg := audit.NewDefaultConfig()
	if len(cf.files) > 0 && !cf.builtins {
		cfg.BuiltinCatalogs = nil
	}
	cfg.CatalogFiles = cf.files
	return cfg
}

// load loads the catalogs of the flags as the processor loads them.
func (cf *catalogFlags) load() (*audit.Auditor, error) {
	cfg := cf.config()
	return audit.Load(&cfg)
}
