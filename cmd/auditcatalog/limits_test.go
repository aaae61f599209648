package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill repeats unit up to n bytes, after head.
func fill(head, unit string, n int) string {
	return head + strings.Repeat(unit, (n-len(head))/len(unit))
}

// eventRows is an event table of rows route-less events, as big as max
// bytes when rows is 0.
func eventRows(rows, max int) string {
	var b strings.Builder
	b.WriteString("| Action | Description |\n|---|---|\n")
	for i := 0; i < rows || rows == 0 && b.Len() < max-64; i++ {
		fmt.Fprintf(&b, "| `svc.thing%d.create` | Create thing %d. |\n", i, i)
	}
	return b.String()
}

// largePages are pages of hostile shapes just under maxPageBytes (issue 22:
// a 50 MB page of "|" took 3.4 GB), and the largest page of events the
// importer reads whole.
func largePages() []struct{ name, page string } {
	const n = maxPageBytes - 64
	header := "| Action | Description |\n|---|---|\n"
	return []struct{ name, page string }{
		{"one line of pipes", fill("", "|", n)},
		{"rows of a pipe", fill("", "|\n", n)},
		{"tables of a pipe", fill("", "|\n\n", n)},
		{"rows of 200 cells", fill(header, strings.Repeat("| x ", 200)+"|\n", n)},
		{"cells of escaped pipes", fill(header, "| "+strings.Repeat(`\|`, 500)+" | "+strings.Repeat(`\|`, 500)+" |\n", n)},
		{"a paragraph of one-letter lines", fill("", "x\n", n-len(header)) + header},
		{"headings", fill("", "# h\n", n)},
		{"attribute lines of many words", fill("", "{: "+strings.Repeat("a ", 1000)+"}\n", n)},
		{"headings with anchors", fill("", "# h\n{: #a b}\n", n)},
		{"event rows beyond the cap", eventRows(0, n)},
		{"event rows up to the cap", eventRows(maxRows, 0)},
	}
}

// TestImportMemoryBounded holds the importer to memory proportional to the
// page and to the events it reads: what importPage allocates in all
// (runtime.MemStats.TotalAlloc, so every copy counts, not only what is live
// at the end) stays under 4 bytes a byte of the page plus 1 KiB a row of an
// event table read, at most maxRows of them, for pages of every hostile
// shape at the size limit.
func TestImportMemoryBounded(t *testing.T) {
	for _, p := range largePages() {
		t.Run(p.name, func(t *testing.T) {
			data := []byte(p.page)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			im := importPage("large.md", data, importOptions{})
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			bound := 4*uint64(len(data)) + 1024*uint64(im.rows)
			t.Logf("%d bytes, %d event rows read: %d allocated (%.2fx the page), %d errors, %d notes",
				len(data), im.rows, allocated, float64(allocated)/float64(len(data)), len(im.errs), len(im.notes))
			assert.Less(t, allocated, bound)
			assert.LessOrEqual(t, im.rows, maxRows+1)
			assert.LessOrEqual(t, len(im.errs), maxProblems+1)
			assert.LessOrEqual(t, len(im.notes), maxProblems+1)
		})
	}
}

func TestPageTooLarge(t *testing.T) {
	im := importPage("big.md", make([]byte, maxPageBytes+1), importOptions{})
	assert.Nil(t, im.cat)
	assert.Equal(t, []problem{{0, "the page has 16777217 bytes; the importer reads pages of at most 16777216 (16 MiB)"}}, im.errs)

	// the command reads no more than the limit of a file without end
	_, err := readPage("/dev/zero")
	assert.EqualError(t, err, "/dev/zero: larger than 16 MiB, the most the importer reads of a page")
	data, err := readPage("testdata/pages/kinds.md")
	require.NoError(t, err)
	assert.Contains(t, string(data), "sprockets")
}

// TestCaps: beyond each cap the importer says what it did not read, and
// writes no catalog.
func TestCaps(t *testing.T) {
	header := "| Action | Description |\n|---|---|\n"
	t.Run("tables", func(t *testing.T) {
		page := strings.Repeat(header+"| `svc.a.b` | x |\n\n", maxTables+1)
		im := importPage("p.md", []byte(page), importOptions{})
		assert.Nil(t, im.cat)
		assert.Contains(t, im.errs, problem{4*maxTables + 1, "the page has more than 1000 tables; the importer reads at most 1000 and stops here"})
		assert.Equal(t, maxTables, im.eventTables)
	})
	t.Run("rows", func(t *testing.T) {
		page := eventRows(maxRows+1, 0)
		im := importPage("p.md", []byte(page), importOptions{})
		assert.Nil(t, im.cat)
		assert.Equal(t, []problem{{maxRows + 3, "the page's event tables have more than 50000 rows; the importer reads at most 50000 and skips the others"}}, im.errs)
		im = importPage("p.md", []byte(eventRows(maxRows, 0)), importOptions{})
		require.NotNil(t, im.cat)
		assert.Len(t, im.cat.Events, maxRows)
	})
	t.Run("problems", func(t *testing.T) {
		page := header + strings.Repeat("| `svc.a.b` |\n", maxProblems+5)
		im := importPage("p.md", []byte(page), importOptions{})
		require.Len(t, im.errs, maxProblems+1, "the first maxProblems listed, and a line for the others")
		assert.Equal(t, problem{3, "row has 1 cells, the header 2"}, im.errs[0])
		assert.Contains(t, im.errs, problem{0, "5 more errors not listed (the importer lists 1000)"})
	})
	t.Run("columns", func(t *testing.T) {
		page := header + "| `svc.a.b` | x |" + strings.Repeat(" y |", maxColumns+3) + "\n"
		im := importPage("p.md", []byte(page), importOptions{service: "svc"})
		require.NotNil(t, im.cat)
		assert.Contains(t, im.notes, problem{3, `67 cells beyond the header's 2 columns ignored: "y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | y | ... (245 bytes)"`})
	})
	t.Run("quoted cells", func(t *testing.T) {
		page := header + "| " + strings.Repeat("a ", 1000) + "| x |\n| `svc.a.b` | y |\n"
		im := importPage("p.md", []byte(page), importOptions{})
		assert.Equal(t, []problem{{3, `action "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a ... (1999 bytes)" is not one word`}}, im.errs)
	})
}
