package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/otel-audit/auditprocessor/catalog"
)

// Check checks what decoding cannot: values of a key and rules across
// keys (an enum's values are rejected when the configuration is decoded, by
// CheckKeys); catalogs are loaded, and service names and region ids checked
// against them, by Load when a component is created. Its errors name the
// key in the package's spelling (config_decode.go).
func (cfg *Config) Check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	builtins := catalog.BuiltinNames()
	for i, name := range cfg.BuiltinCatalogs {
		switch {
		case !slices.Contains(builtins, name):
			add("builtin_catalogs[%d]: unknown built-in catalog %q (built in: %s)", i, name, strings.Join(builtins, ", "))
		case slices.Index(cfg.BuiltinCatalogs, name) < i:
			add("builtin_catalogs[%d]: %q is listed twice", i, name)
		}
	}
	for i, file := range cfg.CatalogFiles {
		switch {
		case strings.TrimSpace(file) == "":
			add("catalog_files[%d] is empty", i)
		case slices.Index(cfg.CatalogFiles, file) < i:
			add("catalog_files[%d]: %q is listed twice", i, file)
		}
	}
	if len(cfg.BuiltinCatalogs) == 0 && len(cfg.CatalogFiles) == 0 {
		add("builtin_catalogs and catalog_files are both empty: there is no catalog to match against")
	}
	for _, name := range sortedKeys(cfg.Services) {
		svc := cfg.Services[name]
		for i, r := range svc.Regions {
			if !catalog.ValidRegionID(r) {
				add("services::%s::regions[%d]: invalid region id %q (want lower case like \"eu-de\")", name, i, r)
			}
		}
		for _, sel := range []struct {
			key   string
			globs []string
		}{{"service_names", svc.ServiceNames}, {"hosts", svc.Hosts}} {
			if sel.globs != nil && len(sel.globs) == 0 {
				add("services::%s::%s is empty: list at least one pattern, or leave the key out to match any", name, sel.key)
			}
			for i, g := range sel.globs {
				if err := checkGlob(g); err != nil {
					add("services::%s::%s[%d]: %v", name, sel.key, i, err)
				}
			}
		}
	}
	if cfg.Reload.PollInterval < 0 {
		add("reload::poll_interval must be 0 (off) or positive, got %s", cfg.Reload.PollInterval)
	}
	if cfg.Limits.MaxCatalogFileSize <= 0 {
		add("limits::max_catalog_file_size must be positive, got %d", cfg.Limits.MaxCatalogFileSize)
	}
	if cfg.Limits.CatalogReadTimeout <= 0 {
		add("limits::catalog_read_timeout must be positive, got %s", cfg.Limits.CatalogReadTimeout)
	}
	if cfg.Limits.ServiceNameCacheSize < 0 {
		add("limits::service_name_cache_size must be 0 (off) or positive, got %d", cfg.Limits.ServiceNameCacheSize)
	}
	if len(cfg.SpanKinds) == 0 {
		add("span_kinds is empty: no span would be audited")
	}
	if r := cfg.Region.Default; r != "" && !catalog.ValidRegionID(r) {
		add("region::default: invalid region id %q (want lower case like \"eu-de\")", r)
	}
	for _, a := range cfg.Attributes.lists() {
		if len(a.keys) == 0 {
			add("attributes::%s is empty: list at least one attribute key", a.name)
		}
		for i, k := range a.keys {
			switch {
			case strings.TrimSpace(k) == "":
				add("attributes::%s[%d] is empty", a.name, i)
			case Owned(k):
				add("attributes::%s[%d]: %q is in the audit. namespace, which the processor owns", a.name, i, k)
			}
		}
	}
	return errors.Join(errs...)
}

type keyList struct {
	name string
	keys []string
}

func (a *AttributesConfig) lists() []keyList {
	return []keyList{
		{"method", a.Method}, {"method_original", a.MethodOriginal}, {"route", a.Route},
		{"path", a.Path}, {"target", a.Target}, {"url", a.URL},
		{"status_code", a.StatusCode}, {"region", a.Region}, {"initiator", a.Initiator},
		{"client_address", a.ClientAddress}, {"user_agent", a.UserAgent},
		{"service_name", a.ServiceName}, {"server_address", a.ServerAddress}, {"host_header", a.HostHeader},
	}
}
