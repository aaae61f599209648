package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/catalog"
)

// Scoped catalogs (services.NAME.service_names): a gateway for many
// services whose routes are the same. ScopedServices catalogs of
// ScopedGroups*RoutesPerService routes each, every one with the same
// routes, each scoped to its own service.name, against one catalog with
// those routes; the same records, spread over all the services.
const (
	ScopedServices = 50
	ScopedGroups   = 5 // RoutesPerService routes each: 100 routes per catalog
)

// identicalYAML is a catalog of service name whose routes do not depend on
// the name: ScopedGroups resources, each with the synthetic routes.
func identicalYAML(tb testing.TB, name string) []byte {
	c := &catalog.Catalog{Service: name, DisplayName: name, Regions: []catalog.Region{
		{ID: "eu-de", Name: "Frankfurt", SendsEvents: true},
		{ID: "us-south", Name: "Dallas", SendsEvents: true},
	}}
	for g := range ScopedGroups {
		for _, r := range syntheticRoutes {
			c.Events = append(c.Events, catalog.Event{
				Action:       fmt.Sprintf("%s.g%d-%s", name, g, r.action),
				Kind:         catalog.KindAPI,
				Method:       r.method,
				Route:        fmt.Sprintf(r.route, "v1", fmt.Sprintf("res%d", g), "v2"),
				RouteIsRegex: r.key == "route_regex",
			})
		}
	}
	data, err := catalog.Encode(c, "")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func scopedName(i int) string { return fmt.Sprintf("scoped%02d", i) }

// scopedSetup writes the catalogs and returns the two configurations: one
// unscoped catalog, and ScopedServices scoped ones.
func scopedSetup(tb testing.TB) (one, scoped *auditprocessor.Config, batches []ptrace.Traces) {
	dir := tb.TempDir()
	one = auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	scoped = auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	one.BuiltinCatalogs, scoped.BuiltinCatalogs = []string{}, []string{}
	scoped.Services = map[string]auditprocessor.ServiceConfig{}
	var first *catalog.Catalog
	for i := range ScopedServices {
		name := scopedName(i)
		file := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(file, identicalYAML(tb, name), 0o600); err != nil {
			tb.Fatal(err)
		}
		scoped.CatalogFiles = append(scoped.CatalogFiles, file)
		scoped.Services[name] = auditprocessor.ServiceConfig{ServiceNames: []string{name}}
		if i == 0 {
			one.CatalogFiles = []string{file}
			c, err := catalog.Parse(file, identicalYAML(tb, name))
			if err != nil {
				tb.Fatal(err)
			}
			first = c
		}
	}
	in := NewInput([]*catalog.Catalog{first}, seed)
	for range sourceBatches {
		td := in.Traces(RecordsPerBatch, ScopedServices)
		for r, rs := range td.ResourceSpans().All() {
			rs.Resource().Attributes().PutStr("service.name", scopedName(r))
		}
		batches = append(batches, td)
	}
	return one, scoped, batches
}

// BenchmarkScoped: one catalog of 100 routes, and 50 scoped catalogs of
// those 100 routes with the records spread over the 50 services.
func BenchmarkScoped(b *testing.B) {
	one, scoped, batches := scopedSetup(b)
	for _, c := range []struct {
		name string
		cfg  *auditprocessor.Config
	}{{"one-catalog", one}, {fmt.Sprintf("scoped-%d", ScopedServices), scoped}} {
		b.Run("catalogs="+c.name, func(b *testing.B) {
			slowOnly(b, false)
			p, err := auditprocessor.NewFactory().CreateTraces(context.Background(), settings(), c.cfg, consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			runTraces(b, batches, func(td ptrace.Traces) error { return p.ConsumeTraces(context.Background(), td) })
		})
	}
}

// TestScopedSetup: in the scoped configuration each record gets its own
// service's action, as many as the one catalog tags.
func TestScopedSetup(t *testing.T) {
	one, scoped, batches := scopedSetup(t)
	count := func(cfg *auditprocessor.Config) (tagged int, own bool) {
		sink := new(consumertest.TracesSink)
		p, err := auditprocessor.NewFactory().CreateTraces(context.Background(), settings(), cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		td := ptrace.NewTraces()
		batches[0].CopyTo(td)
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		own = true
		for _, out := range sink.AllTraces() {
			for _, rs := range out.ResourceSpans().All() {
				svc, _ := rs.Resource().Attributes().Get("service.name")
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						if v, ok := s.Attributes().Get("audit.action"); ok {
							tagged++
							own = own && strings.HasPrefix(v.Str(), svc.Str()+".")
						}
					}
				}
			}
		}
		return tagged, own
	}
	n1, _ := count(one) // one catalog: every record gets scoped00's actions
	n50, own := count(scoped)
	if n1 == 0 || n1 != n50 || !own {
		t.Fatalf("one catalog tagged %d, scoped %d (each its own service's action: %v)", n1, n50, own)
	}
	t.Logf("%d records tagged in both", n1)
}
