package main

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
)

// importOptions are the choices the page cannot make for the importer.
type importOptions struct {
	// service overrides the service name read from the action names.
	service string
	// displayName is the catalog's display_name; the pages name the service
	// only through {{site.data.keyword...}} references.
	displayName string
	// regions chooses a set of region tables: its number (1, 2, ...) or the
	// anchor of its heading; "" takes the first.
	regions string
}

// imported is a page read into a catalog, with what the importer inferred.
type imported struct {
	cat   *catalog.Catalog
	notes []problem
	// api and other count the events with and without a route.
	api, other int
}

// regionGroup is a set of region tables, split by geography, under one
// heading (or one tab group).
type regionGroup struct {
	heading heading
	key     string
	tables  []*table
}

var (
	regionHeaderRE = regexp.MustCompile("^([^()`]+?)\\s*\\(\\s*`?([^()`\\s]+)`?\\s*\\)$")
	tagRE          = regexp.MustCompile(`\[([^\]]*)\]\{:[^}]*\}`)
	codeSpanRE     = regexp.MustCompile("`([^`]+)`")
	requestRE      = regexp.MustCompile(`^([A-Za-z]+)\s+(\S+)$`)
	// a description that ends with its requests: "Text (`POST /v1/x`)."
	trailingReqRE = regexp.MustCompile("^(.*?)\\s*\\(\\s*(`[^`]+`(?:\\s*(?:,|or|and)\\s*`[^`]+`)*)\\s*\\)\\s*\\.?$")
	separatorsRE  = regexp.MustCompile(`^(?:\s|,|\bor\b|\band\b|<br\s*/?>)*$`)
	geographyRE   = regexp.MustCompile(`(?i)\bin (.+?) locations?\b`)
	keywordRE     = regexp.MustCompile(`\{\{site\.data\.keyword\.[\w-]+\}\}`)
	regexMetaRE   = regexp.MustCompile(`[\\^$*+?\[\]()|]`)
)

// importPage reads an activity-tracking events page into a catalog. source
// names the page in the catalog (Event.Line is the page's line). On failure
// it returns every problem it found, each with its line.
func importPage(source string, data []byte, opt importOptions) (*imported, []problem) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	tables, errs := scan(lines)
	im := &imported{cat: &catalog.Catalog{Source: source}}
	var groups []*regionGroup
	eventTables := 0
	for _, t := range tables {
		switch {
		case isRegionTable(t):
			key := t.attrs["tab-group"]
			if key == "" {
				key = "heading:" + strconv.Itoa(t.heading.line)
			}
			if n := len(groups); n > 0 && groups[n-1].key == key {
				groups[n-1].tables = append(groups[n-1].tables, t)
			} else {
				groups = append(groups, &regionGroup{heading: t.heading, key: key, tables: []*table{t}})
			}
		case isEventTable(t):
			eventTables++
			errs = append(errs, im.readEvents(t)...)
		default:
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("skipped a table that is neither a region table nor an event table (columns: %s)", strings.Join(t.header.cells, " | "))})
		}
	}
	errs = append(errs, im.chooseRegions(groups, opt.regions)...)
	if eventTables == 0 {
		errs = append(errs, problem{0, "no event table found (a table whose first column is Action)"})
	}
	errs = append(errs, im.setService(opt.service)...)
	if opt.service != "" {
		for _, ev := range im.cat.Events {
			if !strings.HasPrefix(ev.Action, opt.service+".") {
				im.notes = append(im.notes, problem{ev.Line, fmt.Sprintf("action %s does not start with the service name %s", ev.Action, opt.service)})
			}
		}
	}
	im.cat.DisplayName = opt.displayName
	if im.cat.DisplayName == "" {
		im.cat.DisplayName = im.cat.Service
		im.notes = append(im.notes, problem{0, fmt.Sprintf("display_name is the service name %q (pages name the service through {{site.data.keyword...}}; set --display-name)", im.cat.Service)})
	}
	if len(errs) > 0 {
		return nil, byLine(errs)
	}
	// the entries against each other: duplicates and ambiguous routes, with
	// the page's lines
	if _, err := catalog.Compile(im.cat); err != nil {
		for _, e := range splitErrors(err) {
			errs = append(errs, problem{0, e})
		}
		return nil, byLine(errs)
	}
	im.notes = byLine(im.notes)
	return im, nil
}

