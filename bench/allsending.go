package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
)

// AllSending returns the built-in catalogs with the same events, in which
// every region sends audit events, and the regions of the benchmark input
// that no built-in catalog lists (ap-north) are added, sending too. With
// these (as catalog_files, and no built-in catalogs) the processor matches
// and tags exactly as with the built-in ones and drops nothing; the peer's
// statements generated from them drop nothing either.
func AllSending() ([]*catalog.Catalog, error) {
	var out []*catalog.Catalog
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		if err != nil {
			return nil, err
		}
		all := *c
		all.Regions = nil
		for _, r := range c.Regions {
			r.SendsEvents = true
			all.Regions = append(all.Regions, r)
		}
		for _, raw := range Regions {
			id := strings.ToLower(raw)
			if c.RegionIndex(id) >= 0 {
				continue
			}
			if r, ok := catalog.ZoneRegion(id); ok && c.RegionIndex(r) >= 0 {
				continue // a zone of a listed region
			}
			all.Regions = append(all.Regions, catalog.Region{ID: id, Name: id, Geography: "benchmark", SendsEvents: true})
		}
		out = append(out, &all)
	}
	return out, nil
}

// WriteAllSending writes the AllSending catalogs into dir as catalog files,
// one per built-in catalog, and returns their paths.
func WriteAllSending(dir string) ([]string, error) {
	catalogs, err := AllSending()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, c := range catalogs {
		name := c.Service
		data, err := catalog.Encode(c, fmt.Sprintf("%s with every region sending events (bench.AllSending)", name))
		if err != nil {
			return nil, err
		}
		// Check that it still loads and describes the same events.
		back, err := catalog.Parse(name, data)
		if err != nil {
			return nil, fmt.Errorf("rewritten catalog %s: %w", name, err)
		}
		if len(back.Events) != len(c.Events) {
			return nil, fmt.Errorf("rewritten catalog %s: %d events, want %d", name, len(back.Events), len(c.Events))
		}
		f := filepath.Join(dir, name+"-all-regions.yaml")
		if err := os.WriteFile(f, data, 0o600); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
