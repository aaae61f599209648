package main

// The importer reads a docs page as lines: headings with their {: #anchor}
// line, paragraphs, and pipe tables with the {: key="value"} attribute lines
// that follow them. Fenced code blocks are skipped. Nothing else of Markdown
// matters to it.

import (
	"regexp"
	"strings"
)

type heading struct {
	line   int
	text   string
	anchor string
}

type row struct {
	line  int
	cells []string
}

type table struct {
	header row
	rows   []row
	// attrs holds the attribute lines after the table: caption, tab-title,
	// tab-group, and "#" for the id.
	attrs map[string]string
	// heading is the nearest heading above the table.
	heading heading
	// para is the paragraph just before the table, if nothing else is between.
	para string
}

// problem is something the importer could not read, or a note of what it
// inferred, tied to a line of the page.
type problem struct {
	line int
	msg  string
}

var (
	headingRE   = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	attrLineRE  = regexp.MustCompile(`^\{:\s*(.*?)\s*\}\s*$`)
	attrTokenRE = regexp.MustCompile(`([A-Za-z][\w-]*)="([^"]*)"|#([\w-]+)|\.([\w-]+)|([A-Za-z][\w-]*)`)
	separatorRE = regexp.MustCompile(`^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
)

// scan splits a page into its tables, and reports tables without a
// separator row.
func scan(lines []string) (tables []*table, errs []problem) {
	var cur heading
	var para []string
	paraDone := false // a blank line ended the paragraph; it still counts
	fence := ""
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if fence != "" {
			if strings.HasPrefix(line, fence) {
				fence = ""
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~"):
			fence = line[:3]
			para = nil
		case headingRE.MatchString(line):
			cur = heading{line: i + 1, text: headingRE.FindStringSubmatch(line)[1]}
			if i+1 < len(lines) {
				if a := parseAttrs(strings.TrimSpace(lines[i+1])); a != nil && a["#"] != "" {
					cur.anchor = a["#"]
					i++
				}
			}
			para = nil
		case strings.HasPrefix(line, "|"):
			t := &table{header: row{line: i + 1, cells: splitRow(line)}, heading: cur, attrs: map[string]string{}}
			t.para = strings.Join(para, " ")
			para = nil
			j := i + 1
			if j >= len(lines) || !separatorRE.MatchString(strings.TrimSpace(lines[j])) {
				errs = append(errs, problem{i + 1, "table header without a separator row (|---|) under it"})
			} else {
				j++
			}
			for ; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|"); j++ {
				t.rows = append(t.rows, row{line: j + 1, cells: splitRow(strings.TrimSpace(lines[j]))})
			}
			for ; j < len(lines); j++ {
				a := parseAttrs(strings.TrimSpace(lines[j]))
				if a == nil {
					break
				}
				for k, v := range a {
					if _, dup := t.attrs[k]; !dup {
						t.attrs[k] = v
					}
				}
			}
			tables = append(tables, t)
			i = j - 1
		case line == "":
			paraDone = true
		case parseAttrs(line) != nil:
			// an attribute line of a paragraph ({: shortdesc}, {: important})
		default:
			if paraDone {
				para, paraDone = nil, false
			}
			para = append(para, line)
		}
	}
	return tables, errs
}

// splitRow splits a table row at the pipes that are not escaped, without the
// outer ones, and trims the cells; "\|" stands for a pipe in a cell.
func splitRow(line string) []string {
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// parseAttrs reads a "{: ...}" attribute line; nil when line is not one.
// key="value" pairs are stored by key, "#id" under "#", bare words and
// ".class" under their own name with an empty value.
func parseAttrs(line string) map[string]string {
	m := attrLineRE.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	attrs := map[string]string{}
	for _, t := range attrTokenRE.FindAllStringSubmatch(m[1], -1) {
		switch {
		case t[1] != "":
			attrs[t[1]] = t[2]
		case t[3] != "":
			attrs["#"] = t[3]
		case t[4] != "":
			attrs[t[4]] = ""
		default:
			attrs[t[5]] = ""
		}
	}
	return attrs
}
