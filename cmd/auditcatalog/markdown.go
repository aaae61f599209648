package main

// The importer reads a docs page as lines: headings with their {: #anchor}
// line, paragraphs, and pipe tables with the {: key="value"} attribute lines
// that follow them. Fenced code blocks are skipped. Nothing else of Markdown
// matters to it.
//
// A page of any shape is read in memory proportional to its size: the page
// is walked line by line without a slice of its lines, a table keeps its
// rows as the span of the page they take and splits one row at a time into
// cells that are pieces of the page, and what a page can hold is capped
// (the limits below), beyond which the importer counts and says what it did
// not read.

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on what the importer reads of a page. Real pages are tens of
// kilobytes, with a few dozen tables of a few columns and at most a few
// hundred rows.
const (
	// maxPageBytes is the largest page read.
	maxPageBytes = 16 << 20
	// maxColumns is the most cells of a row that are read; the others are
	// counted.
	maxColumns = 64
	// maxTables is the most tables of a page that are read.
	maxTables = 1000
	// maxRows is the most rows of event tables of a page that are read.
	maxRows = 50_000
	// maxProblems is the most errors, and the most notes, that are listed;
	// the others are counted.
	maxProblems = 1000
	// maxQuoted is the most bytes of a cell that a message quotes.
	maxQuoted = 100
	// maxKindText is the most bytes of a caption, a paragraph or a heading
	// read for the kind of a table's events.
	maxKindText = 4096
	// maxAttrs is the most attributes of a {: ...} line that are read.
	maxAttrs = 32
)

type heading struct {
	line   int
	text   string
	anchor string
}

// row is one line of a table split into cells.
type row struct {
	line  int
	cells []string
	// over counts the cells beyond maxColumns, not in cells.
	over int
}

type table struct {
	header row
	// body is the rows' lines as they are on the page; first is the line
	// of the first row and rows their number. eachRow splits them.
	body        string
	first, rows int
	// attrs holds the attribute lines after the table: caption, tab-title,
	// tab-group, and "#" for the id.
	attrs map[string]string
	// heading is the nearest heading above the table.
	heading heading
	// para is the paragraph just before the table, if nothing else is
	// between (its first maxKindText bytes).
	para string
}

// eachRow calls f with each row of the table, in order, until f returns
// false. The row's cells are reused from one call to the next: f keeps the
// strings, not the slice.
func (t *table) eachRow(f func(r row) bool) {
	if t.rows == 0 {
		return
	}
	lr := lineReader{s: t.body, n: t.first}
	var cells []string
	for {
		line, n, ok := lr.next()
		if !ok {
			return
		}
		var over int
		cells, over = splitRow(line, cells[:0])
		if !f(row{line: n, cells: cells, over: over}) {
			return
		}
	}
}

// problem is something the importer could not read, or a note of what it
// inferred, tied to a line of the page.
type problem struct {
	line int
	msg  string
}

