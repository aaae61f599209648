// Package catalog loads, validates and compiles audit event catalogs.
//
// A catalog describes one service: the regions where it sends audit events
// and the events it emits, each an action name with, for API events, the
// HTTP method and route that produce it. The package knows nothing of pdata:
// the processor asks a compiled Matcher which event a method and a path (or a
// server's route template) belong to.
package catalog // import "github.com/otel-audit/auditprocessor/catalog"

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Catalog is one service's audit event catalog, as loaded from YAML.
type Catalog struct {
	// Service is the service name, the first part of every action name.
	Service string
	// DisplayName is the human-readable service name.
	DisplayName string
	// Source names where the catalog came from: "builtin:NAME" or a file path.
	Source string
	// Regions is the region table, in catalog order. Empty means the catalog
	// does not state its regions (the file has no regions key, or an empty
	// list, as the importer writes for pages and OpenAPI descriptions without
	// a region table): it is not "no region sends events", and the processor
	// reads it as "events are sent from every region" unless
	// services.NAME.regions says otherwise.
	Regions []Region
	// Events are the catalog's events, in catalog order.
	Events []Event
}

// Region is one row of a catalog's region table.
type Region struct {
	ID          string
	Name        string
	Geography   string
	SendsEvents bool
}

// Event kinds. API events have a method and a route; the others are kept as
// data and never match an HTTP record.
const (
	KindAPI                = "api"
	KindPlatform           = "platform"
	KindServiceCredentials = "service-credentials"
)

// Event is one catalog entry.
type Event struct {
	// Action is the audit action name, e.g. "speech-to-text.custom-language-model.create".
	Action string
	// Kind is KindAPI for events with a route, else what the catalog says.
	Kind string
	// Method is the upper-case HTTP method; empty for route-less events.
	Method string
	// Route is the route as written in the catalog: a template or a regular expression.
	Route string
	// RouteIsRegex tells whether Route was given as route_regex.
	RouteIsRegex bool
	// Description is the event's description from the catalog.
	Description string
	// Severity is an explicit severity from the catalog, or empty.
	Severity string
	// DataEvent tells whether the event reads or changes customer data (a
	// data event) rather than managing the service (a management event).
	DataEvent bool
	// Line is the line of the entry in its catalog file (0 when unknown).
	Line int
	// Catalog is the catalog the event belongs to.
	Catalog *Catalog
}

// ActionParts splits an action named service.object.verb: the first
// dot-separated part, the middle ones (joined by dots; "" for fewer than
// three parts), the last one, and how many parts there are.
func ActionParts(action string) (service, object, verb string, parts int) {
	p := strings.Split(action, ".")
	verb = p[len(p)-1]
	if len(p) >= 2 {
		service = p[0]
	}
	if len(p) >= 3 {
		object = strings.Join(p[1:len(p)-1], ".")
	}
	return service, object, verb, len(p)
}

// HasRoute tells whether the event can match an HTTP record.
func (e *Event) HasRoute() bool { return e.Route != "" }

// Ref names the event in error messages: "SOURCE:LINE (ACTION METHOD ROUTE)".
func (e *Event) Ref() string {
	where := e.Catalog.Source
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	if e.HasRoute() {
		return fmt.Sprintf("%s (%s %s %s)", where, e.Action, e.Method, e.Route)
	}
	return fmt.Sprintf("%s (%s)", where, e.Action)
}

// RegionIndex returns the index of the region with the given id, or -1.
func (c *Catalog) RegionIndex(id string) int {
	return slices.IndexFunc(c.Regions, func(r Region) bool { return r.ID == id })
}

// The YAML shape of a catalog file; see the README for the format.
type fileCatalog struct {
	Service     string       `yaml:"service"`
	DisplayName string       `yaml:"display_name"`
	Regions     []fileRegion `yaml:"regions"`
	Events      []fileEvent  `yaml:"events"`
}

type fileRegion struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Geography   string `yaml:"geography"`
	SendsEvents *bool  `yaml:"sends_events"`
}

type fileEvent struct {
	Action      string `yaml:"action"`
	Kind        string `yaml:"kind"`
	Method      string `yaml:"method"`
	Route       string `yaml:"route"`
	RouteRegex  string `yaml:"route_regex"`
	Description string `yaml:"description"`
	Severity    string `yaml:"severity"`
	DataEvent   bool   `yaml:"data_event"`
}

// lines only records where each event starts, for error messages.
type fileLines struct {
	Events []yaml.Node `yaml:"events"`
}

