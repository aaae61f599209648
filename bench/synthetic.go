package bench

import (
	"fmt"

	"github.com/otel-audit/auditprocessor/catalog"
)

// RoutesPerService is the size of every synthetic service catalog.
const RoutesPerService = 20

// syntheticRoutes are the shapes of one synthetic service's routes, those of
// the built-in catalogs: literal templates, one- and two-parameter
// templates, and regular expressions with multi-segment wildcards, digit
// constraints and optional trailing slashes. %[1]s is the service's
// version prefix, %[2]s the service's resource name.
var syntheticRoutes = []struct{ action, method, key, route string }{
	{"collection.create", "POST", "route", "/%[1]s/%[2]s"},
	{"collection.list", "GET", "route", "/%[1]s/%[2]s"},
	{"item.read", "GET", "route", "/%[1]s/%[2]s/{item_id}"},
	{"item.update", "PUT", "route", "/%[1]s/%[2]s/{item_id}"},
	{"item.delete", "DELETE", "route", "/%[1]s/%[2]s/{item_id}"},
	{"entry-list.read", "GET", "route", "/%[1]s/%[2]s/{item_id}/entries"},
	{"entry.create", "POST", "route", "/%[1]s/%[2]s/{item_id}/entries"},
	{"entry.read", "GET", "route", "/%[1]s/%[2]s/{item_id}/entries/{entry_name}"},
	{"entry.delete", "DELETE", "route", "/%[1]s/%[2]s/{item_id}/entries/{entry_name}"},
	{"item.train", "POST", "route", "/%[1]s/%[2]s/{item_id}/train"},
	{"job.create", "POST", "route", "/%[3]s/%[2]s/jobs"},
	{"job.update", "PUT", "route_regex", "/%[3]s/%[2]s/jobs/.+"},
	{"job.delete", "DELETE", "route_regex", "/%[3]s/%[2]s/jobs/.+"},
	{"job-run.create", "POST", "route_regex", "/%[3]s/%[2]s/jobs/.+/runs[/]?$"},
	{"job-run.update", "PUT", "route_regex", "/%[3]s/%[2]s/jobs/.+/runs[/]?$"},
	{"job-run-action.update", "POST", "route_regex", "/%[3]s/%[2]s/jobs/.+/runs/actions[/]?$"},
	{"job-result.download", "GET", "route_regex", "/%[3]s/%[2]s/jobs/.+/download[/]?$"},
	{"source.delete", "DELETE", "route_regex", `/%[3]s/%[2]s/sources/\d+[/]?$`},
	{"source.update", "PUT", "route_regex", `/%[3]s/%[2]s/sources/\d+[/]?$`},
	{"source.refresh", "POST", "route_regex", `/%[3]s/%[2]s/sources/\d+/refresh[/]?$`},
}

// Layout says where a synthetic service's routes sit.
type Layout int

const (
	// SharedPrefix puts every service under /v1/... and /v2/..., as real
	// APIs of one provider do: /v1/svc0042-resources/{item_id}.
	SharedPrefix Layout = iota
	// OwnPrefix gives every service its own first segment:
	// /svc0042/v1/svc0042-resources/{item_id}.
	OwnPrefix
)

func (l Layout) String() string {
	if l == OwnPrefix {
		return "own-prefix"
	}
	return "shared-prefix"
}

// SyntheticYAML returns the catalog YAML of synthetic service i.
func SyntheticYAML(i int, layout Layout) ([]byte, error) {
	name := fmt.Sprintf("svc%04d", i)
	resource := fmt.Sprintf("%s-resources", name)
	v1, v2 := "v1", "v2"
	if layout == OwnPrefix {
		v1, v2 = name+"/v1", name+"/v2"
	}
	c := &catalog.Catalog{
		Service:     name,
		DisplayName: fmt.Sprintf("Synthetic service %d", i),
		// half the services send events from eu-de, a quarter also from us-south
		Regions: []catalog.Region{
			{ID: "eu-de", Name: "Frankfurt", Geography: "Europe", SendsEvents: i%2 == 0},
			{ID: "us-south", Name: "Dallas", Geography: "Americas", SendsEvents: i%4 == 0},
			{ID: "eu-gb", Name: "London", Geography: "Europe"},
			{ID: "jp-tok", Name: "Tokyo", Geography: "Asia Pacific"},
		},
	}
	for _, r := range syntheticRoutes {
		c.Events = append(c.Events, catalog.Event{
			Action:       name + "." + r.action,
			Kind:         catalog.KindAPI,
			Method:       r.method,
			Route:        fmt.Sprintf(r.route, v1, resource, v2),
			RouteIsRegex: r.key == "route_regex",
		})
	}
	return catalog.Encode(c, "")
}

// Synthetic parses services synthetic catalogs (20 routes each).
func Synthetic(services int, layout Layout) ([]*catalog.Catalog, error) {
	out := make([]*catalog.Catalog, 0, services)
	for i := 0; i < services; i++ {
		data, err := SyntheticYAML(i, layout)
		if err != nil {
			return nil, err
		}
		c, err := catalog.Parse(fmt.Sprintf("synthetic:%d", i), data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Builtins parses every built-in catalog.
func Builtins() ([]*catalog.Catalog, error) {
	var out []*catalog.Catalog
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
