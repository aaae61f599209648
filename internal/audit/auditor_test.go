package audit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// writeCatalog writes a catalog file into a test's directory.
func writeCatalog(t testing.TB, name, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(file, []byte(body), 0o600))
	return file
}

const gizmos = `service: gizmos
events:
  - {action: gizmos.gizmo.create, method: POST, route: /v1/gizmos, description: Create a gizmo}
`

// decideIn decides a POST /v1/gizmos from region.
func decideIn(t *testing.T, a *Auditor, region string) Decision {
	t.Helper()
	res := pcommon.NewMap()
	res.PutStr("cloud.region", region)
	attrs := pcommon.NewMap()
	attrs.PutStr("http.request.method", "POST")
	attrs.PutStr("url.path", "/v1/gizmos")
	r := a.NewResource(res)
	lr := plog.NewLogRecord()
	attrs.MoveTo(lr.Attributes())
	v := LogView(lr)
	return a.Decide(&v, &r)
}

// TestCatalogWithoutRegions: a catalog that states no regions keeps its
// records from every region, until services.NAME.regions names some; then
// only those, and any well-formed region id may be named.
func TestCatalogWithoutRegions(t *testing.T) {
	file := writeCatalog(t, "gizmos.yaml", gizmos)
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	a, err := Load(&cfg)
	require.NoError(t, err)
	for _, region := range []string{"eu-de", "ap-north", "xx-nowhere-3"} {
		d := decideIn(t, a, region)
		assert.Equal(t, Matched, d.Result, region)
		assert.Equal(t, Keep, d.Drop, region)
	}
	every, ids := a.SendsFrom(a.Matcher().Catalogs()[0])
	assert.True(t, every)
	assert.Empty(t, ids)

	cfg.Services = map[string]ServiceConfig{"gizmos": {Regions: []string{"ap-north"}}}
	a, err = Load(&cfg)
	require.NoError(t, err)
	assert.Equal(t, Keep, decideIn(t, a, "ap-north").Drop)
	assert.Equal(t, Keep, decideIn(t, a, "AP-NORTH-2").Drop, "a zone of a named region")
	assert.Equal(t, DropUnsupportedRegion, decideIn(t, a, "eu-de").Drop)

	cfg.Services = map[string]ServiceConfig{"gizmos": {RegionsMode: RegionsReplace}}
	a, err = Load(&cfg)
	require.NoError(t, err)
	assert.Equal(t, DropUnsupportedRegion, decideIn(t, a, "eu-de").Drop, "replace with none: no region")
}

// TestAuditsKindsExactly: a span kind outside the five (10, whose low bits
// are SERVER's) is never audited.
func TestAuditsKindsExactly(t *testing.T) {
	cfg := NewDefaultConfig()
	a, err := Load(&cfg)
	require.NoError(t, err)
	audits := func(k ptrace.SpanKind) bool {
		s := ptrace.NewSpan()
		s.SetKind(k)
		v := SpanView(s)
		return a.Audits(&v)
	}
	assert.True(t, audits(ptrace.SpanKindServer))
	assert.False(t, audits(ptrace.SpanKindClient))
	for _, k := range []ptrace.SpanKind{10, -6, 8, 1 << 20} {
		assert.False(t, audits(k), "kind %d", k)
	}
	v := LogView(plog.NewLogRecord())
	assert.True(t, a.Audits(&v), "a log record is always audited")
}
