package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport checks that the importer never panics, and that whatever it
// accepts encodes to a catalog the processor's loader accepts.
func FuzzImport(f *testing.F) {
	pages, err := filepath.Glob("testdata/pages/*.md")
	if err != nil || len(pages) == 0 {
		f.Fatalf("no seed pages: %v", err)
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		im, problems := importPage("page.md", data, importOptions{})
		if problems != nil {
			if im != nil {
				t.Fatal("problems and a catalog")
			}
			return
		}
		yml, err := encodeCatalog(im, "page.md")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkCatalog("page.md", yml); err != nil {
			t.Fatalf("imported catalog does not load: %v\n%s", err, yml)
		}
	})
}