var (
	separatorRE = regexp.MustCompile(`^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
)

// lineReader walks a text line by line, as strings.Split(s, "\n") would cut
// it, without making the slice: each line trimmed of spaces (so of the \r of
// CRLF too), with its number.
type lineReader struct {
	s string
	// pos is where the next line starts (past len(s) at the end); n is its
	// number.
	pos, n int
}

// next returns the next line, its number and where it starts.
func (l *lineReader) next() (line string, n int, ok bool) {
	if l.pos > len(l.s) {
		return "", 0, false
	}
	start, n := l.pos, l.n
	end := len(l.s)
	if i := strings.IndexByte(l.s[start:], '\n'); i >= 0 {
		end = start + i
	}
	l.pos, l.n = end+1, l.n+1
	return strings.TrimSpace(l.s[start:end]), n, true
}

// peek returns the next line without moving past it.
func (l *lineReader) peek() (string, bool) {
	saved := *l
	line, _, ok := l.next()
	*l = saved
	return line, ok
}

// scan splits a page into its tables, and reports tables without a
// separator row and a page of more than maxTables tables.
func (im *imported) scan(src string) []*table {
	var tables []*table
	var cur heading
	// the paragraph: from the start of its first line to the end of its last
	paraStart, paraEnd := -1, -1
	paraDone := false // a blank line ended the paragraph; it still counts
	fence := ""
	lr := lineReader{s: src, n: 1}
	for {
		start := lr.pos
		line, n, ok := lr.next()
		if !ok {
			return tables
		}
		if fence != "" {
			if strings.HasPrefix(line, fence) {
				fence = ""
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~"):
			fence = line[:3]
			paraStart = -1
		case isHeading(line):
			cur = heading{line: n, text: headingText(line)}
			if next, ok := lr.peek(); ok {
				if body, ok := attrBody(next); ok {
					eachAttr(body, func(k, v string) bool {
						if k == "#" && v != "" {
							cur.anchor = v
						}
						return cur.anchor == ""
					})
					if cur.anchor != "" {
						lr.next()
					}
				}
			}
			paraStart = -1
		case strings.HasPrefix(line, "|"):
			if len(tables) == maxTables {
				im.fail(n, "the page has more than %d tables; the importer reads at most %d and stops here", maxTables, maxTables)
				return tables
			}
			t := &table{header: row{line: n}, heading: cur, attrs: map[string]string{}}
			t.header.cells, t.header.over = splitRow(line, nil)
			if paraStart >= 0 {
				t.para = joinLines(src[paraStart:paraEnd], maxKindText)
			}
			paraStart = -1
			if next, ok := lr.peek(); !ok || !separatorRE.MatchString(next) {
				im.fail(n, "table header without a separator row (|---|) under it")
			} else {
				lr.next()
			}
			t.first, t.body = lr.n, ""
			bodyStart := lr.pos
			for {
				next, ok := lr.peek()
				if !ok || !strings.HasPrefix(next, "|") {
					break
				}
				lr.next()
				t.rows++
			}
			if t.rows > 0 {
				t.body = src[bodyStart : lr.pos-1]
			}
			for {
				next, ok := lr.peek()
				if !ok {
					break
				}
				body, ok := attrBody(next)
				if !ok {
					break
				}
				lr.next()
				line := map[string]bool{} // a key twice on one line: the last
				eachAttr(body, func(k, v string) bool {
					if _, dup := t.attrs[k]; !dup || line[k] {
						t.attrs[k], line[k] = v, true
					}
					return true
				})
			}
			tables = append(tables, t)
		case line == "":
			paraDone = true
		case isAttrLine(line):
			// an attribute line of a paragraph ({: shortdesc}, {: important})
		default:
			if paraDone || paraStart < 0 {
				paraStart, paraDone = start, false
			}
			paraEnd = min(lr.pos-1, len(src))
		}
	}
}

// reSpace is white space as regexp's \s has it.
const reSpace = "\t\n\f\r "

// isHeading tells whether a line is an ATX heading: one to six #, then
// white space.
func isHeading(line string) bool {
	i := 0
	for i < len(line) && i < 7 && line[i] == '#' {
		i++
	}
	return i >= 1 && i <= 6 && i < len(line) && strings.IndexByte(reSpace, line[i]) >= 0
}

// headingText is a heading's text, without the #s around it.
func headingText(line string) string {
	text := strings.TrimLeft(strings.TrimLeft(line, "#"), reSpace)
	return strings.TrimRight(strings.TrimRight(strings.TrimRight(text, reSpace), "#"), reSpace)
}

// joinLines joins the trimmed lines of a paragraph with spaces, leaving out
// attribute lines, up to limit bytes.
func joinLines(s string, limit int) string {
	var b strings.Builder
	lr := lineReader{s: s}
	for b.Len() < limit {
		line, _, ok := lr.next()
		if !ok {
			break
		}
		if line == "" || isAttrLine(line) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(line[:max(0, min(len(line), limit-b.Len()))])
	}
	return b.String()
}

// splitRow splits a table row at the pipes that are not escaped, without the
// outer ones, and trims the cells; "\|" stands for a pipe in a cell. It
// appends at most maxColumns cells to cells, and counts the others.
func splitRow(line string, cells []string) ([]string, int) {
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	over, escaped, start := 0, false, 0
	add := func(cell string) {
		if len(cells) == maxColumns {
			over++
			return
		}
		cell = strings.TrimSpace(cell)
		if escaped {
			cell = strings.ReplaceAll(cell, `\|`, "|")
		}
		cells = append(cells, cell)
	}
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			escaped = true
			i++
		case line[i] == '|':
			add(line[start:i])
			start, escaped = i+1, false
		}
	}
	add(line[start:])
	return cells, over
}

// attrBody returns what is between "{:" and "}" of an attribute line,
// trimmed; ok is false when line is not one.
func attrBody(line string) (body string, ok bool) {
	line = strings.TrimRight(line, reSpace)
	if len(line) < 3 || !strings.HasPrefix(line, "{:") || line[len(line)-1] != '}' {
		return "", false
	}
	return strings.Trim(line[2:len(line)-1], reSpace), true
}

func isAttrLine(line string) bool {
	_, ok := attrBody(line)
	return ok
}

// eachAttr calls f with the attributes of an attribute line's body, in
// order, until f returns false, the first maxAttrs at most: key="value"
// pairs by key, "#id" as "#" and id, bare words and ".class" by name with
// an empty value. It reads the body as the pattern
// ([A-Za-z][\w-]*)="([^"]*)"|#([\w-]+)|\.([\w-]+)|([A-Za-z][\w-]*)
// finds its matches, skipping what none of them matches.
func eachAttr(body string, f func(key, value string) bool) {
	word := func(i int) int { // the end of the [\w-]* run at i
		for i < len(body) && (isLetter(body[i]) || body[i] >= '0' && body[i] <= '9' || body[i] == '_' || body[i] == '-') {
			i++
		}
		return i
	}
	for i, n := 0, 0; i < len(body) && n < maxAttrs; {
		c := body[i]
		switch {
		case isLetter(c):
			end := word(i + 1)
			key, value := body[i:end], ""
			if strings.HasPrefix(body[end:], `="`) {
				if q := strings.IndexByte(body[end+2:], '"'); q >= 0 {
					value, end = body[end+2:end+2+q], end+2+q+1
				}
			}
			i, n = end, n+1
			if !f(key, value) {
				return
			}
		case (c == '#' || c == '.') && word(i+1) > i+1:
			end := word(i + 1)
			key, value := "#", body[i+1:end]
			if c == '.' {
				key, value = value, ""
			}
			i, n = end, n+1
			if !f(key, value) {
				return
			}
		default:
			i++
		}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// clip shortens what a message quotes of the page to maxQuoted bytes.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}
