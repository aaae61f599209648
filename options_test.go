package auditprocessor

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/metadatatest"
)

// oneSpan makes a batch of one span in a resource with the given region
// ("" for none).
func oneSpan(region string, kind ptrace.SpanKind, attrs map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	if region != "" {
		rs.Resource().Attributes().PutStr("cloud.region", region)
	}
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(kind)
	s.SetName("span")
	if err := s.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return td
}

// runTraces processes td with cfg and returns what reached the next
// consumer (nothing when the batch was dropped whole).
func runTraces(t *testing.T, cfg *Config, td ptrace.Traces) (out []ptrace.Traces, r *audittest.Running) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	r = audittest.Start(t, NewFactory(), "traces", cfg)
	if o := r.Consume(t, td); o != nil {
		out = append(out, o.(ptrace.Traces))
	}
	return out, r
}

// auditAttrs returns the audit.* attributes of the batch's first span.
func auditAttrs(td ptrace.Traces) map[string]any {
	return audittest.AuditOnly(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes(), false)
}

var customizationsPOST = map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations", "http.response.status_code": int64(201)}

// expressUpperCase is what Express reports for GET /V1/Customizations, which
// it routes to /v1/customizations: no route, a span named GET.
var expressUpperCase = map[string]any{"http.request.method": "GET", "url.path": "/V1/Customizations", "http.response.status_code": int64(200)}
var backupPUT = map[string]any{"http.request.method": "PUT", "http.route": "/v2/data-protect/protection-groups/{id}/runs", "http.response.status_code": int64(200)}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		region string
		kind   ptrace.SpanKind
		attrs  map[string]any
		want   map[string]any // nil: dropped
	}{
		{"default keeps eu-de", nil, "eu-de", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"zone belongs to its region", nil, "eu-de-3", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"region is case-insensitive", nil, " EU-DE ", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"region the catalog does not list is dropped", nil, "mars-1", ptrace.SpanKindServer, customizationsPOST, nil},
		{"replace drops eu-de", func(c *Config) {
			c.Services = map[string]ServiceConfig{"speech-to-text": {Regions: []string{"eu-gb"}, RegionsMode: RegionsReplace}}
		}, "eu-de", ptrace.SpanKindServer, customizationsPOST, nil},
		{"replace keeps eu-gb", func(c *Config) {
			c.Services = map[string]ServiceConfig{"speech-to-text": {Regions: []string{"eu-gb"}, RegionsMode: RegionsReplace}}
		}, "eu-gb", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-gb"}},
		{"backup dropped by default", nil, "us-south", ptrace.SpanKindServer, backupPUT, nil},
		{"add a region to backup", func(c *Config) {
			c.Services = map[string]ServiceConfig{"backup-recovery": {Regions: []string{"us-south"}}}
		}, "us-south", ptrace.SpanKindServer, backupPUT,
			map[string]any{"audit.action": "backup-recovery.protection-group-run.update", "audit.outcome": "success", "audit.region": "us-south"}},
		{"missing region kept", nil, "", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success"}},
		{"missing region dropped", func(c *Config) { c.Region.OnMissing = PolicyDrop }, "", ptrace.SpanKindServer, customizationsPOST, nil},
		{"default region", func(c *Config) { c.Region.Default = "eu-de" }, "", ptrace.SpanKindServer, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"unmatched kept", nil, "eu-de", ptrace.SpanKindServer, map[string]any{"http.request.method": "GET", "url.path": "/healthz"}, map[string]any{}},
		{"unmatched dropped", func(c *Config) { c.Unmatched = PolicyDrop }, "eu-de", ptrace.SpanKindServer,
			map[string]any{"http.request.method": "GET", "url.path": "/healthz"}, nil},
		{"non-HTTP kept with unmatched drop", func(c *Config) { c.Unmatched = PolicyDrop }, "eu-de", ptrace.SpanKindServer,
			map[string]any{"db.system": "postgresql"}, map[string]any{}},
		{"internal not audited by default", nil, "eu-de", ptrace.SpanKindInternal, customizationsPOST, map[string]any{}},
		{"internal audited when configured", func(c *Config) { c.SpanKinds = []SpanKind{"internal"} }, "eu-de", ptrace.SpanKindInternal, customizationsPOST,
			map[string]any{"audit.action": "speech-to-text.custom-language-model.create", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"attribute keys overridden", func(c *Config) {
			c.Attributes.Method = []string{"clf.method"}
			c.Attributes.Path = []string{"clf.path"}
			c.Attributes.StatusCode = []string{"clf.status"}
		}, "eu-de", ptrace.SpanKindServer, map[string]any{"clf.method": "DELETE", "clf.path": "/v1/user_data", "clf.status": "500"},
			map[string]any{"audit.action": "speech-to-text.gdpr-user-data.delete", "audit.outcome": "failure", "audit.region": "eu-de"}},
		{"only the speech catalog", func(c *Config) { c.BuiltinCatalogs = []string{"speech-to-text"}; c.Unmatched = PolicyDrop },
			"us-south", ptrace.SpanKindServer, backupPUT, nil},
		{"case-sensitive by default", nil, "eu-de", ptrace.SpanKindServer, expressUpperCase, map[string]any{}},
		{"case_insensitive matches any case", func(c *Config) {
			c.Services = map[string]ServiceConfig{"speech-to-text": {CaseInsensitive: true}}
		}, "eu-de", ptrace.SpanKindServer, expressUpperCase,
			map[string]any{"audit.action": "speech-to-text.custom-language-model-list.read", "audit.outcome": "success", "audit.region": "eu-de"}},
		{"case_insensitive is per catalog", func(c *Config) {
			c.Services = map[string]ServiceConfig{"speech-to-text": {CaseInsensitive: true}, "backup-recovery": {Regions: []string{"us-south"}}}
		}, "us-south", ptrace.SpanKindServer, map[string]any{"http.request.method": "PUT", "url.path": "/V2/data-protect/protection-groups/7/runs"}, map[string]any{}},
		{"extra catalog file", func(c *Config) { c.CatalogFiles = []string{"testdata/catalogs/orders.yaml"} },
			"us-south", ptrace.SpanKindServer, map[string]any{"http.request.method": "GET", "http.route": "/api/orders/:order_id", "http.response.status_code": int64(404)},
			map[string]any{"audit.action": "orders.order.read", "audit.outcome": "failure", "audit.region": "us-south"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Fields = FieldsConfig{} // TestAuditFields checks them
			if tc.modify != nil {
				tc.modify(cfg)
			}
			out, _ := runTraces(t, cfg, oneSpan(tc.region, tc.kind, tc.attrs))
			if tc.want == nil {
				assert.Empty(t, out, "the batch should be dropped whole")
				return
			}
			require.Len(t, out, 1)
			assert.Equal(t, tc.want, auditAttrs(out[0]))
		})
	}
}

// TestEmptiedBatchIsSkipped checks that a batch left empty by drops does not
// reach the next consumer, and that the drops are counted by reason.
func TestEmptiedBatchIsSkipped(t *testing.T) {
	td := oneSpan("us-south", ptrace.SpanKindServer, customizationsPOST)
	oneSpan("", ptrace.SpanKindServer, customizationsPOST).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	oneSpan("eu-de", ptrace.SpanKindServer, map[string]any{"http.request.method": "GET", "url.path": "/nope"}).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	cfg := createDefaultConfig().(*Config)
	cfg.Region.OnMissing = PolicyDrop
	cfg.Unmatched = PolicyDrop
	out, r := runTraces(t, cfg, td)
	assert.Empty(t, out)
	metadatatest.AssertEqualProcessorAuditRecordsDropped(t, r.Tel, slices.Concat(
		audittest.Drops("traces", 1, "unsupported_region"), audittest.Drops("traces", 1, "missing_region"), audittest.Drops("traces", 1, "unmatched"),
	), metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorAuditRecordsMatched(t, r.Tel, audittest.Count("traces", 2), metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorAuditRecordsUnmatched(t, r.Tel, audittest.Count("traces", 1), metricdatatest.IgnoreTimestamp())
}

// TestEmptyBatchPassesThrough checks that what comes in empty is not dropped.
func TestEmptyBatchPassesThrough(t *testing.T) {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	out, _ := runTraces(t, createDefaultConfig().(*Config), td)
	require.Len(t, out, 1)
	assert.Equal(t, 1, out[0].ResourceSpans().At(0).ScopeSpans().Len())
}

// TestForgedAuditOnResourceAndScope checks that audit.* and audit itself (a
// map that a store flattening maps shows as audit.action) go from the
// resource, the scope and the record, for spans and log records, whether the
// record is audited (a matched HTTP record), not HTTP, or a span of a kind
// that is not audited; the other attributes of each level stay.
func TestForgedAuditOnResourceAndScope(t *testing.T) {
	records := []struct {
		name   string
		kind   ptrace.SpanKind
		attrs  map[string]any
		action any // audit.action after the processor; nil for none
	}{
		{"matched", ptrace.SpanKindServer, customizationsPOST, "speech-to-text.custom-language-model.create"},
		{"not HTTP", ptrace.SpanKindServer, map[string]any{"db.system": "postgresql"}, nil},
		{"span kind not audited", ptrace.SpanKindInternal, customizationsPOST, nil},
	}
	forge := func(m pcommon.Map, level string) {
		m.PutStr("audit.action", "forged on the "+level)
		m.PutStr("audit.region", "us-south")
		m.PutEmptyMap("audit").PutStr("action", "forged as a map on the "+level)
		m.PutStr(level+".kept", "yes")
	}
	for _, signal := range audittest.Signals {
		for _, rec := range records {
			if signal == "logs" && rec.kind != ptrace.SpanKindServer {
				continue // log records have no kind
			}
			t.Run(signal+"/"+rec.name, func(t *testing.T) {
				in := audittest.NewOne(t, signal, map[string]any{"cloud.region": "eu-de"}, rec.attrs, "")
				if signal == "traces" {
					in.Traces.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetKind(rec.kind)
				}
				resource, scope, record := in.Levels()
				forge(resource, "resource")
				forge(scope, "scope")
				forge(record, "record")
				r := audittest.Start(t, NewFactory(), signal, createDefaultConfig())
				out, kept := r.Run(t, in)
				require.True(t, kept)
				resource, scope, record = out.Levels()
				assert.Equal(t, map[string]any{"cloud.region": "eu-de", "resource.kept": "yes"}, resource.AsRaw())
				assert.Equal(t, map[string]any{"scope.kept": "yes"}, scope.AsRaw())
				got := record.AsRaw()
				want := maps.Clone(rec.attrs)
				want["record.kept"] = "yes"
				if rec.action != nil { // tagged: the processor's own audit.* attributes
					assert.Equal(t, rec.action, got["audit.action"])
					assert.Equal(t, "eu-de", got["audit.region"])
					for k, v := range got {
						if strings.HasPrefix(k, "audit.") {
							want[k] = v
						}
					}
				}
				assert.Equal(t, want, got)
				metadatatest.AssertEqualProcessorAuditAttributesRemoved(t, r.Tel, audittest.Count(signal, 9), metricdatatest.IgnoreTimestamp())
			})
		}
	}
}

// The region of a resource is normalised once per service and reused for its
// other records: records of both catalogs, interleaved in one resource, are
// each decided by their own service's regions, and nothing carries over to
// the next resource or to a region read from the record itself.
func TestResourceRegionPerService(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Services = map[string]ServiceConfig{"backup-recovery": {Regions: []string{"us-south"}}}
	td := ptrace.NewTraces()
	add := func(region string, spans ...map[string]any) {
		rs := td.ResourceSpans().AppendEmpty()
		if region != "" {
			rs.Resource().Attributes().PutStr("cloud.region", region)
		}
		ss := rs.ScopeSpans().AppendEmpty().Spans()
		for i, attrs := range spans {
			s := ss.AppendEmpty()
			s.SetKind(ptrace.SpanKindServer)
			s.SetName(fmt.Sprintf("%s/%d", region, i))
			require.NoError(t, s.Attributes().FromRaw(attrs))
		}
	}
	withRegion := func(attrs map[string]any, region string) map[string]any {
		out := maps.Clone(attrs)
		out["cloud.region"] = region
		return out
	}
	add(" US-SOUTH-1", customizationsPOST, backupPUT, customizationsPOST, backupPUT)
	add("eu-de", backupPUT, customizationsPOST)
	add("", withRegion(customizationsPOST, "eu-de"), withRegion(backupPUT, "eu-de"), withRegion(backupPUT, "us-south"))

	out, r := runTraces(t, cfg, td)
	require.Len(t, out, 1)
	got := map[string]any{}
	for _, rs := range out[0].ResourceSpans().All() {
		for _, s := range rs.ScopeSpans().At(0).Spans().All() {
			v, _ := s.Attributes().Get("audit.region")
			got[s.Name()] = v.AsRaw()
		}
	}
	assert.Equal(t, map[string]any{
		" US-SOUTH-1/1": "us-south", " US-SOUTH-1/3": "us-south", // backup sends from us-south, speech does not
		"eu-de/1": "eu-de",                   // speech sends from eu-de, backup does not
		"/0":      "eu-de", "/2": "us-south", // the record's own region
	}, got)
	metadatatest.AssertEqualProcessorAuditRecordsDropped(t, r.Tel,
		audittest.Drops("traces", 4, "unsupported_region"), metricdatatest.IgnoreTimestamp())
}
