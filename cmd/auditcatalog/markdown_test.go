package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The page reader's hand-written helpers against the definitions they
// replace (strings.Split, regular expressions, strings.Fields), which made
// a string, a slice or a match per piece of the page.

var readerCases = []string{
	"", "a", "a\n", "\n", "\n\n", "a\r\nb", "a\nb\n\nc", " x \r\n\ty\t", "|a|b|\n|---|---|\n|c|d|",
	"#", "# ", "#  Title ##", "####### seven", "##\tTab #", "# C#", "# a # b #", "## ##", "#x", "# \u00a0x",
	"`a` and `b`", "``a`", "`", "``", "a `b", "`GET /x` or `POST /y`", "``x`` `y`",
	"  two  spaces  ", "tab\tand\nnewline", "nbsp\u00a0here", "bad \xff utf8  ", "\u0085lead",
}

func TestLineReader(t *testing.T) {
	for _, s := range readerCases {
		var got []string
		lr := lineReader{s: s, n: 1}
		for {
			line, n, ok := lr.next()
			if !ok {
				break
			}
			assert.Equal(t, len(got)+1, n, "%q", s)
			got = append(got, line)
		}
		var want []string
		for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			want = append(want, strings.TrimSpace(l))
		}
		assert.Equal(t, want, got, "%q", s)
	}
}

func TestHeading(t *testing.T) {
	re := regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	for _, s := range readerCases {
		line := strings.TrimSpace(s)
		m := re.FindStringSubmatch(line)
		if assert.Equal(t, m != nil, isHeading(line), "%q", line) && m != nil {
			assert.Equal(t, m[1], headingText(line), "%q", line)
		}
	}
}

func TestCodeSpans(t *testing.T) {
	re := regexp.MustCompile("`([^`]+)`")
	for _, s := range readerCases {
		var want, got []string
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			want = append(want, m[1])
		}
		for span := range codeSpans(s) {
			got = append(got, span)
		}
		assert.Equal(t, want, got, "%q", s)
	}
}

func TestOneSpace(t *testing.T) {
	for _, s := range readerCases {
		assert.Equal(t, strings.Join(strings.Fields(s), " "), oneSpace(s), "%q", s)
	}
}

func TestLooksLikeRequest(t *testing.T) {
	reference := func(s string) bool {
		f := strings.Fields(s)
		return len(f) > 0 && (strings.EqualFold(f[0], "get") || strings.EqualFold(f[0], "post")) || len(f) == 2 && strings.HasPrefix(f[1], "/")
	}
	for _, s := range append(readerCases, "GET /x", "post /x y", "x /y", "x /y z", "  fetch\t/v1  ", "/v1/x", "GET") {
		assert.Equal(t, reference(s), looksLikeRequest(s), "%q", s)
	}
}

func TestSplitRow(t *testing.T) {
	for _, tc := range []struct {
		line  string
		cells []string
	}{
		{"| a | b |", []string{"a", "b"}},
		{"|a|b", []string{"a", "b"}},
		{"| a \\| b | c |", []string{"a | b", "c"}},
		{"| a \\|", []string{"a |"}},
		{"|", []string{""}},
		{"||", []string{""}},
		{"| \\\\| x |", []string{"\\| x"}}, // a backslash before \| is itself
	} {
		cells, over := splitRow(tc.line, nil)
		assert.Equal(t, tc.cells, cells, "%q", tc.line)
		assert.Zero(t, over, "%q", tc.line)
	}
	cells, over := splitRow(strings.Repeat("|", 100), nil)
	assert.Len(t, cells, maxColumns)
	assert.Equal(t, 99-maxColumns, over)
}

// TestParagraphBeforeTable: the paragraph a table's kind is read from is
// the text just before it, attribute lines left out, after a blank line too.
func TestParagraphBeforeTable(t *testing.T) {
	page := "# H\n\nfirst paragraph\n\nThe following\n{: note}\nactions generate data events.\n\n| Action |\n|---|\n| `a.b.c` |\n"
	tables := (&imported{}).scan(page)
	if assert.Len(t, tables, 1) {
		assert.Equal(t, "The following actions generate data events.", tables[0].para)
		assert.Equal(t, 11, tables[0].first)
		assert.Equal(t, 1, tables[0].rows)
	}
}

func TestAttrs(t *testing.T) {
	lineRE := regexp.MustCompile(`^\{:\s*(.*?)\s*\}\s*$`)
	tokenRE := regexp.MustCompile(`([A-Za-z][\w-]*)="([^"]*)"|#([\w-]+)|\.([\w-]+)|([A-Za-z][\w-]*)`)
	for _, line := range []string{
		`{: caption="Table 1. Actions" caption-side="bottom"}`, `{: #at_actions}`, `{:}`, `{: }`, `{:}}`, `{: shortdesc}`,
		`{: .simple-tab-table tab-group="regions" tab-title="Europe"}`, `{: a="b c=d}`, `{: a="b"c #-x # .y 1z _w}`,
		`{: ü #é x}`, `{:caption="x"}`, `{: x="" y}`, `{ : x}`, `{: x`, `x}`, `{: ` + strings.Repeat("a ", 40) + `}`,
	} {
		m := lineRE.FindStringSubmatch(line)
		body, ok := attrBody(line)
		if !assert.Equal(t, m != nil, ok, "%q", line) || m == nil {
			continue
		}
		assert.Equal(t, m[1], body, "%q", line)
		var want, got [][2]string
		for _, tok := range tokenRE.FindAllStringSubmatch(m[1], maxAttrs) {
			switch {
			case tok[1] != "":
				want = append(want, [2]string{tok[1], tok[2]})
			case tok[3] != "":
				want = append(want, [2]string{"#", tok[3]})
			case tok[4] != "":
				want = append(want, [2]string{tok[4], ""})
			default:
				want = append(want, [2]string{tok[5], ""})
			}
		}
		eachAttr(body, func(k, v string) bool { got = append(got, [2]string{k, v}); return true })
		assert.Equal(t, want, got, "%q", line)
	}
}
