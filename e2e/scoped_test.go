package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// Three services serve the same customization routes: stt-api (the
// speech-to-text catalog, scoped to stt-*), voices-api (the voices test
// catalog, scoped to voices-*) and other-api (neither).
func init() {
	for _, s := range []string{"stt-api", "voices-api", "other-api"} {
		routesAs[s] = stt
	}
}

func TestScopedCatalogs(t *testing.T) {
	binary := collectorBinary(t)
	voices, err := filepath.Abs("../testdata/catalogs/voices.yaml")
	require.NoError(t, err)
	backend := startBackend(t, "")
	events := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
		AuditConfig: fmt.Sprintf(`
catalog_files: [%q]
services:
  speech-to-text:
    service_names: ["stt-*"]
  voices:
    service_names: ["voices-*"]
`, voices),
	})

	type sent struct {
		service, method, target, want string
		trace                         pcommon.TraceID
	}
	reqs := []sent{
		{service: "stt-api", method: "POST", target: "/v1/customizations", want: "speech-to-text.custom-language-model.create"},
		{service: "stt-api", method: "GET", target: "/v1/customizations/c-1", want: "speech-to-text.custom-language-model.read"},
		{service: "voices-api", method: "POST", target: "/v1/customizations", want: "voices.custom-model.create"},
		{service: "voices-api", method: "GET", target: "/v1/customizations/c-1", want: "voices.custom-model.read"},
		{service: "other-api", method: "POST", target: "/v1/customizations"},
		{service: "other-api", method: "GET", target: "/v1/customizations/c-1"},
	}
	var asRequests []request
	for _, r := range reqs {
		asRequests = append(asRequests, request{service: r.service, region: "eu-de", method: r.method, target: r.target})
	}
	apps := startFleet(t, asRequests, col.GRPCEndpoint, col.HTTPEndpoint, nil)
	for i, r := range asRequests {
		reqs[i].trace = send(t, apps.url(r), r)
	}
	apps.flush(t)
	want := 0
	for _, r := range reqs {
		if r.want != "" {
			want++
		}
	}
	m := waitEvents(t, col.MetricsURL, want)
	require.Eventually(t, func() bool { return backend.Count("traces") == len(reqs) && backend.Count("logs") == len(reqs) },
		10*time.Second, 50*time.Millisecond, "every span and access log exported")

	byTrace := map[pcommon.TraceID][]harness.Record{}
	for _, rec := range backend.Records() {
		byTrace[rec.TraceID] = append(byTrace[rec.TraceID], rec)
	}
	eventsByTrace := map[pcommon.TraceID][]harness.Record{}
	for _, rec := range events.Records() {
		eventsByTrace[rec.TraceID] = append(eventsByTrace[rec.TraceID], rec)
	}
	for _, r := range reqs {
		name := r.service + " " + r.method + " " + r.target
		recs := byTrace[r.trace]
		require.Len(t, recs, 2, "%s: a span and an access log", name)
		for _, rec := range recs {
			assert.Equal(t, r.service, resourceStr(rec, "service.name"), name)
			assert.Equal(t, r.want, rec.Str("audit.action"), "%s %s", name, rec.Signal)
		}
		evs := eventsByTrace[r.trace]
		if r.want == "" {
			assert.Empty(t, evs, "%s: no event", name)
			continue
		}
		if assert.Len(t, evs, 1, "%s: one event", name) {
			assert.Equal(t, r.want, evs[0].Body.Map().AsRaw()["action"], name)
		}
	}
	for _, s := range signals {
		sig := map[string]string{"signal": s.signal}
		assert.Equal(t, float64(2), m.Sum("otelcol_processor_audit_records_unselected", sig), "other-api's %s", s.signal)
		assert.Equal(t, float64(4), m.Sum("otelcol_processor_audit_records_matched", sig), s.signal)
	}
}
