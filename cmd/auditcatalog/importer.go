package main

import (
	"cmp"
	"fmt"
	"io"
	"iter"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// paragraph and heading name none; "" gives them defaultKind, with a
	// warning.
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
	// moreErrs and moreNotes count the problems beyond maxProblems, not
	// listed; rows counts the rows of event tables read (maxRows at most).
	moreErrs, moreNotes, rows int
}

// fail reports an error of the page at a line (0: the whole page); the
// first maxProblems are listed, the others counted.
func (im *imported) fail(line int, format string, args ...any) {
	if len(im.errs) >= maxProblems {
		im.moreErrs++
		return
	}
	im.errs = append(im.errs, problem{line, fmt.Sprintf(format, args...)})
}

// note reports what the importer inferred, skipped or warns of, as fail
// does errors.
func (im *imported) note(line int, format string, args ...any) {
	if len(im.notes) >= maxProblems {
		im.moreNotes++
		return
	}
	im.notes = append(im.notes, problem{line, fmt.Sprintf(format, args...)})
}

// finish sorts the problems by line and says how many were not listed.
func (im *imported) finish() {
	if im.moreErrs > 0 {
		im.errs = append(im.errs, problem{0, fmt.Sprintf("%d more errors not listed (the importer lists %d)", im.moreErrs, maxProblems)})
	}
	if im.moreNotes > 0 {
		im.notes = append(im.notes, problem{0, fmt.Sprintf("%d more notes not listed (the importer lists %d)", im.moreNotes, maxProblems)})
	}
	im.errs, im.notes = byLine(im.errs), byLine(im.notes)
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

// defaultKind is the provider's kind of the events of a table without
// requests whose page names none: most of them are management events, and
// the processor matches no route-less event anyway.
const defaultKind = "management"

// importPage reads an activity-tracking events page into a catalog. source
// names the page in the catalog (Event.Line is the page's line). Every
// problem of the page is found in one pass; im.cat is nil when the page has
// errors, unless opt.keepGoing, which keeps the rows without errors. A
// catalog returned is one the processor's loader accepts.
func importPage(source string, data []byte, opt importOptions) *imported {
	im := &imported{}
	if len(data) > maxPageBytes {
		im.fail(0, "the page has %d bytes; the importer reads pages of at most %d (%d MiB)", len(data), maxPageBytes, maxPageBytes>>20)
		return im
	}
	tables := im.scan(string(data))
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
		cols, ok := eventColumnsOf(t.header)
		if !ok {
			im.note(t.header.line, "skipped a table that is neither a region table nor an event table (columns: %s)", clip(strings.Join(t.header.cells, " | ")))
			continue
		}
		if !t.any(func(r row) bool { return cols.action < len(r.cells) && strings.Contains(r.cells[cols.action], ".") }) {
			im.note(t.header.line, "skipped a table whose column %q holds no action name (service.object.verb)", clip(t.header.cells[cols.action]))
			continue
		}
		im.eventTables++
		im.readEvents(cat, t, cols, opt)
	}
	fatal := im.chooseRegions(cat, groups, opt.regions)
	if im.eventTables == 0 {
		im.fail(0, "no event table found (a table with an Action, Action name, Event or Event name column)")
		fatal = true
	}
	if !im.setService(cat, opt.service) {
		fatal = true
	}
	if len(groups) == 0 {
		im.note(0, "%s", noRegionsNote("no region table", cat.Service))
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
			im.fail(0, "%s", e)
		}
		im.dropConflicts(cat)
		if _, err := catalog.Compile(cat); err != nil {
			// an error dropConflicts does not resolve: what --keep-going
			// keeps must compile too
			for _, e := range splitErrors(err) {
				im.fail(0, "without the conflicting rows: %s", e)
			}
			fatal = true
		}
	}
	for _, ev := range cat.Events {
		if ev.HasRoute() {
			im.api++
		} else {
			im.other++
		}
	}
	if !fatal && len(cat.Events) > 0 && (len(im.errs) == 0 || opt.keepGoing) && im.loads(cat) {
		im.cat = cat
		if opt.displayName == "" {
			im.note(0, "display_name is the service name %q (pages name the service through {{site.data.keyword...}}; set --display-name)", cat.Service)
		}
	}
	im.finish()
	return im
}