// byLine sorts problems by line, those of the whole page last.
func byLine(ps []problem) []problem {
	key := func(p problem) int {
		if p.line == 0 {
			return math.MaxInt
		}
		return p.line
	}
	slices.SortStableFunc(ps, func(a, b problem) int { return cmp.Compare(key(a), key(b)) })
	return ps
}

// isRegionTable tells whether every column of the header is a location
// "Name (`id`)" or a label column, and there is at least one location.
func isRegionTable(t *table) bool {
	n := 0
	for _, c := range t.header.cells {
		if regionHeaderRE.MatchString(c) {
			n++
		}
	}
	return n > 0 && n >= len(nonEmpty(t.header.cells))-1
}

func isEventTable(t *table) bool {
	return len(t.header.cells) > 0 && columnName(t.header.cells[0]) == "action"
}

func nonEmpty(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// columnName normalises a header cell: lower case, no emphasis.
func columnName(s string) string {
	return strings.ToLower(strings.Trim(s, "*_ "))
}

// cellText strips a cell's markup: [Yes]{: tag-green} is Yes, `x` is x.
func cellText(s string) string {
	s = tagRE.ReplaceAllString(s, "$1")
	return strings.TrimSpace(strings.Trim(s, "*`"))
}

func (im *imported) chooseRegions(groups []*regionGroup, choice string) []problem {
	if len(groups) == 0 {
		return []problem{{0, "no region table found (a table of locations \"Name (`id`)\" with a row of [Yes]/[No] cells)"}}
	}
	g := groups[0]
	if choice != "" {
		g = nil
		for i, c := range groups {
			if choice == strconv.Itoa(i+1) || (c.heading.anchor != "" && choice == c.heading.anchor) {
				g = c
			}
		}
		if g == nil {
			return []problem{{0, fmt.Sprintf("--regions %q: no such region table; the page has %s", choice, describeGroups(groups))}}
		}
	}
	if len(groups) > 1 {
		im.notes = append(im.notes, problem{g.tables[0].header.line, fmt.Sprintf("the page has %s; using set %d (choose with --regions)", describeGroups(groups), slices.Index(groups, g)+1)})
	}
	var errs []problem
	for _, t := range g.tables {
		errs = append(errs, im.readRegions(t)...)
	}
	return errs
}

func describeGroups(groups []*regionGroup) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = describeGroup(i, g)
	}
	return fmt.Sprintf("%d sets of region tables: %s", len(groups), strings.Join(parts, ", "))
}

func describeGroup(i int, g *regionGroup) string {
	s := fmt.Sprintf("%d (line %d", i+1, g.tables[0].header.line)
	if g.heading.anchor != "" {
		s += ", #" + g.heading.anchor
	}
	if g.heading.text != "" {
		s += fmt.Sprintf(", %q", g.heading.text)
	}
	return s + ")"
}

// readRegions reads one geography's region table.
func (im *imported) readRegions(t *table) []problem {
	var errs []problem
	geography := t.attrs["tab-title"]
	if geography == "" {
		if m := geographyRE.FindStringSubmatch(t.attrs["caption"]); m != nil {
			geography = m[1]
		}
	}
	if geography == "" {
		im.notes = append(im.notes, problem{t.header.line, "region table without a tab-title or a caption \"... in GEOGRAPHY locations\": geography left empty"})
	}
	type column struct {
		index    int
		id, name string
	}
	if len(t.rows) == 0 {
		return append(errs, problem{t.header.line, "region table without a row of Yes/No cells"})
	}
	r := t.rows[0]
	cell := func(i int) string {
		if i < len(r.cells) {
			return r.cells[i]
		}
		return ""
	}
	var cols []column
	for i, c := range t.header.cells {
		m := regionHeaderRE.FindStringSubmatch(c)
		switch {
		case m != nil && catalog.ValidRegionID(m[2]):
			cols = append(cols, column{i, m[2], m[1]})
		case m != nil && !strings.EqualFold(m[2], "global"):
			errs = append(errs, problem{t.header.line, fmt.Sprintf("column %d: %q is not a region id like eu-de", i+1, m[2])})
		case c != "":
			// a global column, or one that names no location: catalogs
			// list regions only
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("column %d %q is not a region: skipped (its cell: %q)", i+1, c, cellText(cell(i)))})
		}
	}
	for _, r := range t.rows[1:] {
		errs = append(errs, problem{r.line, "a region table has one row of Yes/No cells; this is another row"})
	}
	for _, extra := range tail(r.cells, len(t.header.cells)) {
		if extra != "" {
			errs = append(errs, problem{r.line, fmt.Sprintf("cell %q beyond the header's %d columns", extra, len(t.header.cells))})
		}
	}
	for _, col := range cols {
		var sends bool
		switch strings.ToLower(cellText(cell(col.index))) {
		case "yes":
			sends = true
		case "no":
		default:
			errs = append(errs, problem{r.line, fmt.Sprintf("region %s: cell %q is neither Yes nor No", col.id, cell(col.index))})
			continue
		}
		if im.cat.RegionIndex(col.id) >= 0 {
			errs = append(errs, problem{t.header.line, fmt.Sprintf("region %s is listed twice", col.id)})
			continue
		}
		im.cat.Regions = append(im.cat.Regions, catalog.Region{ID: col.id, Name: col.name, Geography: geography, SendsEvents: sends})
	}
	return errs
}

