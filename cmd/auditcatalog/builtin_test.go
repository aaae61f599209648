package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/catalog"
)

// pagesDir is where make catalogs and TestBuiltinsAreImported look for the
// provider's activity-tracking pages: $AUDIT_CATALOG_PAGES, else
// ../shared/seeds beside the repository (the Makefile's PAGES default).
func pagesDir() string {
	if dir := os.Getenv("AUDIT_CATALOG_PAGES"); dir != "" {
		return dir
	}
	dir, _ := filepath.Abs("../../../shared/seeds")
	return dir
}

// TestBuiltinsAreImported runs the go:generate lines of catalog/gen.go in
// process, from catalog/ as make catalogs does, and checks that importing
// the provider's pages gives exactly the committed built-in catalogs, byte
// for byte, and that every built-in catalog comes from one of them.
func TestBuiltinsAreImported(t *testing.T) {
	pages := pagesDir()
	if _, err := os.Stat(pages); err != nil {
		t.Skipf("SKIPPED: the built-in catalogs are not checked against the provider's pages: "+
			"no folder %s (set AUDIT_CATALOG_PAGES to the folder that holds them): %v", pages, err)
	}
	src, err := os.ReadFile("../../catalog/gen.go")
	require.NoError(t, err)
	t.Chdir("../../catalog")
	var generated []string
	for _, line := range strings.Split(string(src), "\n") {
		cmd, ok := strings.CutPrefix(line, "//go:generate go run ../cmd/auditcatalog ")
		if !ok {
			continue
		}
		args, err := splitArgs(os.Expand(cmd, func(v string) string {
			require.Equal(t, "AUDIT_CATALOG_PAGES", v, "%s", line)
			return pages
		}))
		require.NoError(t, err)
		i := slices.Index(args, "-o")
		require.True(t, i >= 0 && i+1 < len(args), "no -o FILE in %q", line)
		out := args[i+1]
		args = slices.Delete(args, i, i+2)
		var stdout, stderr bytes.Buffer
		require.Equal(t, exitOK, run(args, &stdout, &stderr), "%s\n%s", line, stderr.String())
		committed, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, string(committed), stdout.String(), "%s differs from what %q imports: run make catalogs", out, line)
		generated = append(generated, strings.TrimSuffix(filepath.Base(out), ".yaml"))
	}
	require.NotEmpty(t, generated, "no go:generate line in catalog/gen.go")
	slices.Sort(generated)
	assert.Equal(t, catalog.BuiltinNames(), generated)
}
