package auditprocessor

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFuzzTargetsListed checks that the Makefile's FUZZ_TARGETS, which
// make fuzz runs, names every fuzz target of the module (a func FuzzXxx(f
// *testing.F) in a _test.go file) as PACKAGE:NAME, and nothing else.
func TestFuzzTargetsListed(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^FUZZ_TARGETS\s*:?=\s*(.*)$`).FindSubmatch(mk)
	require.NotNil(t, m, "no FUZZ_TARGETS in the Makefile")
	listed := strings.Fields(string(m[1]))

	var found []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); path != "." && err == nil {
				return filepath.SkipDir // another module (bench, e2e, internal/tools)
			}
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "dist" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Fuzz") || len(fn.Type.Params.List) != 1 {
				continue
			}
			if star, ok := fn.Type.Params.List[0].Type.(*ast.StarExpr); ok {
				if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "F" {
					pkg := "./" + filepath.ToSlash(filepath.Dir(path))
					if pkg == "./." {
						pkg = "."
					}
					found = append(found, pkg+":"+fn.Name.Name)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, found)
	slices.Sort(found)
	slices.Sort(listed)
	assert.Equal(t, found, listed, "FUZZ_TARGETS in the Makefile must name every fuzz target (make fuzz runs that list)")
}
