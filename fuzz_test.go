package auditprocessor

import (
	"context"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// FuzzConfig checks that unmarshalling and validating any YAML never panics.
func FuzzConfig(f *testing.F) {
	f.Add("unmatched: drop\nregion: {default: eu-de, on_missing: drop}\n")
	f.Add("services: {backup-recovery: {regions: [us-south], regions_mode: replace}}\nspan_kinds: [server, internal]\n")
	f.Add("attributes: {method: [clf.method], route: []}\nbuiltin_catalogs: [nope]\n")
	f.Fuzz(func(t *testing.T, text string) {
		var raw map[string]any
		if yaml.Unmarshal([]byte(text), &raw) != nil {
			return
		}
		cfg := createDefaultConfig().(*Config)
		if confmap.NewFromStringMap(raw).Unmarshal(cfg) != nil {
			return
		}
		_ = confmap.Validate(cfg)
	})
}

// FuzzProcess checks that any method, path, route, status and region pass
// through without a panic, and that every record is either passed on or
// dropped and counted.
func FuzzProcess(f *testing.F) {
	f.Add("POST", "/v1/customizations", "", "201", "eu-de", "")
	f.Add("_OTHER", "/v1/a%zz", "/v1/{x}", "abc", "EU-DE-2", "GET /v1/recognitions/{id}")
	f.Add("put", "//v2/data-protect/protection-groups/7/runs/", ":id", "-1", "us-south", "PUT")
	p, err := newAuditProcessor(processortest.NewNopSettings(metadata.Type), createDefaultConfig().(*Config))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, route, status, region, name string) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("cloud.region", region)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetName(name)
		a := s.Attributes()
		a.PutStr("http.request.method", method)
		a.PutStr("url.path", path)
		if route != "" {
			a.PutStr("http.route", route)
		}
		if n, err := strconv.ParseInt(status, 10, 64); err == nil {
			a.PutInt("http.response.status_code", n)
		} else {
			a.PutStr("http.status_code", status)
		}
		a.PutStr("audit.action", "forged")
		out, err := p.processTraces(context.Background(), td)
		if err == nil {
			if out.SpanCount() != 1 {
				t.Fatalf("kept batch has %d spans", out.SpanCount())
			}
			if v, ok := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("audit.action"); ok && v.Str() == "forged" {
				t.Fatal("forged audit.action survived")
			}
		}
		ld := plog.NewLogs()
		r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		r.Attributes().PutStr("http.method", method)
		r.Attributes().PutStr("http.target", path)
		r.Attributes().PutStr("http.route", route)
		_, _ = p.processLogs(context.Background(), ld)
	})
}
