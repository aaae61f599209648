package auditprocessor

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/auditconnector"
	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// yamlBlocks returns the yaml code blocks of a Markdown file.
func yamlBlocks(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// readmeBlocks returns the README's yaml code blocks.
func readmeBlocks(t *testing.T) []string {
	blocks := yamlBlocks(t, "README.md")
	require.Len(t, blocks, 2, "the README's yaml examples: the pipeline and the catalog")
	return blocks
}

// catalogsBlocks returns docs/catalogs.md's yaml code blocks.
func catalogsBlocks(t *testing.T) []string {
	blocks := yamlBlocks(t, "docs/catalogs.md")
	require.Len(t, blocks, 2, "docs/catalogs.md's yaml examples: scoped catalogs and live catalogs")
	return blocks
}

// productionBlocks returns docs/production.md's yaml code blocks.
func productionBlocks(t *testing.T) []string {
	blocks := yamlBlocks(t, "docs/production.md")
	require.Len(t, blocks, 1, "docs/production.md's yaml example: the Pod spec that mounts the live catalogs' ConfigMap")
	return blocks
}

// TestReadmePipeline loads the README's pipeline example's audit section and
// creates the processor from it.
func TestReadmePipeline(t *testing.T) {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(readmeBlocks(t)[0]), &doc))
	procs := doc["processors"].(map[string]any)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(procs["audit"].(map[string]any)).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []string{"us-south"}, cfg.Services["backup-recovery"].Regions)
	_, err := NewFactory().CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	pipelines := doc["service"].(map[string]any)["pipelines"].(map[string]any)
	for _, name := range []string{"traces", "logs"} {
		assert.Equal(t, []any{"memory_limiter", "audit", "batch"}, pipelines[name].(map[string]any)["processors"])
	}
}

// TestReadmeEvents loads the connector README's example: the connector's
// configuration (the processor's, merged through the anchor, plus event)
// creates the connector, and the pipelines wire it as described: the
// connector is the traces pipeline's only exporter and carries the spans
// to traces/records after their events.
func TestReadmeEvents(t *testing.T) {
	blocks := yamlBlocks(t, "auditconnector/README.md")
	require.Len(t, blocks, 2, "the connector README's yaml examples: the pipeline, both formats")
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(blocks[0]), &doc))
	f := auditconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*auditconnector.Config)
	conn := doc["connectors"].(map[string]any)["audit"].(map[string]any)
	require.NoError(t, confmap.NewFromStringMap(conn).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []string{"us-south"}, cfg.Services["backup-recovery"].Regions, "merged from the processor's")
	assert.Equal(t, []string{"app.target.crn"}, cfg.Event.TargetID)
	assert.Equal(t, auditconnector.DefaultObserverName, cfg.Event.ObserverName)
	_, err := f.CreateTracesToLogs(t.Context(), connectortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	pipelines := doc["service"].(map[string]any)["pipelines"].(map[string]any)
	assert.Equal(t, []any{"audit"}, pipelines["traces"].(map[string]any)["exporters"])
	assert.Equal(t, []any{"audit"}, pipelines["traces/records"].(map[string]any)["receivers"])
	assert.Equal(t, []any{"audit"}, pipelines["logs/events"].(map[string]any)["receivers"])
}

