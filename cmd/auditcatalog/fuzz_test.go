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
		im := importPage("page.md", data, importOptions{})
		if len(im.errs) > 0 && im.cat != nil {
			t.Fatal("errors and a catalog without --keep-going")
		}
		// with --keep-going, whatever is kept must load too
		if im.cat == nil {
			im = importPage("page.md", data, importOptions{keepGoing: true, service: "fuzz"})
		}
		if im.cat == nil {
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

// FuzzImportOpenAPI checks that an OpenAPI description never panics the
// importer and that what it imports, with --keep-going, loads.
func FuzzImportOpenAPI(f *testing.F) {
	specs, err := filepath.Glob("testdata/openapi/*")
	if err != nil || len(specs) == 0 {
		f.Fatalf("no seed descriptions: %v", err)
	}
	for _, p := range specs {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseOpenAPI("spec.yaml", data)
		im := (&imported{}).fromDescription("spec.yaml", d, err, importOptions{service: "fuzz", keepGoing: true})
		if im.cat == nil {
			return
		}
		yml, err := encodeCatalog(im, "spec.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkCatalog("spec.yaml", yml); err != nil {
			t.Fatalf("imported catalog does not load: %v\n%s", err, yml)
		}
	})
}
