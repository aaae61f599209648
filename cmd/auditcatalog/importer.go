package main

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
)

// importOptions are the choices the page cannot make for the importer.
type importOptions struct {
	// service overrides the service name read from the action names, and
	// stands in for {{site.data.keyword...}} references and <service_name>
	// placeholders in them.
	service string
	// displayName is the catalog's display_name; the pages name the service
	// only through {{site.data.keyword...}} references.
	displayName string
	// regions chooses a set of region tables: its number (1, 2, ...) or the
	// anchor of its heading; "" takes the first.
	regions string
	// kind is the kind of the route-less events of tables whose caption,
	// paragraph and heading name none; "" makes such tables errors.
	kind string
	// keepGoing builds the catalog of the rows without errors instead of
	// none when the page has errors.
	keepGoing bool
}

// imported is a page read into a catalog, with what the importer found.
type imported struct {
	// cat is the catalog; nil when there is none to write (errors without
	// keepGoing, or errors that leave nothing to write).
	cat *catalog.Catalog
	// errs are what the page gets wrong; notes what the importer inferred,
	// skipped or warns of. Both carry the page's line (0: the whole page).
	errs, notes []problem
	// api and other count the events with and without a route.
	api, other int
	// eventTables and regionTables count the tables read.
	eventTables, regionTables int
	// operations counts the operations of an OpenAPI description read.
	operations int
	// skipped counts the rows that gave no event: rows the page says have
	// none (None), rows that repeat an earlier one, and rows with errors.
	skipped int
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
	tagColorRE     = regexp.MustCompile(`^\[([^\]]*)\]\{:\s*tag-(\w+)\s*\}$`)
	codeSpanRE     = regexp.MustCompile("`([^`]+)`")
	requestRE      = regexp.MustCompile(`^([A-Za-z]+)\s+(\S+)$`)
	// a description that ends with its requests: "Text (`POST /v1/x`)."
	trailingReqRE = regexp.MustCompile("^(.*?)\\s*\\(\\s*(`[^`]+`(?:\\s*(?:,|or|and)\\s*`[^`]+`)*)\\s*\\)\\s*\\.?$")
	separatorsRE  = regexp.MustCompile(`^(?:\s|,|\bor\b|\band\b|</?br\s*/?>)*$`)
	// a label after a request: `GET /v1/x [DEPRECATED]`
	requestLabelRE = regexp.MustCompile(`\s+\[([^\]]*)\]$`)
	geographyRE    = regexp.MustCompile(`(?i)\bin (.+?) locations?\b`)
	keywordRE      = regexp.MustCompile(`\{\{site\.data\.keyword\.[\w-]+\}\}`)
	// a placeholder for the service in an action name: <service_name>
	placeholderRE = regexp.MustCompile(`<[\w -]+>`)
	regexMetaRE   = regexp.MustCompile(`[\\^$*+?\[\]()|]`)
	// a host part before the path of a request: $Kafka-http-url, ${URL}, {host}
	hostPartRE = regexp.MustCompile(`^(\$\{?[\w-]+\}?|\{[\w-]+\})(/.*)$`)
)