// TestReadmeOCSF loads the connector README's example of both formats: the
// two connectors decode to the same shared keys (so they share one catalog)
// and differ in event.format, and the pipelines chain them: the spans go
// to the OCSF instance after their provider events, and to the records
// exporter after their OCSF events.
func TestReadmeOCSF(t *testing.T) {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(yamlBlocks(t, "auditconnector/README.md")[1]), &doc))
	f := auditconnector.NewFactory()
	cfgs := map[string]*auditconnector.Config{}
	for _, id := range []string{"audit", "audit/ocsf"} {
		cfg := f.CreateDefaultConfig().(*auditconnector.Config)
		require.NoError(t, confmap.NewFromStringMap(doc["connectors"].(map[string]any)[id].(map[string]any)).Unmarshal(cfg), id)
		require.NoError(t, confmap.Validate(cfg), id)
		_, err := f.CreateTracesToLogs(t.Context(), connectortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
		require.NoError(t, err, id)
		cfgs[id] = cfg
	}
	assert.Equal(t, auditconnector.FormatProvider, cfgs["audit"].Event.Format)
	assert.Equal(t, auditconnector.FormatOCSF, cfgs["audit/ocsf"].Event.Format)
	assert.Equal(t, cfgs["audit"].Config, cfgs["audit/ocsf"].Config, "the shared keys alike")
	assert.Equal(t, []string{"us-south"}, cfgs["audit/ocsf"].Services["backup-recovery"].Regions)
	pipelines := doc["service"].(map[string]any)["pipelines"].(map[string]any)
	wiring := map[string][2][]any{}
	for name, p := range pipelines {
		p := p.(map[string]any)
		wiring[name] = [2][]any{p["receivers"].([]any), p["exporters"].([]any)}
	}
	assert.Equal(t, map[string][2][]any{
		"traces":         {{"otlp"}, {"audit"}},
		"traces/ocsf":    {{"audit"}, {"audit/ocsf"}},
		"traces/records": {{"audit/ocsf"}, {"otlp_http"}},
		"logs/events":    {{"audit"}, {"otlp_http/events"}},
		"logs/ocsf":      {{"audit/ocsf"}, {"otlp_http/siem"}},
	}, wiring)
}

// TestReadmeScoped creates the processor from docs/catalogs.md's scoped catalogs
// example (its catalog file is the test catalog of that name), and checks
// that overlapping selectors are refused as the README says.
func TestReadmeScoped(t *testing.T) {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(catalogsBlocks(t)[0]), &doc))
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(doc["processors"].(map[string]any)["audit"].(map[string]any)).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []string{"catalogs/voices.yaml"}, cfg.CatalogFiles)
	cfg.CatalogFiles = []string{"testdata/catalogs/voices.yaml"}
	_, err := NewFactory().CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	cfg.Services["voices"] = ServiceConfig{ServiceNames: []string{"*-api"}}
	_, err = NewFactory().CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	assert.ErrorContains(t, err, `services::speech-to-text (builtin:speech-to-text, service_names ["stt-*"]) and services::voices (testdata/catalogs/voices.yaml, service_names ["*-api"]) can select the same records: duplicate route:`)
}

// TestReadmeLive loads docs/catalogs.md's live catalogs example, and checks that
// the ConfigMap example of docs/production.md mounts the directory its
// catalog_files name.
func TestReadmeLive(t *testing.T) {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(catalogsBlocks(t)[1]), &doc))
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(doc["processors"].(map[string]any)["audit"].(map[string]any)).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, createDefaultConfig().(*Config).Reload, cfg.Reload, "the values shown are the defaults")
	var pod struct {
		Containers []struct {
			VolumeMounts []struct {
				MountPath string `yaml:"mountPath"`
			} `yaml:"volumeMounts"`
		} `yaml:"containers"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(productionBlocks(t)[0]), &pod))
	require.Len(t, cfg.CatalogFiles, 1)
	assert.Equal(t, filepath.Dir(cfg.CatalogFiles[0]), pod.Containers[0].VolumeMounts[0].MountPath)
}

// TestReadmeCatalog parses and compiles the README's catalog example.
func TestReadmeCatalog(t *testing.T) {
	c, err := catalog.Parse("README.md", []byte(readmeBlocks(t)[1]))
	require.NoError(t, err)
	m, err := catalog.Compile(c)
	require.NoError(t, err)
	assert.Equal(t, "orders.order.cancel", m.MatchPath("POST", "/api/orders/o-1/cancel/").Action)
	assert.Equal(t, "orders.order.create", m.MatchRoute("POST", "/api/orders").Action)
	assert.Len(t, c.Events, 3)
}
