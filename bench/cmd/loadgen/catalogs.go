package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/bench"
	"github.com/otel-audit/auditprocessor/catalog"
)

// The catalog file format (README.md, "Catalogs"), for writing.
type fileCatalog struct {
	Service     string       `yaml:"service"`
	DisplayName string       `yaml:"display_name"`
	Regions     []fileRegion `yaml:"regions"`
	Events      []fileEvent  `yaml:"events"`
}

type fileRegion struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Geography   string `yaml:"geography"`
	SendsEvents bool   `yaml:"sends_events"`
}

type fileEvent struct {
	Action      string `yaml:"action"`
	Kind        string `yaml:"kind,omitempty"`
	Method      string `yaml:"method,omitempty"`
	Route       string `yaml:"route,omitempty"`
	RouteRegex  string `yaml:"route_regex,omitempty"`
	Description string `yaml:"description,omitempty"`
	Severity    string `yaml:"severity,omitempty"`
}

var zoneSuffix = regexp.MustCompile(`-[0-9]+$`)

// writeAllSendingCatalogs writes every built-in catalog into dir as a
// catalog file with the same events, in which every region sends audit
// events, and the regions of the benchmark input that no built-in catalog
// lists (ap-north) are added, sending too. With these as catalog_files (and
// no built-in catalogs) the processor matches and tags exactly as with the
// built-in ones and drops nothing.
func writeAllSendingCatalogs(dir string) ([]string, error) {
	var files []string
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		if err != nil {
			return nil, err
		}
		fc := fileCatalog{Service: c.Service, DisplayName: c.DisplayName}
		for _, r := range c.Regions {
			fc.Regions = append(fc.Regions, fileRegion{ID: r.ID, Name: r.Name, Geography: r.Geography, SendsEvents: true})
		}
		for _, raw := range bench.Regions {
			id := strings.ToLower(raw)
			if c.RegionIndex(id) >= 0 || c.RegionIndex(zoneSuffix.ReplaceAllString(id, "")) >= 0 {
				continue // listed, or a zone of a listed region
			}
			fc.Regions = append(fc.Regions, fileRegion{ID: id, Name: id, Geography: "benchmark", SendsEvents: true})
		}
		for _, ev := range c.Events {
			fe := fileEvent{Action: ev.Action, Method: ev.Method, Description: ev.Description, Severity: ev.Severity}
			if ev.Kind != catalog.KindAPI {
				fe.Kind = ev.Kind
			}
			if ev.RouteIsRegex {
				fe.RouteRegex = ev.Route
			} else {
				fe.Route = ev.Route
			}
			fc.Events = append(fc.Events, fe)
		}
		data, err := yaml.Marshal(&fc)
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
