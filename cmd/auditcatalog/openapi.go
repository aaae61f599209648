package main

// OpenAPI descriptions are read with kin-openapi (github.com/getkin/kin-openapi):
// OpenAPI 3.0 and 3.1 directly, Swagger 2.0 converted to 3 by its openapi2conv.
// It records the line of every operation (IncludeOrigin), and it reads no
// file or URL that a $ref names unless asked to: a description is data from
// elsewhere, and importing it must not reach the network.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/catalog"
)

// actionExtension overrides the action of one operation.
const actionExtension = "x-audit-action"

// operation is one operation of an OpenAPI description.
type operation struct {
	// method is upper case; route is the server's base path and the path
	// template.
	method, route string
	// path is the path template as the description writes it.
	path string
	id   string
	// summary is the summary, else the operationId.
	summary string
	// action is the x-audit-action extension, or "".
	action string
	// line is the line of the operation in the description (0: unknown,
	// as for Swagger 2.0).
	line int
}

// where names an operation in messages: "spec.yaml:12 (GET /v1/things)".
func (op operation) where(spec string) string {
	at := spec
	if op.line > 0 {
		at = fmt.Sprintf("%s:%d", spec, op.line)
	}
	return fmt.Sprintf("%s (%s %s)", at, op.method, op.route)
}

// description is what an OpenAPI description holds for the importer.
type description struct {
	title string
	ops   []operation
	// notes are what the reader inferred (base paths).
	notes []problem
}

// loadOpenAPI reads an OpenAPI 3.x or Swagger 2.0 description, JSON or YAML.
func loadOpenAPI(file string) (*description, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, errors.Unwrap(err) // the caller names the file
	}
	return parseOpenAPI(file, data)
}

// parseOpenAPI reads a description; file locates the $refs within it.
func parseOpenAPI(file string, data []byte) (*description, error) {
	var probe struct {
		Swagger string `yaml:"swagger"`
		OpenAPI string `yaml:"openapi"`
	}
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not JSON or YAML: %w", err)
	}
	var (
		doc *openapi3.T
		err error
	)
	switch {
	case probe.Swagger != "":
		doc, err = loadSwagger2(data)
	case probe.OpenAPI != "":
		loader := openapi3.NewLoader()
		loader.IncludeOrigin = true
		loc, _ := url.Parse(filepath.ToSlash(file))
		doc, err = loader.LoadFromDataWithPath(data, loc)
	default:
		return nil, errors.New("neither an OpenAPI (openapi: 3.x) nor a Swagger (swagger: \"2.0\") description")
	}
	if err != nil {
		return nil, err
	}
	return describe(doc), nil
}

// loadSwagger2 reads a Swagger 2.0 description and converts it to OpenAPI 3.
func loadSwagger2(data []byte) (*openapi3.T, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(js, &doc2); err != nil {
		return nil, err
	}
	return openapi2conv.ToV3(&doc2)
}

