package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// gadgetsCatalog is a catalog with POST /v1/gadgets and, with widgets,
// POST /v1/widgets.
func gadgetsCatalog(widgets bool) string {
	s := `service: gadgets
events:
  - {action: gadgets.gadget.create, method: POST, route: /v1/gadgets, description: Create a gadget}
`
	if widgets {
		s += "  - {action: gadgets.widget.create, method: POST, route: /v1/widgets, description: Create a widget}\n"
	}
	return s
}

// kubeletMount lays a catalog out as the kubelet mounts a ConfigMap key and
// updates it as the kubelet does: a new timestamped directory, then ..data
// swapped to it with a rename.
type kubeletMount struct {
	t   *testing.T
	dir string
	n   int
}

func (k *kubeletMount) update(content string) {
	k.n++
	ts := fmt.Sprintf("..2026_11_27_12_00_%02d.%d", k.n, k.n)
	require.NoError(k.t, os.Mkdir(filepath.Join(k.dir, ts), 0o755))
	require.NoError(k.t, os.WriteFile(filepath.Join(k.dir, ts, "gadgets.yaml"), []byte(content), 0o644))
	tmp := filepath.Join(k.dir, "..data_tmp")
	require.NoError(k.t, os.Symlink(ts, tmp))
	require.NoError(k.t, os.Rename(tmp, filepath.Join(k.dir, "..data")))
}

// TestLiveCatalog: a route the catalog lacks is unmatched; the catalog, a
// ConfigMap-style symlink, gains the route; within a few seconds the same
// route is tagged, with no restart; an invalid catalog then changes
// nothing, and the collector keeps running.
func TestLiveCatalog(t *testing.T) {
	binary := collectorBinary(t)
	mount := &kubeletMount{t: t, dir: t.TempDir()}
	mount.update(gadgetsCatalog(false))
	file := filepath.Join(mount.dir, "gadgets.yaml")
	require.NoError(t, os.Symlink(filepath.Join("..data", "gadgets.yaml"), file))

	backend := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, ExportEndpoint: backend.URL,
		AuditConfig: fmt.Sprintf("builtin_catalogs: []\ncatalog_files: [%q]\nreload:\n  poll_interval: 0s\n", file),
	})

	n := 0
	// widget sends POST /v1/widgets and returns what the backend got for it.
	widget := func() string {
		n++
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetTraceID(pcommon.TraceID{0x1e, 15: byte(n)})
		s.SetSpanID(pcommon.SpanID{0x1e, 7: byte(n)})
		s.SetName("POST /v1/widgets")
		s.Attributes().PutStr("http.request.method", "POST")
		s.Attributes().PutStr("http.route", "/v1/widgets")
		s.Attributes().PutInt("http.response.status_code", 201)
		require.NoError(t, harness.ExportTraces(t.Context(), plainClient, "http://"+col.HTTPEndpoint, td))
		var got harness.Record
		require.Eventually(t, func() bool {
			for _, r := range backend.Records() {
				if r.SpanID == s.SpanID() {
					got = r
					return true
				}
			}
			return false
		}, 10*time.Second, 20*time.Millisecond)
		return got.Str("audit.action")
	}
	reloads := func(result string) float64 {
		return scrape(t, col.MetricsURL).Sum("otelcol_processor_audit_catalog_reloads", map[string]string{"result": result})
	}

	assert.Equal(t, "", widget(), "the catalog has no widgets yet")
	mount.update(gadgetsCatalog(true))
	require.Eventually(t, func() bool { return reloads("success") == 1 }, 10*time.Second, 50*time.Millisecond,
		"one reload, which the traces and the logs processor share (one catalog state per configuration)")
	assert.Equal(t, "gadgets.widget.create", widget(), "tagged after the ConfigMap swap, with no restart")

	mount.update("service: gadgets\nevents: [")
	require.Eventually(t, func() bool { return reloads("failure") == 1 }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, "gadgets.widget.create", widget(), "the last good catalog stays")
	resp, err := plainClient.Get(col.MetricsURL)
	require.NoError(t, err, "the collector keeps running")
	resp.Body.Close()
	m := scrape(t, col.MetricsURL)
	good := sha256.Sum256([]byte(gadgetsCatalog(true)))
	assert.Positive(t, m.Sum("otelcol_processor_audit_catalog_in_force",
		map[string]string{"catalog_file": file, "sha256": hex.EncodeToString(good[:])}), "the last good content is in force")
	assert.Equal(t, m.Sum("otelcol_processor_audit_catalog_in_force", map[string]string{"catalog_file": file}),
		m.Sum("otelcol_processor_audit_catalog_in_force", map[string]string{"catalog_file": file, "sha256": hex.EncodeToString(good[:])}),
		"and no other content")
}