// importPage reads an activity-tracking events page into a catalog. source
// names the page in the catalog (Event.Line is the page's line). Every
// problem of the page is found in one pass; im.cat is nil when the page has
// errors, unless opt.keepGoing, which keeps the rows without errors.
func importPage(source string, data []byte, opt importOptions) *imported {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	tables, scanErrs := scan(lines)
	im := &imported{errs: scanErrs}
	cat := &catalog.Catalog{Source: source}
	var groups []*regionGroup
	for _, t := range tables {
		if isRegionTable(t) {
			// one set: the tables of one tab group under one heading
			key := "heading:" + strconv.Itoa(t.heading.line) + " tab-group:" + t.attrs["tab-group"]
			if n := len(groups); n > 0 && groups[n-1].key == key {
				groups[n-1].tables = append(groups[n-1].tables, t)
			} else {
				groups = append(groups, &regionGroup{heading: t.heading, key: key, tables: []*table{t}})
			}
			continue
		}
		cols, ok := eventColumnsOf(t.header.cells)
		if ok && !slices.ContainsFunc(t.rows, func(r row) bool {
			return cols.action < len(r.cells) && strings.Contains(r.cells[cols.action], ".")
		}) {
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("skipped a table whose column %q holds no action name (service.object.verb)", t.header.cells[cols.action])})
			continue
		}
		if !ok {
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("skipped a table that is neither a region table nor an event table (columns: %s)", strings.Join(t.header.cells, " | "))})
			continue
		}
		im.eventTables++
		im.readEvents(cat, t, cols, opt)
	}
	fatal := im.chooseRegions(cat, groups, opt.regions)
	if im.eventTables == 0 {
		im.errs = append(im.errs, problem{0, "no event table found (a table with an Action, Action name, Event or Event name column)"})
		fatal = true
	}
	if !im.setService(cat, opt.service) {
		fatal = true
	}
	if len(groups) == 0 {
		im.notes = append(im.notes, problem{0, noRegionsNote("no region table", cat.Service)})
	}
	cat.DisplayName = opt.displayName
	if cat.DisplayName == "" {
		cat.DisplayName = cat.Service
	}
	im.dedupe(cat)
	// the entries against each other: duplicates and ambiguous routes, with
	// the page's lines
	if _, err := catalog.Compile(cat); err != nil {
		for _, e := range splitErrors(err) {
			im.errs = append(im.errs, problem{0, e})
		}
		im.dropConflicts(cat)
	}
	for _, ev := range cat.Events {
		if ev.HasRoute() {
			im.api++
		} else {
			im.other++
		}
	}
	if !fatal && len(cat.Events) > 0 && (len(im.errs) == 0 || opt.keepGoing) {
		im.cat = cat
		if opt.displayName == "" {
			im.notes = append(im.notes, problem{0, fmt.Sprintf("display_name is the service name %q (pages name the service through {{site.data.keyword...}}; set --display-name)", cat.Service)})
		}
	}
	im.errs, im.notes = byLine(im.errs), byLine(im.notes)
	return im
}

// noRegionsNote says what a catalog without a region table means; what
// names what the source lacks.
func noRegionsNote(what, service string) string {
	if service == "" {
		service = "NAME"
	}
	return fmt.Sprintf("%s: the catalog states no regions, and the processor keeps the events of %s from every region unless services.%[2]s.regions lists the regions that send them", what, service)
}

// dedupe keeps once the rows that repeat an earlier row: the same action,
// method and route (a table repeated on the page), or the same route-less
// action (a table of sample events, one row per outcome).
func (im *imported) dedupe(cat *catalog.Catalog) {
	type key struct{ action, method, route string }
	first := map[key]int{}
	var kept []catalog.Event
	var repeats []string
	for _, ev := range cat.Events {
		k := key{ev.Action, ev.Method, ev.Route}
		if line, seen := first[k]; seen {
			repeats = append(repeats, fmt.Sprintf("%d (line %d)", ev.Line, line))
			im.skipped++
			continue
		}
		first[k] = ev.Line
		kept = append(kept, ev)
	}
	if len(repeats) > 0 {
		im.notes = append(im.notes, problem{0, fmt.Sprintf("%d %s the action and request of an earlier row, kept once: lines %s", len(repeats), plural(len(repeats), "row repeats", "rows repeat"), strings.Join(repeats, ", "))})
	}
	cat.Events = kept
}