func tail(cells []string, n int) []string {
	if len(cells) <= n {
		return nil
	}
	return cells[n:]
}

// request is one "METHOD /route" of an event.
type request struct {
	method, route string
	regex         bool
}

// readEvents reads one event table: either Action | Description with the
// requests at the end of the description, or with a request column, or
// without any request (route-less events of the kind the caption names).
func (im *imported) readEvents(t *table) []problem {
	var errs []problem
	action, desc, req := 0, -1, -1
	for i, c := range t.header.cells[1:] {
		switch columnName(c) {
		case "description":
			desc = i + 1
		case "api request", "request", "api", "http request", "api method", "route":
			req = i + 1
		default:
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("column %d %q ignored", i+2, c)})
		}
	}
	type entry struct {
		line       int
		action     string
		desc       string
		requests   []request
		hasRequest bool
	}
	var entries []entry
	for _, r := range t.rows {
		if len(r.cells) < len(t.header.cells) {
			errs = append(errs, problem{r.line, fmt.Sprintf("row has %d cells, the header %d", len(r.cells), len(t.header.cells))})
			continue
		}
		if extra := nonEmpty(tail(r.cells, len(t.header.cells))); len(extra) > 0 {
			errs = append(errs, problem{r.line, fmt.Sprintf("cell %q beyond the header's %d columns", extra[0], len(t.header.cells))})
			continue
		}
		e := entry{line: r.line, action: cellText(r.cells[action])}
		if e.action == "" || strings.ContainsAny(e.action, " \t") {
			errs = append(errs, problem{r.line, fmt.Sprintf("action %q is not one word", r.cells[action])})
			continue
		}
		if desc >= 0 {
			e.desc = strings.Join(strings.Fields(r.cells[desc]), " ")
		}
		var err string
		if req >= 0 {
			e.requests, err = parseRequests(r.cells[req])
			e.hasRequest = r.cells[req] != ""
		} else {
			e.desc, e.requests, err = splitDescription(e.desc)
			e.hasRequest = len(e.requests) > 0
		}
		if err != "" {
			errs = append(errs, problem{r.line, err})
			continue
		}
		if keywordRE.MatchString(e.desc) {
			im.notes = append(im.notes, problem{r.line, "the description keeps a {{site.data.keyword...}} reference as written"})
		}
		entries = append(entries, e)
	}
	withRequest := slices.IndexFunc(entries, func(e entry) bool { return e.hasRequest }) >= 0
	kind := catalog.KindAPI
	if !withRequest && len(entries) > 0 {
		var why string
		kind, why = tableKind(t)
		if kind == "" {
			return append(errs, problem{t.header.line, fmt.Sprintf("no row of this table has a request (METHOD /path), and neither its caption, the paragraph before it nor its heading says platform or service credentials events (caption %q)", t.attrs["caption"])})
		}
		im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("%d %s without a request: kind %s, from the %s", len(entries), plural(len(entries), "event", "events"), kind, why)})
	}
	for _, e := range entries {
		if kind != catalog.KindAPI {
			im.cat.Events = append(im.cat.Events, catalog.Event{Action: e.action, Kind: kind, Description: e.desc, Line: e.line, Catalog: im.cat})
			im.other++
			continue
		}
		if !e.hasRequest {
			errs = append(errs, problem{e.line, fmt.Sprintf("action %s has no request (`METHOD /path`), while other rows of the table at line %d do", e.action, t.header.line)})
			continue
		}
		for _, rq := range e.requests {
			im.cat.Events = append(im.cat.Events, catalog.Event{
				Action: e.action, Kind: catalog.KindAPI, Method: rq.method, Route: rq.route, RouteIsRegex: rq.regex,
				Description: e.desc, Line: e.line, Catalog: im.cat,
			})
			im.api++
		}
	}
	return errs
}

