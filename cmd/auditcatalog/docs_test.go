package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocExamples runs the examples of docs/auditcatalog.md (the console
// blocks) from the repository root and compares their output.
func TestDocExamples(t *testing.T) {
	t.Chdir("../..")
	data, err := os.ReadFile("docs/auditcatalog.md")
	require.NoError(t, err)
	n := 0
	for _, block := range strings.Split(string(data), "```console\n")[1:] {
		block, _, ok := strings.Cut(block, "```\n")
		require.True(t, ok, "unterminated console block")
		for _, s := range readTranscript(t, block) {
			n++
			assert.Equal(t, s.output, runStep(s.args), "auditcatalog %s", quoteArgs(s.args))
		}
	}
	assert.GreaterOrEqual(t, n, 4, "one example per command at least")
}
