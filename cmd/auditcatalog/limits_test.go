package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