// dropConflicts removes, for --keep-going, each event whose route is the
// same as, or ambiguous with, the route of an earlier event of the page
// (Compile has reported both).
func (im *imported) dropConflicts(cat *catalog.Catalog) {
	var kept []catalog.Event
	for _, ev := range cat.Events {
		clash := false
		for i := range kept {
			k := &kept[i]
			if !ev.HasRoute() || !k.HasRoute() || k.Method != ev.Method {
				continue
			}
			if rel, _, err := catalog.Relate(&ev, k); err == nil && (rel == catalog.Same || rel == catalog.Overlapping) {
				clash = true
				break
			}
		}
		if clash {
			im.skipped++
			continue
		}
		kept = append(kept, ev)
	}
	cat.Events = kept
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

// eventColumns are the columns of an event table that the importer reads;
// -1 where there is none.
type eventColumns struct {
	action, desc, req int
	// byAPI is the actions-by-API layout: the action from an
	// activity-tracking column, the request from a method column, and rows
	// whose action is None have no event.
	byAPI bool
	// ignored are the other columns.
	ignored []int
}

// Column names, as columnName normalises them.
var (
	atActionColumns = []string{"at action", "at action name", "at event", "activity tracker action", "activity tracking action", "activity tracker event", "activity tracking event", "audit action"}
	actionColumns   = []string{"action", "action name", "event", "event name", "event action"}
	descColumns     = []string{"description", "details", "event description", "action description", "summary", "explanation"}
	reqColumns      = []string{"api request", "request", "api", "http request", "api method", "method", "http method", "route", "api call", "endpoint", "api endpoint"}
)

// eventColumnsOf tells whether a header is an event table's and which
// columns hold what. An activity-tracking action column (AT action) is the
// action, and then a plain Action column describes the call; else the first
// Action, Action name, Event or Event name column is the action.
func eventColumnsOf(header []string) (eventColumns, bool) {
	c := eventColumns{action: -1, desc: -1, req: -1}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = columnName(h)
		if c.action < 0 && slices.Contains(atActionColumns, names[i]) {
			c.action, c.byAPI = i, true
		}
	}
	for i, n := range names {
		if c.action < 0 && slices.Contains(actionColumns, n) {
			c.action = i
		}
	}
	if c.action < 0 {
		return c, false
	}
	for i, n := range names {
		switch {
		case i == c.action:
		case c.desc < 0 && slices.Contains(descColumns, n):
			c.desc = i
		case c.req < 0 && slices.Contains(reqColumns, n):
			c.req = i
		default:
			c.ignored = append(c.ignored, i)
		}
	}
	if c.byAPI && c.desc < 0 {
		// Action | Method | IAM action | AT action: the Action column says
		// what the call does
		for j, i := range c.ignored {
			if slices.Contains(actionColumns, names[i]) {
				c.desc = i
				c.ignored = slices.Delete(c.ignored, j, j+1)
				break
			}
		}
	}
	return c, true
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

// columnName normalises a header cell: lower case, no emphasis or code
// quotes, single spaces.
func columnName(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.Trim(s, "*_` "))), " ")
}

// cellText strips a cell's markup: [Yes]{: tag-green} is Yes, `x` is x.
func cellText(s string) string {
	s = tagRE.ReplaceAllString(s, "$1")
	return strings.TrimSpace(strings.Trim(s, "*`"))
}

// chooseRegions reads the chosen set of region tables; it tells whether the
// choice itself failed (no catalog can be written then).
func (im *imported) chooseRegions(cat *catalog.Catalog, groups []*regionGroup, choice string) (fatal bool) {
	if len(groups) == 0 {
		return false
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
			im.errs = append(im.errs, problem{0, fmt.Sprintf("--regions %q: no such region table; the page has %s", choice, describeGroups(groups))})
			return true
		}
	}
	if len(groups) > 1 {
		im.notes = append(im.notes, problem{g.tables[0].header.line, fmt.Sprintf("the page has %s; using set %d (choose with --regions)", describeGroups(groups), slices.Index(groups, g)+1)})
	}
	for _, t := range g.tables {
		im.regionTables++
		im.readRegions(cat, t)
	}
	return false
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
func (im *imported) readRegions(cat *catalog.Catalog, t *table) {
	fail := func(line int, format string, args ...any) {
		im.errs = append(im.errs, problem{line, fmt.Sprintf(format, args...)})
	}
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
		fail(t.header.line, "region table without a row of Yes/No cells")
		return
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
			fail(t.header.line, "column %d: %q is not a region id like eu-de", i+1, m[2])
		case c != "":
			// a global column, or one that names no location: catalogs
			// list regions only
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("column %d %q is not a region: skipped (its cell: %q)", i+1, c, cellText(cell(i)))})
		}
	}
	for _, r := range t.rows[1:] {
		fail(r.line, "a region table has one row of Yes/No cells; this is another row")
	}
	for _, extra := range tail(r.cells, len(t.header.cells)) {
		if extra != "" {
			fail(r.line, "cell %q beyond the header's %d columns", extra, len(t.header.cells))
		}
	}
	for _, col := range cols {
		var sends bool
		raw := cell(col.index)
		switch strings.ToLower(cellText(raw)) {
		case "yes":
			sends = true
		case "no":
		default:
			fail(r.line, "region %s: cell %q is neither Yes nor No", col.id, raw)
			continue
		}
		if m := tagColorRE.FindStringSubmatch(strings.TrimSpace(raw)); m != nil {
			if color := m[2]; (sends && color == "red") || (!sends && color == "green") {
				fail(r.line, "region %s: cell %q says %s in %s: contradictory, set the page right (the importer does not guess)", col.id, raw, cellText(raw), color)
				continue
			}
		}
		if cat.RegionIndex(col.id) >= 0 {
			fail(t.header.line, "region %s is listed twice", col.id)
			continue
		}
		cat.Regions = append(cat.Regions, catalog.Region{ID: col.id, Name: col.name, Geography: geography, SendsEvents: sends})
	}
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
	// host is the host part removed from before the path ($URL, {host}).
	host string
	// label is a label written after the request ([DEPRECATED]), removed.
	label string
}