// tableKind infers the kind of route-less events from the table's caption,
// else the paragraph before it, else its heading.
func tableKind(t *table) (kind, why string) {
	for _, src := range []struct{ name, text string }{
		{"caption", t.attrs["caption"]},
		{"paragraph before the table", t.para},
		{"heading", t.heading.text},
	} {
		s := strings.ToLower(src.text)
		switch {
		case strings.Contains(s, "service credential"):
			return catalog.KindServiceCredentials, fmt.Sprintf("%s %q", src.name, src.text)
		case strings.Contains(s, "platform"):
			return catalog.KindPlatform, fmt.Sprintf("%s %q", src.name, src.text)
		}
	}
	return "", ""
}

// splitDescription cuts the requests off the end of a description:
// "Create a model (`POST /v1/models`)." is "Create a model" and one request.
// A request elsewhere in the description is an error.
func splitDescription(d string) (string, []request, string) {
	text, reqs := d, []request(nil)
	if m := trailingReqRE.FindStringSubmatch(d); m != nil {
		parsed, err := parseRequests(m[2])
		if err == "" {
			text, reqs = m[1], parsed
		} else if looksLikeRequest(codeSpanRE.FindStringSubmatch(m[2])[1]) {
			return "", nil, err
		}
	}
	for _, span := range codeSpanRE.FindAllStringSubmatch(text, -1) {
		if looksLikeRequest(span[1]) {
			return "", nil, fmt.Sprintf("request `%s` is not at the end of the description in the form (`METHOD /path`)", span[1])
		}
	}
	return text, reqs, ""
}

// looksLikeRequest tells whether a code span is meant as a request: it
// starts with an HTTP method, or is a word and a path.
func looksLikeRequest(s string) bool {
	f := strings.Fields(s)
	return len(f) > 0 && slices.Contains(catalog.Methods, strings.ToUpper(f[0])) ||
		len(f) == 2 && strings.HasPrefix(f[1], "/")
}

// parseRequests reads a request cell: one or more `METHOD /route` code spans
// (or one unquoted request), separated by commas, "or", "and" or <br>.
func parseRequests(cell string) ([]request, string) {
	if cell == "" {
		return nil, ""
	}
	spans := codeSpanRE.FindAllStringSubmatch(cell, -1)
	var texts []string
	if len(spans) == 0 {
		texts = []string{cell}
	} else {
		if rest := codeSpanRE.ReplaceAllString(cell, ""); !separatorsRE.MatchString(rest) {
			return nil, fmt.Sprintf("request cell %q has text besides its `METHOD /path` requests", cell)
		}
		for _, s := range spans {
			texts = append(texts, s[1])
		}
	}
	var reqs []request
	for _, s := range texts {
		m := requestRE.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			return nil, fmt.Sprintf("request %q is not METHOD /path", s)
		}
		method := strings.ToUpper(m[1])
		if !slices.Contains(catalog.Methods, method) {
			return nil, fmt.Sprintf("request %q: unknown method %s", s, m[1])
		}
		r := request{method: method, route: m[2], regex: regexMetaRE.MatchString(m[2])}
		if err := catalog.CheckRoute(r.route, r.regex); err != nil {
			syntax := "template"
			if r.regex {
				syntax = "regular expression"
			}
			return nil, fmt.Sprintf("request %q: route %s as a %s: %v", s, r.route, syntax, err)
		}
		reqs = append(reqs, r)
	}
	return reqs, ""
}

// setService takes the service name from the actions ("svc.object.verb"),
// unless one is given.
func (im *imported) setService(given string) []problem {
	if given != "" {
		im.cat.Service = given
		return nil
	}
	first := map[string]int{}
	var names []string
	for _, ev := range im.cat.Events {
		name, _, _ := strings.Cut(ev.Action, ".")
		if _, ok := first[name]; !ok {
			first[name] = ev.Line
			names = append(names, name)
		}
	}
	switch len(names) {
	case 0:
		return nil
	case 1:
		im.cat.Service = names[0]
		return nil
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s (line %d)", n, first[n])
	}
	return []problem{{0, fmt.Sprintf("the actions name %d services: %s; choose one with --service", len(names), strings.Join(parts, ", "))}}
}

// splitErrors lists the errors a catalog error joins, one per line.
func splitErrors(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}
