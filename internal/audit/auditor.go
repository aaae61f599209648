package audit

import (
	"fmt"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
)

// Auditor holds the configured catalogs, compiled, and the rules that read
// a record. It is built once, when a component is created, and is immutable
// and safe for concurrent use.
type Auditor struct {
	catalogs  []*catalog.Catalog
	matcher   *catalog.Matcher // the unscoped catalogs
	routes    *routeCache      // the matcher's answers for reported routes
	scopes    scopes
	fields    map[*catalog.Event]*eventFields
	services  map[*catalog.Catalog]*service
	switches  FieldsConfig
	kinds     [8]bool // indexed by ptrace.SpanKind, 0-7
	keys      AttributesConfig
	defRegion string
	onMissing Policy
	unmatched Policy
	// senderAttr, onUnauthorized and guarded: the senders (sender.go).
	senderAttr     string
	onUnauthorized Policy
	guarded        []*service
}

// service is a catalog with its regions after the configured overrides.
type service struct {
	sends map[string]bool // region ids where the service sends events
	known map[string]bool // every region id of the catalog
	// every is set for a catalog that states no regions (no region table)
	// and no services.NAME.regions: it sends events from every region.
	every bool
	// senders are the services.NAME.senders globs, nil for none; guard is
	// the service's index in Auditor.guarded when there are some.
	senders []string
	guard   int
}

// region normalises a region to the catalog's ids (lower case; a zone like
// eu-de-2 belongs to eu-de) and tells whether the service sends events there.
// A region the catalog does not list does not send events, unless the
// catalog states no regions at all.
func (s *service) region(raw string) (id string, sends bool) {
	id = strings.ToLower(strings.TrimSpace(raw))
	if !s.known[id] {
		if r, ok := catalog.ZoneRegion(id); ok && s.known[r] {
			id = r
		}
	}
	return id, s.every || s.sends[id]
}

// Load loads the configured catalogs (the built-in ones, then the files),
// applies the per-service overrides (regions, case folding), compiles them
// and returns the Auditor. Its errors name the key, the file and the entry.
// The processor, the connector and the auditcatalog command all load
// catalogs through it.
func Load(cfg *Config) (*Auditor, error) {
	return load(cfg, func(file string) ([]byte, error) {
		return readCatalogFile(file, cfg.Limits.MaxCatalogFileSize, cfg.Limits.CatalogReadTimeout)
	})
}