// noEvent tells whether an actions-by-API row says the call has no event.
func noEvent(action string) bool {
	switch strings.ToLower(strings.Trim(action, " .")) {
	case "none", "-", "n/a", "":
		return true
	}
	return false
}

// readEvents reads one event table: Action | Description with the requests
// at the end of the description, or with a request column, or the
// actions-by-API layout, or without any request (route-less events of the
// kind the page names).
func (im *imported) readEvents(cat *catalog.Catalog, t *table, cols eventColumns, opt importOptions) {
	service := opt.service
	fail := func(line int, format string, args ...any) {
		im.errs = append(im.errs, problem{line, fmt.Sprintf(format, args...)})
		im.skipped++
	}
	for _, i := range cols.ignored {
		if t.header.cells[i] != "" {
			im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("column %d %q ignored", i+1, t.header.cells[i])})
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
	var replaced []string
	placeholders := map[string][]int{} // placeholder -> lines, without --service
	none := 0
	for _, r := range t.rows {
		if len(r.cells) < len(t.header.cells) {
			fail(r.line, "row has %d cells, the header %d", len(r.cells), len(t.header.cells))
			continue
		}
		if extra := nonEmpty(tail(r.cells, len(t.header.cells))); len(extra) > 0 {
			im.notes = append(im.notes, problem{r.line, fmt.Sprintf("%d %s beyond the header's %d columns ignored: %q", len(extra), plural(len(extra), "cell", "cells"), len(t.header.cells), strings.Join(extra, " | "))})
		}
		actionCell := r.cells[cols.action]
		if labels := tagRE.FindAllString(actionCell, -1); len(labels) > 0 && strings.TrimSpace(tagRE.ReplaceAllString(actionCell, "")) != "" {
			actionCell = tagRE.ReplaceAllString(actionCell, "")
			im.notes = append(im.notes, problem{r.line, fmt.Sprintf("label %s beside the action removed", strings.Join(labels, " "))})
		}
		e := entry{line: r.line, action: cellText(actionCell)}
		if cols.byAPI && noEvent(e.action) {
			none++
			im.skipped++
			continue
		}
		if refs := append(keywordRE.FindAllString(e.action, -1), placeholderRE.FindAllString(e.action, -1)...); len(refs) > 0 {
			if service == "" {
				for _, ref := range refs {
					placeholders[ref] = append(placeholders[ref], r.line)
				}
				im.skipped++
				continue
			}
			e.action = placeholderRE.ReplaceAllLiteralString(keywordRE.ReplaceAllLiteralString(e.action, service), service)
			replaced = append(replaced, strconv.Itoa(r.line))
		}
		if e.action == "" || strings.ContainsAny(e.action, " \t") {
			fail(r.line, "action %q is not one word", r.cells[cols.action])
			continue
		}
		if cols.desc >= 0 {
			e.desc = strings.Join(strings.Fields(r.cells[cols.desc]), " ")
		}
		var err string
		if cols.req >= 0 {
			e.requests, err = parseRequests(r.cells[cols.req])
			e.hasRequest = r.cells[cols.req] != ""
		} else {
			e.desc, e.requests, err = splitDescription(e.desc)
			e.hasRequest = len(e.requests) > 0
		}
		if err != "" {
			fail(r.line, "%s", err)
			continue
		}
		for _, rq := range e.requests {
			if rq.label != "" {
				im.notes = append(im.notes, problem{r.line, fmt.Sprintf("request %s %s: label [%s] after it ignored", rq.method, rq.route, rq.label)})
			}
			if rq.host != "" {
				im.notes = append(im.notes, problem{r.line, fmt.Sprintf("request %s %s%s: host part %s removed", rq.method, rq.host, rq.route, rq.host)})
			}
		}
		if keywordRE.MatchString(e.desc) {
			im.notes = append(im.notes, problem{r.line, "the description keeps a {{site.data.keyword...}} reference as written"})
		}
		entries = append(entries, e)
	}
	for _, ref := range slices.Sorted(maps.Keys(placeholders)) {
		lines := placeholders[ref]
		im.errs = append(im.errs, problem{lines[0], fmt.Sprintf("%d %s the service by %s in the action: set --service NAME to stand in for it (%s %s)", len(lines), plural(len(lines), "row names", "rows name"), ref, plural(len(lines), "line", "lines"), joinInts(lines))})
	}
	if len(replaced) > 0 {
		im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("--service %s stands in for the service references in the actions of %d %s (%s %s)", service, len(replaced), plural(len(replaced), "row", "rows"), plural(len(replaced), "line", "lines"), strings.Join(replaced, ", "))})
	}
	if none > 0 {
		im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("%d %s without an activity-tracking event (None) skipped", none, plural(none, "row", "rows"))})
	}
	withRequest := slices.IndexFunc(entries, func(e entry) bool { return e.hasRequest }) >= 0
	kind := catalog.KindAPI
	if !withRequest && len(entries) > 0 {
		var why string
		kind, why = tableKind(t)
		if kind == "" && opt.kind != "" {
			kind, why = opt.kind, "--kind flag: the caption, the paragraph before the table and its heading name none"
		}
		if kind == "" {
			im.errs = append(im.errs, problem{t.header.line, fmt.Sprintf("no row of this table has a request (METHOD /path), and neither its caption, the paragraph before it nor its heading names the kind of its events (\"platform events\", \"management events\", ...; caption %q)", t.attrs["caption"])})
			im.skipped += len(entries)
			return
		}
		im.notes = append(im.notes, problem{t.header.line, fmt.Sprintf("%d %s without a request: kind %s, from the %s", len(entries), plural(len(entries), "event", "events"), kind, why)})
	}
	for _, e := range entries {
		if kind != catalog.KindAPI {
			cat.Events = append(cat.Events, catalog.Event{Action: e.action, Kind: kind, Description: e.desc, Line: e.line, Catalog: cat})
			continue
		}
		if !e.hasRequest {
			fail(e.line, "action %s has no request (`METHOD /path`), while other rows of the table at line %d do", e.action, t.header.line)
			continue
		}
		for _, rq := range e.requests {
			cat.Events = append(cat.Events, catalog.Event{
				Action: e.action, Kind: catalog.KindAPI, Method: rq.method, Route: rq.route, RouteIsRegex: rq.regex,
				Description: e.desc, Line: e.line, Catalog: cat,
			})
		}
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// kindStopWords end the phrase that names a kind of events: "Actions that
// generate management events" is management.
var kindStopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "for": true, "that": true, "which": true, "generate": true,
	"generates": true, "list": true, "actions": true, "action": true, "activity": true, "tracking": true,
	"tracker": true, "audit": true, "other": true, "following": true, "these": true, "and": true, "or": true,
	"to": true, "are": true, "is": true, "some": true, "all": true, "its": true, "your": true, "by": true, "in": true,
}