// loads tells whether the processor's loader accepts the catalog's head
// (the service name, the display name, the regions) as the importer writes
// it, and reports why not. The events are checked as they are read (their
// actions, kinds, methods and routes) and against each other by Compile;
// the head is checked here by the loader's own rules, on the catalog with
// its first event only, so that this costs the same for any page.
func (im *imported) loads(cat *catalog.Catalog) bool {
	head := *cat
	head.Events = cat.Events[:1]
	yml, err := catalog.Encode(&head, "")
	if err == nil {
		_, err = catalog.Parse(cat.Source, yml)
	}
	if err != nil {
		for _, e := range splitErrors(err) {
			im.fail(0, "the catalog would not load: %s", e)
		}
		return false
	}
	return true
}

// any tells whether some row of the table satisfies ok.
func (t *table) any(ok func(r row) bool) bool {
	found := false
	t.eachRow(func(r row) bool {
		found = ok(r)
		return !found
	})
	return found
}

// readPage reads a page file, and refuses one of more than maxPageBytes
// without reading it whole (a link to /dev/zero, say).
func readPage(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPageBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, the most the importer reads of a page", file, maxPageBytes>>20)
	}
	return data, nil
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
	first := make(map[key]int, len(cat.Events))
	kept := cat.Events[:0]
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
		im.note(0, "%d %s the action and request of an earlier row, kept once: lines %s", len(repeats), plural(len(repeats), "row repeats", "rows repeat"), joinFirst(repeats, 50))
	}
	cat.Events = kept
}