func describe(doc *openapi3.T) *description {
	d := &description{}
	if doc.Info != nil {
		d.title = doc.Info.Title
	}
	noted := map[string]bool{}
	base := func(servers openapi3.Servers, at int) string {
		if len(servers) == 0 {
			return ""
		}
		bases := make([]string, len(servers))
		for i, s := range servers {
			// BasePath assumes a valid server (a variable without a
			// default panics it)
			if s == nil || s.Validate(context.Background()) != nil {
				bases[i] = "(invalid server)"
				continue
			}
			bases[i], _ = s.BasePath()
			bases[i] = strings.TrimSuffix(bases[i], "/")
		}
		if bases[0] == "(invalid server)" {
			if !noted["invalid"] {
				noted["invalid"] = true
				d.notes = append(d.notes, problem{at, "the first server is not valid (a variable without a default?): no base path"})
			}
			return ""
		}
		if key := strings.Join(bases, " "); len(slices.Compact(slices.Clone(bases))) > 1 && !noted[key] {
			noted[key] = true
			d.notes = append(d.notes, problem{at, fmt.Sprintf("the servers have different base paths (%s): using the first, %q", strings.Join(bases, ", "), bases[0])})
		}
		return bases[0]
	}
	if doc.Paths == nil {
		return d
	}
	// the document is not validated (real descriptions often fail
	// validation on what does not matter here): nil items are skipped
	for path, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			servers := doc.Servers
			switch {
			case op.Servers != nil:
				servers = *op.Servers
			case len(item.Servers) > 0:
				servers = item.Servers
			}
			o := operation{method: strings.ToUpper(method), path: path, id: op.OperationID, summary: op.Summary}
			if op.Origin != nil && op.Origin.Key != nil {
				o.line = op.Origin.Key.Line
			}
			o.route = base(servers, o.line) + path
			if o.summary == "" {
				o.summary = op.OperationID
			}
			if a, ok := op.Extensions[actionExtension]; ok {
				o.action = strings.TrimSpace(fmt.Sprint(a))
			}
			d.ops = append(d.ops, o)
		}
	}
	// by path, then the methods of one path in the order of catalog.Methods
	slices.SortFunc(d.ops, func(a, b operation) int {
		return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(slices.Index(catalog.Methods, a.method), slices.Index(catalog.Methods, b.method)), cmp.Compare(a.method, b.method))
	})
	return d
}

var versionSegmentRE = regexp.MustCompile(`^v\d+([a-z]+\d*)?$`)

