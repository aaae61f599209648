package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// TestDocExamples runs the examples of docs/auditcatalog.md and of
// docs/catalogs.md (their console blocks) from the repository root and compares their
// output; -update rewrites them.
func TestDocExamples(t *testing.T) {
	t.Chdir("../..")
	for _, doc := range []string{"docs/auditcatalog.md", "docs/catalogs.md"} {
		t.Run(doc, func(t *testing.T) { checkDocExamples(t, doc) })
	}
}

func checkDocExamples(t *testing.T, doc string) {
	data, err := os.ReadFile(doc)
	require.NoError(t, err)
	parts := strings.Split(string(data), "```console\n")
	n := 0
	for i, part := range parts[1:] {
		block, after, ok := strings.Cut(part, "```\n")
		require.True(t, ok, "unterminated console block")
		var rewritten strings.Builder
		for _, s := range readTranscript(t, block) {
			n++
			got := runStep(s.args)
			fmt.Fprintf(&rewritten, "$ auditcatalog %s\n%s", quoteArgs(s.args), got)
			if !*audittest.Update {
				assert.Equal(t, s.output, got, "auditcatalog %s", quoteArgs(s.args))
			}
		}
		parts[i+1] = rewritten.String() + "```\n" + after
	}
	assert.GreaterOrEqual(t, n, 4, "one example per command at least")
	if *audittest.Update {
		require.NoError(t, os.WriteFile(doc, []byte(strings.Join(parts, "```console\n")), 0o644))
	}
}