// dropConflicts removes, for --keep-going, each event whose route is the
// same as, or ambiguous with, the route of an earlier event of the page
// (Compile has reported both).
func (im *imported) dropConflicts(cat *catalog.Catalog) {
	// the pairs that clash, found as Compile finds them (catalog.Overlaps:
	// not every event against every kept one, which took quadratic time)
	overlaps, _ := catalog.Overlaps(cat)
	index := make(map[*catalog.Event]int, len(cat.Events))
	for i := range cat.Events {
		index[&cat.Events[i]] = i
	}
	earlier := map[int][]int{} // an event's clashing events before it
	for _, o := range overlaps {
		if o.Relation != catalog.Same && o.Relation != catalog.Overlapping {
			continue
		}
		i, j := index[o.A], index[o.B]
		earlier[max(i, j)] = append(earlier[max(i, j)], min(i, j))
	}
	dropped := make([]bool, len(cat.Events))
	var kept []catalog.Event
	for i, ev := range cat.Events {
		for _, e := range earlier[i] {
			if !dropped[e] {
				dropped[i] = true
				break
			}
		}
		if dropped[i] {
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
	// path is a path column read with req when req holds bare methods
	// (Method | Path).
	path int
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
)

// Request columns: a column that a person reads as the request, by the last
// word of its name (singular), after words that only say what kind of
// request ("HTTP request", "REST API", "API endpoints").
var (
	requestWords  = []string{"request", "api", "call", "operation"}
	methodWords   = []string{"method", "verb"}
	pathWords     = []string{"endpoint", "route", "path", "url", "uri"}
	requestPrefix = []string{"api", "http", "https", "rest", "request", "resource"}
)

// requestColumn tells what a column of that (normalised) name holds of the
// request: "request" (METHOD /path, or requests), "method", "path", or "".
func requestColumn(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 || len(words) > 3 {
		return ""
	}
	for _, w := range words[:len(words)-1] {
		if !slices.Contains(requestPrefix, w) {
			return ""
		}
	}
	last := words[len(words)-1]
	if l, ok := strings.CutSuffix(last, "s"); ok && len(l) > 2 {
		last = l
	}
	switch {
	case slices.Contains(requestWords, last):
		return "request"
	case slices.Contains(methodWords, last):
		return "method"
	case slices.Contains(pathWords, last):
		return "path"
	}
	return ""
}

// eventColumnsOf tells whether a header is an event table's and which
// columns hold what. An activity-tracking action column (AT action) is the
// action, and then a plain Action column describes the call; else the first
// Action, Action name, Event or Event name column is the action. The
// request is the first column read as a request or a method, else the
// first read as a path; a method column takes a path column along.
func eventColumnsOf(header row) (eventColumns, bool) {
	c := eventColumns{action: -1, desc: -1, req: -1, path: -1}
	if header.over > 0 {
		return c, false
	}
	names := make([]string, len(header.cells))
	for i, h := range header.cells {
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
	firstPath := -1
	for i, n := range names {
		if i == c.action {
			continue
		}
		switch requestColumn(n) {
		case "request", "method":
			if c.req < 0 {
				c.req = i
			}
		case "path":
			if firstPath < 0 {
				firstPath = i
			}
		}
	}
	switch {
	case c.req < 0:
		c.req = firstPath
	case requestColumn(names[c.req]) == "method":
		c.path = firstPath
	}
	for i, n := range names {
		switch {
		case i == c.action || i == c.req || i == c.path:
		case c.desc < 0 && slices.Contains(descColumns, n):
			c.desc = i
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

// maxColumnName is the longest header cell that columnName reads; the
// names it knows are a few words.
const maxColumnName = 64

// columnName normalises a header cell: lower case, no emphasis or code
// quotes, single spaces; "" for a cell too long to be a column name.
func columnName(s string) string {
	if len(s) > maxColumnName {
		return ""
	}
	return strings.Join(strings.Fields(strings.ToLower(strings.Trim(s, "*_` "))), " ")
}

// cellText strips a cell's markup: [Yes]{: tag-green} is Yes, `x` is x.
func cellText(s string) string {
	if strings.Contains(s, "]{:") {
		s = tagRE.ReplaceAllString(s, "$1")
	}
	return strings.TrimSpace(strings.Trim(s, "*`"))
}

// oneSpace is s trimmed, with each run of white space one space.
func oneSpace(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		if c := s[i]; c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || (c == ' ' && s[i+1] == ' ') || c >= utf8.RuneSelf {
			clean = false
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = true
		} else {
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
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
			im.fail(0, "--regions %q: no such region table; the page has %s", choice, describeGroups(groups))
			return true
		}
	}
	if len(groups) > 1 {
		im.note(g.tables[0].header.line, "the page has %s; using set %d (choose with --regions)", describeGroups(groups), slices.Index(groups, g)+1)
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
		s += fmt.Sprintf(", %q", clip(g.heading.text))
	}
	return s + ")"
}

// readRegions reads one geography's region table.
func (im *imported) readRegions(cat *catalog.Catalog, t *table) {
	geography := t.attrs["tab-title"]
	if geography == "" {
		if m := geographyRE.FindStringSubmatch(t.attrs["caption"]); m != nil {
			geography = m[1]
		}
	}
	if geography == "" {
		im.note(t.header.line, "region table without a tab-title or a caption \"... in GEOGRAPHY locations\": geography left empty")
	}
	type column struct {
		index    int
		id, name string
	}
	var first row
	t.eachRow(func(r row) bool {
		if first.line == 0 {
			first = r
			first.cells = slices.Clone(r.cells)
		} else {
			im.fail(r.line, "a region table has one row of Yes/No cells; this is another row")
		}
		return true
	})
	if first.line == 0 {
		im.fail(t.header.line, "region table without a row of Yes/No cells")
		return
	}
	r := first
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
			im.fail(t.header.line, "column %d: %q is not a region id like eu-de", i+1, clip(m[2]))
		case c != "":
			// a global column, or one that names no location: catalogs
			// list regions only
			im.note(t.header.line, "column %d %q is not a region: skipped (its cell: %q)", i+1, clip(c), clip(cellText(cell(i))))
		}
	}
	for _, extra := range tail(r.cells, len(t.header.cells)) {
		if extra != "" {
			im.fail(r.line, "cell %q beyond the header's %d columns", clip(extra), len(t.header.cells))
		}
	}
	if r.over > 0 {
		im.fail(r.line, "%d cells beyond the header's %d columns", r.over, len(t.header.cells))
	}
	for _, col := range cols {
		var sends bool
		raw := cell(col.index)
		switch strings.ToLower(cellText(raw)) {
		case "yes":
			sends = true
		case "no":
		default:
			im.fail(r.line, "region %s: cell %q is neither Yes nor No", col.id, clip(raw))
			continue
		}
		if m := tagColorRE.FindStringSubmatch(strings.TrimSpace(raw)); m != nil {
			if color := m[2]; (sends && color == "red") || (!sends && color == "green") {
				im.fail(r.line, "region %s: cell %q says %s in %s: contradictory, set the page right (the importer does not guess)", col.id, raw, cellText(raw), color)
				continue
			}
		}
		if cat.RegionIndex(col.id) >= 0 {
			im.fail(t.header.line, "region %s is listed twice", col.id)
			continue
		}
		name := im.text(t.header.line, "the name of region "+col.id, col.name)
		cat.Regions = append(cat.Regions, catalog.Region{ID: col.id, Name: name, Geography: im.text(t.header.line, "the geography", geography), SendsEvents: sends})
	}
}

// text is s with any bytes that are not UTF-8 replaced by U+FFFD, and a
// note of it: a catalog is UTF-8 text, and such a byte in a description or
// a name makes no event wrong.
func (im *imported) text(line int, what, s string) string {
	if utf8.ValidString(s) {
		return s
	}
	im.note(line, "%s has bytes that are not UTF-8 text: replaced by U+FFFD", what)
	return strings.ToValidUTF8(s, "\uFFFD")
}

// joinFirst joins the first n of list with commas, and says how many more
// there are.
func joinFirst(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:n], ", "), len(list)-n)
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
// at the end of the description, or with a request column (or a method and
// a path column), or the actions-by-API layout, or without any request
// (route-less events of the kind the page names, else defaultKind).
func (im *imported) readEvents(cat *catalog.Catalog, t *table, cols eventColumns, opt importOptions) {
	service := opt.service
	fail := func(line int, format string, args ...any) {
		im.fail(line, format, args...)
		im.skipped++
	}
	// the request of a row: its request cell, or METHOD and path from a
	// method and a path column
	requestOf := func(r row) string {
		if cols.req < 0 || cols.req >= len(r.cells) {
			return ""
		}
		if cols.path >= 0 && cols.path < len(r.cells) {
			if m := cellText(r.cells[cols.req]); slices.Contains(catalog.Methods, strings.ToUpper(m)) {
				return m + " " + cellText(r.cells[cols.path])
			}
		}
		return r.cells[cols.req]
	}
	if cols.req >= 0 {
		if !t.any(func(r row) bool { return hasRequest(requestOf(r)) }) {
			// an Operation column of operation ids, say: not requests
			for _, i := range []int{cols.req, cols.path} {
				if i >= 0 {
					im.note(t.header.line, "column %d %q holds no request (METHOD /path): ignored", i+1, clip(t.header.cells[i]))
				}
			}
			cols.req, cols.path = -1, -1
		}
	}
	for _, i := range cols.ignored {
		if t.header.cells[i] != "" {
			im.note(t.header.line, "column %d %q ignored", i+1, clip(t.header.cells[i]))
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
	t.eachRow(func(r row) bool {
		if im.rows >= maxRows {
			if im.rows == maxRows {
				im.fail(r.line, "the page's event tables have more than %d rows; the importer reads at most %d and skips the others", maxRows, maxRows)
				im.rows++
			}
			return false
		}
		im.rows++
		if len(r.cells) < len(t.header.cells) {
			fail(r.line, "row has %d cells, the header %d", len(r.cells), len(t.header.cells))
			return true
		}
		if extra := nonEmpty(tail(r.cells, len(t.header.cells))); len(extra) > 0 || r.over > 0 {
			n := len(extra) + r.over
			im.note(r.line, "%d %s beyond the header's %d columns ignored: %q", n, plural(n, "cell", "cells"), len(t.header.cells), clip(strings.Join(extra, " | ")))
		}
		actionCell := r.cells[cols.action]
		if strings.Contains(actionCell, "]{:") {
			if labels := tagRE.FindAllString(actionCell, 8); len(labels) > 0 && strings.TrimSpace(tagRE.ReplaceAllString(actionCell, "")) != "" {
				actionCell = tagRE.ReplaceAllString(actionCell, "")
				im.note(r.line, "label %s beside the action removed", clip(strings.Join(labels, " ")))
			}
		}
		e := entry{line: r.line, action: cellText(actionCell)}
		if cols.byAPI && noEvent(e.action) {
			none++
			im.skipped++
			return true
		}
		if refs := serviceRefs(e.action); len(refs) > 0 {
			if service == "" {
				for _, ref := range refs {
					placeholders[ref] = append(placeholders[ref], r.line)
				}
				im.skipped++
				return true
			}
			e.action = placeholderRE.ReplaceAllLiteralString(keywordRE.ReplaceAllLiteralString(e.action, service), service)
			replaced = append(replaced, strconv.Itoa(r.line))
		}
		if e.action == "" || strings.IndexFunc(e.action, unicode.IsSpace) >= 0 {
			fail(r.line, "action %q is not one word", clip(r.cells[cols.action]))
			return true
		}
		if !utf8.ValidString(e.action) {
			fail(r.line, "action %q is not UTF-8 text", clip(e.action))
			return true
		}
		if cols.desc >= 0 {
			e.desc = im.text(r.line, "the description", oneSpace(r.cells[cols.desc]))
		}
		var err string
		if cols.req >= 0 {
			req := requestOf(r)
			e.requests, err = parseRequests(req)
			e.hasRequest = req != ""
		} else {
			e.desc, e.requests, err = splitDescription(e.desc)
			e.hasRequest = len(e.requests) > 0
		}
		if err != "" {
			fail(r.line, "%s", err)
			return true
		}
		for _, rq := range e.requests {
			if rq.label != "" {
				im.note(r.line, "request %s %s: label [%s] after it ignored", rq.method, clip(rq.route), clip(rq.label))
			}
			if rq.host != "" {
				im.note(r.line, "request %s %s%s: host part %s removed", rq.method, clip(rq.host), clip(rq.route), clip(rq.host))
			}
		}
		if strings.Contains(e.desc, "{{") && keywordRE.MatchString(e.desc) {
			im.note(r.line, "the description keeps a {{site.data.keyword...}} reference as written")
		}
		entries = append(entries, e)
		return true
	})
	for _, ref := range slices.Sorted(maps.Keys(placeholders)) {
		lines := placeholders[ref]
		im.fail(lines[0], "%d %s the service by %s in the action: set --service NAME to stand in for it (%s %s)", len(lines), plural(len(lines), "row names", "rows name"), clip(ref), plural(len(lines), "line", "lines"), joinInts(lines))
	}
	if len(replaced) > 0 {
		im.note(t.header.line, "--service %s stands in for the service references in the actions of %d %s (%s %s)", service, len(replaced), plural(len(replaced), "row", "rows"), plural(len(replaced), "line", "lines"), joinFirst(replaced, 50))
	}
	if none > 0 {
		im.note(t.header.line, "%d %s without an activity-tracking event (None) skipped", none, plural(none, "row", "rows"))
	}
	withRequest := slices.IndexFunc(entries, func(e entry) bool { return e.hasRequest }) >= 0
	cat.Events = slices.Grow(cat.Events, len(entries))
	kind := catalog.KindAPI
	if !withRequest && len(entries) > 0 {
		var why string
		kind, why = tableKind(t)
		if kind == "" && opt.kind != "" {
			kind, why = opt.kind, "--kind flag: the caption, the paragraph before the table and its heading name none"
		}
		if kind == "" {
			im.note(t.header.line, "%d %s without a request, of a kind that neither the table's caption, the paragraph before it nor its heading names (\"management events\", \"data events\", ...): kind %s, the provider's default (--kind sets another)", len(entries), plural(len(entries), "event", "events"), defaultKind)
			kind = defaultKind
		} else {
			im.note(t.header.line, "%d %s without a request: kind %s, from the %s", len(entries), plural(len(entries), "event", "events"), kind, why)
		}
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

// serviceRefs returns the {{site.data.keyword...}} references and
// <service_name> placeholders of an action, the first few of each.
func serviceRefs(action string) []string {
	var refs []string
	if strings.Contains(action, "{{") {
		refs = keywordRE.FindAllString(action, 8)
	}
	if strings.Contains(action, "<") {
		refs = append(refs, placeholderRE.FindAllString(action, 8)...)
	}
	return refs
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
	for i := range sources {
		if s := sources[i].text; len(s) > maxKindText {
			sources[i].text = s[:maxKindText]
		}
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
	for _, m := range kindBeforeRE.FindAllStringSubmatch(s, 64) {
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
	if !strings.Contains(d, "`") {
		return d, nil, ""
	}
	if m := trailingReqRE.FindStringSubmatch(d); m != nil {
		parsed, err := parseRequests(m[2])
		if err == "" {
			text, reqs = m[1], parsed
		} else if first, _ := firstCodeSpan(m[2]); looksLikeRequest(first) {
			return "", nil, err
		}
	}
	for span := range codeSpans(text) {
		if looksLikeRequest(span) {
			return "", nil, fmt.Sprintf("request `%s` is not at the end of the description in the form (`METHOD /path`)", clip(span))
		}
	}
	return text, reqs, ""
}

// codeSpans yields the code spans of s, `x`, as codeSpanRE finds them,
// without their backquotes.
func codeSpans(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			span, rest := firstCodeSpan(s)
			if rest < 0 || !yield(span) {
				return
			}
			s = s[rest:]
		}
	}
}

// firstCodeSpan returns the first code span of s and where the text after
// it starts (-1 when s has none).
func firstCodeSpan(s string) (string, int) {
	i := strings.IndexByte(s, '`')
	for i >= 0 {
		j := strings.IndexByte(s[i+1:], '`')
		if j < 0 {
			return "", -1
		}
		if j > 0 {
			return s[i+1 : i+1+j], i + j + 2
		}
		i++ // `` is no span; the second backquote may open one
	}
	return "", -1
}

// looksLikeRequest tells whether a code span is meant as a request: it
// starts with an HTTP method, or is a word and a path.
func looksLikeRequest(s string) bool {
	s = strings.TrimSpace(s)
	first, rest := s, ""
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		first, rest = s[:i], strings.TrimSpace(s[i:])
	}
	if first == "" {
		return false
	}
	return slices.ContainsFunc(catalog.Methods, func(m string) bool { return strings.EqualFold(m, first) }) ||
		strings.HasPrefix(rest, "/") && strings.IndexFunc(rest, unicode.IsSpace) < 0
}

// hasRequest tells whether a request cell holds something meant as a
// request (or a path without its method, which is an error to report).
func hasRequest(cell string) bool {
	like := func(s string) bool { return looksLikeRequest(s) || strings.HasPrefix(strings.TrimSpace(s), "/") }
	for span := range codeSpans(cell) {
		if like(span) {
			return true
		}
	}
	return like(cellText(cell))
}

// maxRequests is the most requests a cell holds, and maxRoute the longest
// route read (real ones are a few dozen bytes).
const (
	maxRequests = 32
	maxRoute    = 1024
)

// parseRequests reads a request cell: one or more `METHOD /route` code spans
// (or one unquoted request), separated by commas, "or", "and" or <br>. A
// host part before the path ($Kafka-http-url/admin/topics, {host}/v1/x) is
// removed and returned in the request.
func parseRequests(cell string) ([]request, string) {
	if cell == "" {
		return nil, ""
	}
	var texts []string
	rest := cell
	for {
		span, next := firstCodeSpan(rest)
		if next < 0 {
			break
		}
		if gap := rest[:next-len(span)-2]; !separatorsRE.MatchString(gap) {
			return nil, fmt.Sprintf("request cell %q has text besides its `METHOD /path` requests", clip(cell))
		}
		if len(texts) == maxRequests {
			return nil, fmt.Sprintf("request cell %q has more than %d requests", clip(cell), maxRequests)
		}
		texts, rest = append(texts, span), rest[next:]
	}
	switch {
	case len(texts) == 0:
		texts = []string{cell}
	case !separatorsRE.MatchString(rest):
		return nil, fmt.Sprintf("request cell %q has text besides its `METHOD /path` requests", clip(cell))
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
			return nil, fmt.Sprintf("request %q is not METHOD /path", clip(s))
		}
		method := strings.ToUpper(m[1])
		if !slices.Contains(catalog.Methods, method) {
			return nil, fmt.Sprintf("request %q: unknown method %s", clip(s), clip(m[1]))
		}
		if len(m[2]) > maxRoute {
			return nil, fmt.Sprintf("request %q: a route of %d bytes; the importer reads routes of at most %d", clip(s), len(m[2]), maxRoute)
		}
		if !utf8.ValidString(m[2]) {
			return nil, fmt.Sprintf("request %q: the route is not UTF-8 text", clip(s))
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
			return nil, fmt.Sprintf("request %q: route %s as a %s: %v", clip(s), clip(r.route), syntax, err)
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
				im.note(ev.Line, "action %s does not start with the service name %s", clip(ev.Action), given)
			}
		}
		return true
	}
	first := map[string]int{}
	var names []string
	for _, ev := range cat.Events {
		name, _, _ := strings.Cut(ev.Action, ".")
		if name == "" {
			im.fail(ev.Line, "action %q names no service before its first dot: set --service NAME", clip(ev.Action))
			return false
		}
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
		parts[i] = fmt.Sprintf("%s (line %d)", clip(n), first[n])
	}
	im.fail(0, "the actions name %d services: %s; choose one with --service", len(names), joinFirst(parts, 20))
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