// deriveAction names an operation's action by the documented rule, the
// provider's own convention (its catalogs name a list
// speech-to-text.custom-language-model-list.read): service.object.verb, the
// object the last run of literal path segments (version segments such as v1
// left out), singular and joined by "-"; the verb POST create, GET or HEAD
// of an item (the path ends with a parameter) read, PUT and PATCH update,
// DELETE delete; GET or HEAD of a collection reads the object's list,
// service.object-list.read. It returns "" and why when the rule gives no
// action.
func deriveAction(service, method, path string) (string, string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	item := len(segs) > 0 && isParam(segs[len(segs)-1])
	end := len(segs)
	for end > 0 && isParam(segs[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isParam(segs[start-1]) && !versionSegmentRE.MatchString(segs[start-1]) {
		start--
	}
	if start == end {
		return "", "its path has no literal segment to name the object"
	}
	words := make([]string, 0, end-start)
	for _, s := range segs[start:end] {
		if w := kebab(s); w != "" {
			words = append(words, singular(w))
		}
	}
	if len(words) == 0 {
		return "", "its path has no literal segment to name the object"
	}
	var verb string
	switch method {
	case "POST":
		verb = "create"
	case "GET", "HEAD":
		verb = "read"
		if !item {
			words = append(words, "list")
		}
	case "PUT", "PATCH":
		verb = "update"
	case "DELETE":
		verb = "delete"
	default:
		return "", "the rule names no verb for " + method
	}
	return service + "." + strings.Join(words, "-") + "." + verb, ""
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

var camelRE = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// kebab writes a path segment as an action part: dataSources and
// data_sources are data-sources; what is not a letter or digit is a "-".
func kebab(s string) string {
	s = camelRE.ReplaceAllString(s, "$1-$2")
	s = nonWordRE.ReplaceAllString(strings.ToLower(s), "-")
	return strings.Trim(s, "-")
}

var nonWordRE = regexp.MustCompile(`[^a-z0-9]+`)

// singular makes the last word of a name singular by the regular English
// rules: policies policy, addresses address, boxes box, things thing;
// words ending in ss, us or is stay.
func singular(s string) string {
	head, last := "", s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		head, last = s[:i+1], s[i+1:]
	}
	switch {
	case strings.HasSuffix(last, "ies") && len(last) > 4:
		last = last[:len(last)-3] + "y"
	case strings.HasSuffix(last, "sses"), strings.HasSuffix(last, "xes"), strings.HasSuffix(last, "ches"),
		strings.HasSuffix(last, "shes"), strings.HasSuffix(last, "zes"):
		last = last[:len(last)-2]
	case strings.HasSuffix(last, "ss"), strings.HasSuffix(last, "us"), strings.HasSuffix(last, "is"):
	case strings.HasSuffix(last, "s") && len(last) > 1:
		last = last[:len(last)-1]
	}
	return head + last
}

// importOpenAPI turns an OpenAPI description into a catalog of one API
// event per operation.
func importOpenAPI(spec string, opt importOptions) *imported {
	im := &imported{}
	d, err := loadOpenAPI(spec)
	return im.fromDescription(filepath.Base(spec), d, err, opt)
}

// fromDescription builds the catalog of a description read (or not, err).
func (im *imported) fromDescription(name string, d *description, err error, opt importOptions) *imported {
	if err != nil {
		im.errs = append(im.errs, problem{0, err.Error()})
		return im
	}
	im.notes = append(im.notes, d.notes...)
	im.operations = len(d.ops)
	cat := &catalog.Catalog{Service: opt.service, DisplayName: cmp.Or(opt.displayName, d.title, opt.service), Source: name}
	byAction := map[string][]operation{}
	var actions []string
	for _, op := range d.ops {
		action := op.action
		if action == "" {
			var why string
			if action, why = deriveAction(opt.service, op.method, op.path); action == "" {
				im.errs = append(im.errs, problem{op.line, fmt.Sprintf("%s %s (%s): %s; name its action with %s", op.method, op.route, cmp.Or(op.id, "no operationId"), why, actionExtension)})
				im.skipped++
				continue
			}
		} else if strings.ContainsAny(action, " \t\n") {
			im.errs = append(im.errs, problem{op.line, fmt.Sprintf("%s %s: %s %q contains white space", op.method, op.route, actionExtension, action)})
			im.skipped++
			continue
		} else if !strings.HasPrefix(action, opt.service+".") {
			im.notes = append(im.notes, problem{op.line, fmt.Sprintf("%s %s: %s %s does not start with the service name %s", op.method, op.route, actionExtension, action, opt.service)})
		}
		if err := catalog.CheckRoute(op.route, false); err != nil {
			im.errs = append(im.errs, problem{op.line, fmt.Sprintf("%s %s: the catalog format cannot hold this route: %v", op.method, op.route, err)})
			im.skipped++
			continue
		}
		if _, seen := byAction[action]; !seen {
			actions = append(actions, action)
		}
		byAction[action] = append(byAction[action], op)
		cat.Events = append(cat.Events, catalog.Event{
			Action: action, Kind: catalog.KindAPI, Method: op.method, Route: op.route,
			Description: op.summary, Line: op.line, Catalog: cat,
		})
	}
	for _, a := range actions {
		if ops := byAction[a]; len(ops) > 1 {
			where := make([]string, len(ops))
			for i, op := range ops {
				where[i] = op.where(name)
			}
			im.notes = append(im.notes, problem{ops[0].line, fmt.Sprintf("%d operations get the action %s: %s; if they are different actions, name them with %s", len(ops), a, strings.Join(where, ", "), actionExtension)})
		}
	}
	im.notes = append(im.notes, problem{0, noRegionsNote("an OpenAPI description has no region table", opt.service)})
	if _, err := catalog.Compile(cat); err != nil {
		for _, e := range splitErrors(err) {
			im.errs = append(im.errs, problem{0, e})
		}
		im.dropConflicts(cat)
	}
	im.api = len(cat.Events)
	im.errs, im.notes = byLine(im.errs), byLine(im.notes)
	if len(cat.Events) > 0 && (len(im.errs) == 0 || opt.keepGoing) {
		im.cat = cat
	}
	return im
}
