package auditprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

func loadConfig(t *testing.T, file string, id component.ID) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", file))
	require.NoError(t, err)
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		id   component.ID
		want *Config
	}{
		{component.NewID(metadata.Type), createDefaultConfig().(*Config)},
		{component.NewIDWithName(metadata.Type, "full"), &Config{Config: audit.Config{
			BuiltinCatalogs: []string{"speech-to-text"},
			CatalogFiles:    []string{"testdata/catalogs/orders.yaml"},
			Services: map[string]ServiceConfig{
				"backup-recovery": {Regions: []string{"us-south", "eu-de"}},
				"speech-to-text": {Regions: []string{"eu-gb"}, RegionsMode: RegionsReplace, CaseInsensitive: true,
					ServiceNames: []string{"stt-*", "speech-api"}, Hosts: []string{"stt.*.example"}},
			},
			SpanKinds: []SpanKind{"server", "consumer"},
			Region:    RegionConfig{Default: "eu-de", OnMissing: PolicyDrop},
			Unmatched: PolicyDrop,
			Attributes: AttributesConfig{
				Method:         []string{"clf.method"},
				MethodOriginal: []string{"http.request.method_original"},
				Route:          []string{"http.route", "route"},
				Path:           []string{"clf.path"},
				Target:         []string{"http.target"},
				URL:            []string{"url.full", "http.url"},
				StatusCode:     []string{"http.response.status_code", "http.status_code"},
				Region:         []string{"cloud.region"},
				Initiator:      []string{"enduser.id"},
				ClientAddress:  []string{"client.address", "http.request.header.x-forwarded-for", "http.client_ip", "net.sock.peer.addr", "net.peer.ip"},
				UserAgent:      []string{"user_agent.original", "http.user_agent"},
				ServiceName:    []string{"app.name", "service.name"},
				ServerAddress:  []string{"server.address"},
				HostHeader:     []string{"http.host"},
			},
			Fields: FieldsConfig{Severity: true, ReasonCode: true, TargetType: false, Message: false, InitiatorID: true},
			Reload: audit.ReloadConfig{Enabled: true, PollInterval: 2 * time.Second},
			Limits: audit.LimitsConfig{MaxCatalogFileSize: 1 << 20, CatalogReadTimeout: 3 * time.Second, ServiceNameCacheSize: 64 << 10},
		}}},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg, err := loadConfig(t, "config.yaml", tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, []string{"backup-recovery", "speech-to-text"}, cfg.BuiltinCatalogs)
	assert.Equal(t, []SpanKind{"server"}, cfg.SpanKinds)
	assert.Equal(t, PolicyKeep, cfg.Unmatched)
	assert.Equal(t, PolicyKeep, cfg.Region.OnMissing)
	assert.Equal(t, FieldsConfig{Severity: true, ReasonCode: true, TargetType: true, Message: true, InitiatorID: true}, cfg.Fields)
	assert.Equal(t, []string{"enduser.id", "user.id"}, cfg.Attributes.Initiator)
	assert.NoError(t, cfg.Validate())
}