// Methods are the HTTP methods a catalog entry may name.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}

var (
	serviceRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	actionRE   = regexp.MustCompile(`^[^\s]+$`)
	severities = []string{"normal", "warning", "critical"}
)

// Parse reads one catalog from YAML. source names it in errors (a file path
// or "builtin:NAME"). Parse checks each entry on its own; Compile checks the
// entries against each other.
func Parse(source string, data []byte) (*Catalog, error) {
	var fc fileCatalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", source, err)
	}
	var fl fileLines
	_ = yaml.Unmarshal(data, &fl) // the strict decode above succeeded, so this does too

	c := &Catalog{Service: fc.Service, DisplayName: fc.DisplayName, Source: source}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("catalog %s: "+format, append([]any{source}, args...)...))
	}
	if !serviceRE.MatchString(c.Service) {
		fail("service must be a lower-case name of letters, digits and dashes, got %q", c.Service)
	}
	if c.DisplayName == "" {
		c.DisplayName = c.Service
	}
	for i, r := range fc.Regions {
		switch {
		case !regionRE.MatchString(r.ID):
			fail("regions[%d]: invalid region id %q (want lower case like \"eu-de\")", i, r.ID)
		case c.RegionIndex(r.ID) >= 0:
			fail("regions[%d]: region %q is listed twice", i, r.ID)
		case r.SendsEvents == nil:
			fail("regions[%d] (%s): sends_events must be true or false", i, r.ID)
		default:
			c.Regions = append(c.Regions, Region{ID: r.ID, Name: r.Name, Geography: r.Geography, SendsEvents: *r.SendsEvents})
		}
	}
	if len(fc.Events) == 0 {
		fail("events must list at least one event")
	}
	c.Events = make([]Event, 0, len(fc.Events))
	for i, fe := range fc.Events {
		ev := Event{
			Action:      strings.TrimSpace(fe.Action),
			Kind:        fe.Kind,
			Method:      fe.Method,
			Route:       fe.Route,
			Description: fe.Description,
			Severity:    fe.Severity,
			DataEvent:   fe.DataEvent,
			Catalog:     c,
		}
		if i < len(fl.Events) {
			ev.Line = fl.Events[i].Line
		}
		where := fmt.Sprintf("events[%d] (line %d)", i, ev.Line)
		if fe.RouteRegex != "" {
			if fe.Route != "" {
				fail("%s: set route or route_regex, not both", where)
				continue
			}
			ev.Route, ev.RouteIsRegex = fe.RouteRegex, true
		}
		if ev.Action == "" {
			fail("%s: action is empty", where)
			continue
		}
		if !actionRE.MatchString(ev.Action) {
			fail("%s: action %q contains white space", where, ev.Action)
			continue
		}
		where = fmt.Sprintf("events[%d] (line %d, %s)", i, ev.Line, ev.Action)
		if ev.Severity != "" && !slices.Contains(severities, ev.Severity) {
			fail("%s: severity must be one of %s, got %q", where, strings.Join(severities, ", "), ev.Severity)
		}
		switch {
		case ev.Route == "" && ev.Method == "":
			if ev.Kind == "" || ev.Kind == KindAPI {
				fail("%s: an API event needs a method and a route (set kind for events without one)", where)
				continue
			}
		case ev.Route == "":
			fail("%s: method %s has no route", where, ev.Method)
			continue
		case !slices.Contains(Methods, ev.Method):
			fail("%s: unknown method %q (want one of %s)", where, ev.Method, strings.Join(Methods, ", "))
			continue
		default:
			if ev.Kind == "" {
				ev.Kind = KindAPI
			}
			if ev.Kind != KindAPI {
				fail("%s: kind %q cannot have a route", where, ev.Kind)
				continue
			}
			if _, err := parseRoute(ev.Route, ev.RouteIsRegex); err != nil {
				fail("%s: route %q: %v", where, ev.Route, err)
				continue
			}
		}
		c.Events = append(c.Events, ev)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames lists the built-in catalogs, sorted.
func BuiltinNames() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// ErrUnknownBuiltin is returned by Builtin for a name that is not built in.
var ErrUnknownBuiltin = errors.New("unknown built-in catalog")

// Builtin parses the built-in catalog with the given name.
func Builtin(name string) (*Catalog, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("%w %q (built in: %s)", ErrUnknownBuiltin, name, strings.Join(BuiltinNames(), ", "))
	}
	return Parse("builtin:"+name, data)
}
