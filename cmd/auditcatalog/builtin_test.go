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

const seeds = "../../../shared/seeds"

// TestBuiltinsAreImported runs the go:generate lines of catalog/gen.go in
// process, from catalog/ as go generate does, and checks that importing the
// provider's pages gives exactly the committed built-in catalogs, byte for
// byte, and that every built-in catalog comes from one of them.
func TestBuiltinsAreImported(t *testing.T) {
	if _, err := os.Stat(seeds); err != nil {
		t.Skipf("the provider's pages are not beside the repository (%v)", err)
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
		args, err := splitArgs(cmd)
		require.NoError(t, err)
		i := slices.Index(args, "-o")
		require.True(t, i >= 0 && i+1 < len(args), "no -o FILE in %q", line)
		out := args[i+1]
		args = slices.Delete(args, i, i+2)
		var stdout, stderr bytes.Buffer
		require.Equal(t, exitOK, run(args, &stdout, &stderr), "%s\n%s", line, stderr.String())
		committed, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, string(committed), stdout.String(), "%s differs from what %q imports: run go generate ./catalog", out, line)
		generated = append(generated, strings.TrimSuffix(filepath.Base(out), ".yaml"))
	}
	slices.Sort(generated)
	assert.Equal(t, catalog.BuiltinNames(), generated)
}