// TestInvalidConfig holds the exact message of each mistake in a
// configuration file, every one naming its key in one spelling (keys.go in
// internal/audit): enums and types rejected when the file is decoded, the
// other rules by Validate. Decoding errors reach the user behind the
// collector's own preamble, which loadConfig leaves out.
func TestInvalidConfig(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"invalid_policy.yaml", `unmatched: must be keep or drop, got "kepp"`},
		{"invalid_on_missing.yaml", `region::on_missing: must be keep or drop, got "discard"`},
		{"invalid_span_kind.yaml", `span_kinds[1]: must be one of client, consumer, internal, producer, server, got "serve"`},
		{"invalid_regions_mode.yaml", `services::speech-to-text::regions_mode: must be add or replace, got "merge"`},
		{"invalid_unknown_key.yaml", "catalogs: unknown key"},
		{"invalid_typo.yaml", "attributes::metod: unknown key (did you mean method?)\nservices::speech-to-text::regons: unknown key (did you mean regions?)\nunmached: unknown key (did you mean unmatched?)"},
		{"invalid_type.yaml", "services::speech-to-text::case_insensitive: expected type 'bool', got unconvertible type 'string'\nreload::poll_interval: time: invalid duration"},
		{"invalid_builtin.yaml", `builtin_catalogs[1]: unknown built-in catalog "text-to-speech" (built in: backup-recovery, speech-to-text)`},
		{"invalid_no_catalog.yaml", "builtin_catalogs and catalog_files are both empty: there is no catalog to match against"},
		{"invalid_empty_span_kinds.yaml", "span_kinds is empty: no span would be audited"},
		{"invalid_region_id.yaml", "services::speech-to-text::regions[0]: invalid region id \"eu de\" (want lower case like \"eu-de\")\nregion::default: invalid region id \"EU_DE\" (want lower case like \"eu-de\")"},
		{"invalid_glob.yaml", `services::speech-to-text::service_names[0]: invalid pattern "stt-[a-" (path.Match syntax: *, ?, [a-z], \ escapes): syntax error in pattern`},
		{"invalid_interval.yaml", "reload::poll_interval must be 0 (off) or positive, got -5s"},
		{"invalid_limits.yaml", "limits::max_catalog_file_size must be positive, got 0\nlimits::catalog_read_timeout must be positive, got -1s\nlimits::service_name_cache_size must be 0 (off) or positive, got -1"},
		{"invalid_attribute_key.yaml", "attributes::method is empty: list at least one attribute key\nattributes::route[0]: \"audit.route\" is in the audit. namespace, which the processor owns"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := loadConfig(t, tc.file, component.NewID(metadata.Type))
			require.Error(t, err)
			msg, _ := strings.CutPrefix(err.Error(), "decoding failed due to the following error(s):\n\n")
			for strings.HasPrefix(msg, "'' ") { // the collector's path of the component's root
				msg = msg[3:]
			}
			assert.Equal(t, tc.want, msg)
		})
	}
}

// TestCreateRejects covers what is checked when the processor is created:
// catalog files, and service names and region ids against the catalogs.
func TestCreateRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"missing file", func(c *Config) { c.CatalogFiles = []string{"testdata/catalogs/nope.yaml"} },
			"catalog_files[0]: open testdata/catalogs/nope.yaml: no such file or directory"},
		{"broken catalog", func(c *Config) { c.CatalogFiles = []string{"catalog/testdata/unknown_method.yaml"} },
			`catalog_files[0]: catalog catalog/testdata/unknown_method.yaml: events[0] (line 5, demo.thing.fetch): unknown method "FETCH" (want one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT)`},
		{"conflicting routes", func(c *Config) { c.CatalogFiles = []string{"testdata/catalogs/conflict.yaml"} },
			"ambiguous routes: testdata/catalogs/conflict.yaml:6 (conflict.item.read GET /api/{kind}/items) and testdata/catalogs/conflict.yaml:9 (conflict.order.read GET /api/orders/{id}) both match GET /api/orders/items and neither is more specific"},
		{"route of a built-in", func(c *Config) { c.CatalogFiles = []string{"testdata/catalogs/duplicate-speech.yaml"} },
			"duplicate route: builtin:speech-to-text:19 (speech-to-text.custom-language-model.create POST /v1/customizations) and testdata/catalogs/duplicate-speech.yaml:6 (speech-copy.model.create POST /v1/customizations) match the same paths, e.g. POST /v1/customizations"},
		{"unknown service", func(c *Config) { c.Services = map[string]ServiceConfig{"text-to-speech": {Regions: []string{"eu-de"}}} },
			`services::text-to-speech: no loaded catalog describes service "text-to-speech" (loaded: backup-recovery, speech-to-text)`},
		{"unknown region", func(c *Config) {
			c.Services = map[string]ServiceConfig{"backup-recovery": {Regions: []string{"eu-fr2"}}}
		},
			"services::backup-recovery::regions[0]: unknown region id \"eu-fr2\": catalog builtin:backup-recovery lists us-south, us-east, ca-tor, br-sao, jp-tok, au-syd, jp-osa, in-che, eu-de, eu-gb, eu-es"},
		{"unknown default region", func(c *Config) { c.Region.Default = "mars-north" },
			`region::default: unknown region id "mars-north": no loaded catalog lists it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tc.modify(cfg)
			require.NoError(t, cfg.Validate())
			_, err := NewFactory().CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			assert.EqualError(t, err, tc.want)
			_, err = NewFactory().CreateLogs(t.Context(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			assert.EqualError(t, err, tc.want)
		})
	}
}