var (
	kindBeforeRE = regexp.MustCompile(`(?i)((?:[a-z0-9][\w-]*\s+){1,3})events?\b`)
	kindAfterRE  = regexp.MustCompile(`(?i)\bevents?(?:\s+for|\s+of|:)\s+((?:[a-z0-9][\w-]*\s*){1,4})`)
	kindWordRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// tableKind infers the kind of route-less events from the table's caption,
// else the paragraph before it, else its heading: "service credentials"
// and "platform" give those kinds, else what the text calls the events
// ("management events", "DNS zone events", "events for alerts").
func tableKind(t *table) (kind, why string) {
	sources := []struct{ name, text string }{
		{"caption", t.attrs["caption"]},
		{"paragraph before the table", t.para},
		{"heading", t.heading.text},
	}
	for _, src := range sources {
		s := strings.ToLower(src.text)
		switch {
		case strings.Contains(s, "service credential"):
			return catalog.KindServiceCredentials, fmt.Sprintf("%s %q", src.name, src.text)
		case strings.Contains(s, "platform"):
			return catalog.KindPlatform, fmt.Sprintf("%s %q", src.name, src.text)
		}
	}
	for _, src := range sources {
		if k := kindNamed(strings.ToLower(keywordRE.ReplaceAllString(src.text, " "))); k != "" {
			return k, fmt.Sprintf("%s %q", src.name, src.text)
		}
	}
	return "", ""
}

// kindNamed reads the kind of events a lower-case text names: the words
// before "events" ("dns zone events": dns-zone), else after "events for" or
// "events:" ("events for alerts": alerts); "" when it names none.
func kindNamed(s string) string {
	for _, m := range kindBeforeRE.FindAllStringSubmatch(s, -1) {
		words := strings.Fields(m[1])
		i := len(words)
		for i > 0 && !kindStopWords[words[i-1]] && kindWordRE.MatchString(words[i-1]) {
			i--
		}
		if i < len(words) {
			return strings.Join(words[i:], "-")
		}
	}
	if m := kindAfterRE.FindStringSubmatch(s); m != nil {
		var words []string
		fields := strings.Fields(m[1])
		for len(fields) > 0 && (fields[0] == "the" || fields[0] == "a" || fields[0] == "an") {
			fields = fields[1:]
		}
		for _, w := range fields {
			if kindStopWords[w] || !kindWordRE.MatchString(w) {
				break
			}
			words = append(words, w)
		}
		return strings.Join(words, "-")
	}
	return ""
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
// (or one unquoted request), separated by commas, "or", "and" or <br>. A
// host part before the path ($Kafka-http-url/admin/topics, {host}/v1/x) is
// removed and returned in the request.
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
		s = strings.TrimSpace(s)
		label := ""
		if l := requestLabelRE.FindStringSubmatch(s); l != nil {
			label, s = l[1], strings.TrimSpace(s[:len(s)-len(l[0])])
		}
		m := requestRE.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Sprintf("request %q is not METHOD /path", s)
		}
		method := strings.ToUpper(m[1])
		if !slices.Contains(catalog.Methods, method) {
			return nil, fmt.Sprintf("request %q: unknown method %s", s, m[1])
		}
		r := request{method: method, route: m[2], label: label}
		if h := hostPartRE.FindStringSubmatch(r.route); h != nil {
			r.host, r.route = h[1], h[2]
		}
		r.regex = regexMetaRE.MatchString(r.route)
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
// unless one is given; it tells whether it has one.
func (im *imported) setService(cat *catalog.Catalog, given string) bool {
	if given != "" {
		cat.Service = given
		for _, ev := range cat.Events {
			if !strings.HasPrefix(ev.Action, given+".") {
				im.notes = append(im.notes, problem{ev.Line, fmt.Sprintf("action %s does not start with the service name %s", ev.Action, given)})
			}
		}
		return true
	}
	first := map[string]int{}
	var names []string
	for _, ev := range cat.Events {
		name, _, _ := strings.Cut(ev.Action, ".")
		if _, ok := first[name]; !ok {
			first[name] = ev.Line
			names = append(names, name)
		}
	}
	switch len(names) {
	case 0:
		return true
	case 1:
		cat.Service = names[0]
		return true
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s (line %d)", n, first[n])
	}
	im.errs = append(im.errs, problem{0, fmt.Sprintf("the actions name %d services: %s; choose one with --service", len(names), strings.Join(parts, ", "))})
	return false
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