// load is Load with the catalog files read by read.
func load(cfg *Config, read func(string) ([]byte, error)) (*Auditor, error) {
	var catalogs []*catalog.Catalog
	for _, name := range cfg.BuiltinCatalogs {
		c, err := catalog.Builtin(name)
		if err != nil {
			return nil, fmt.Errorf("builtin_catalogs: %w", err)
		}
		catalogs = append(catalogs, c)
	}
	for i, file := range cfg.CatalogFiles {
		data, err := read(file)
		if err != nil {
			return nil, fmt.Errorf("catalog_files[%d]: %w", i, err)
		}
		c, err := catalog.Parse(file, data)
		if err != nil {
			return nil, fmt.Errorf("catalog_files[%d]: %w", i, err)
		}
		catalogs = append(catalogs, c)
	}
	byName := map[string]*catalog.Catalog{}
	names := make([]string, 0, len(catalogs))
	for _, c := range catalogs {
		byName[c.Service] = c
		names = append(names, c.Service)
	}
	opts := catalog.Options{CaseInsensitive: map[string]bool{}}
	for _, name := range sortedKeys(cfg.Services) {
		if byName[name] == nil {
			return nil, fmt.Errorf("services::%s: no loaded catalog describes service %q (loaded: %s)", name, name, strings.Join(names, ", "))
		}
		opts.CaseInsensitive[name] = cfg.Services[name].CaseInsensitive
	}
	var unscoped []*catalog.Catalog
	var scoped []scope
	for _, c := range catalogs {
		sc := cfg.Services[c.Service]
		if !sc.Scoped() {
			unscoped = append(unscoped, c)
			continue
		}
		scoped = append(scoped, scope{cat: c, names: sc.ServiceNames, hosts: sc.Hosts})
	}
	if len(scoped) > maxScoped {
		return nil, fmt.Errorf("services: %d catalogs are scoped by service_names or hosts, at most %d can be", len(scoped), maxScoped)
	}
	if err := catalog.CheckServices(catalogs...); err != nil {
		return nil, err
	}
	m, err := opts.Compile(unscoped...)
	if err != nil {
		return nil, err
	}
	a := &Auditor{
		catalogs:  catalogs,
		matcher:   m,
		routes:    newRouteCache(),
		scopes:    scopes{list: scoped, opts: opts, sets: map[selection]*catalog.Scope{}, names: newNameCache(cfg.Limits.ServiceNameCacheSize, nil)},
		fields:    map[*catalog.Event]*eventFields{},
		services:  map[*catalog.Catalog]*service{},
		switches:  cfg.Fields,
		keys:      cfg.Attributes,
		defRegion: cfg.Region.Default,
		onMissing: cfg.Region.OnMissing,
		unmatched: cfg.Unmatched,

		senderAttr:     cfg.Sender.AuthAttribute,
		onUnauthorized: cfg.Sender.OnUnauthorized,
	}
	for _, c := range catalogs {
		svc := &service{sends: map[string]bool{}, known: map[string]bool{}, every: len(c.Regions) == 0}
		for _, r := range c.Regions {
			svc.known[r.ID] = true
			if r.SendsEvents {
				svc.sends[r.ID] = true
			}
		}
		a.services[c] = svc
		for i := range c.Events {
			f := fieldsOf(c, &c.Events[i])
			f.svc = svc
			a.fields[&c.Events[i]] = f
		}
	}
	for _, name := range sortedKeys(cfg.Services) {
		sc := cfg.Services[name]
		c := byName[name]
		svc := a.services[c]
		if sc.RegionsMode == RegionsReplace || len(sc.Regions) > 0 {
			svc.every = false
		}
		if sc.RegionsMode == RegionsReplace {
			svc.sends = map[string]bool{}
		}
		if sc.Senders != nil {
			a.guard(svc, sc.Senders)
		}
		for i, r := range sc.Regions {
			if len(c.Regions) > 0 && !svc.known[r] {
				return nil, fmt.Errorf("services::%s::regions[%d]: unknown region id %q: catalog %s lists %s", name, i, r, c.Source, regionIDs(c))
			}
			svc.known[r] = true
			svc.sends[r] = true
		}
	}
	if r := cfg.Region.Default; r != "" && !a.knownRegion(r) {
		return nil, fmt.Errorf("region::default: unknown region id %q: no loaded catalog lists it", r)
	}
	for _, k := range cfg.SpanKinds {
		a.kinds[SpanKinds[k]] = true
	}
	if err := a.scopes.compile(); err != nil {
		return nil, err
	}
	return a, nil
}

// Catalogs returns every loaded catalog, scoped or not, in loading order.
func (a *Auditor) Catalogs() []*catalog.Catalog { return a.catalogs }

// Matcher returns the compiled unscoped catalogs (every catalog when none
// is scoped).
func (a *Auditor) Matcher() *catalog.Matcher { return a.matcher }

// SendsFrom describes where the service of a catalog sends events from,
// after the overrides: every region (the catalog states none), or the
// sorted region ids (none at all when empty).
func (a *Auditor) SendsFrom(c *catalog.Catalog) (every bool, regions []string) {
	svc := a.services[c]
	if svc == nil {
		return false, nil
	}
	if svc.every {
		return true, nil
	}
	return false, sortedKeys(svc.sends)
}

func regionIDs(c *catalog.Catalog) string {
	ids := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// knownRegion tells whether a region id is one of a loaded catalog's, or any
// region id when a catalog states no regions.
func (a *Auditor) knownRegion(id string) bool {
	for _, svc := range a.services {
		if svc.known[id] || svc.every {
			return true
		}
	}
	return false
}
