package auditprocessor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// liveCatalog is version v of a catalog whose display name says its version.
func liveCatalog(v int) string {
	return fmt.Sprintf(`service: gadgets
display_name: Gadgets v%d
events:
  - {action: gadgets.gadget.create, method: POST, route: /v1/gadgets, description: Create a gadget}
`, v)
}

// TestSwapUnderLoad swaps the catalog again and again while goroutines
// consume traces and logs on one processor (run with -race): every record
// of a batch is decided by one catalog, old or new, and none is lost.
func TestSwapUnderLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	require.NoError(t, os.WriteFile(file, []byte(liveCatalog(1)), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	p, err := newAuditProcessor(processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))

	const goroutines, perBatch = 4, 50
	stop, done := make(chan struct{}), make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() { // a new version every few milliseconds, while the consumers run
		defer writer.Done()
		for v := 2; ; v++ {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			tmp := file + ".tmp"
			if os.WriteFile(tmp, []byte(liveCatalog(v)), 0o600) == nil {
				_ = os.Rename(tmp, file)
			}
		}
	}()

	var seen sync.Map // message -> true
	var records, batches atomic.Int64
	check := func(messages []string) {
		require.Len(t, messages, perBatch, "no record lost")
		for _, m := range messages {
			require.Equal(t, messages[0], m, "one catalog per batch")
		}
		seen.Store(messages[0], true)
		records.Add(int64(len(messages)))
		batches.Add(1)
	}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for !closed(done) {
				td := ptrace.NewTraces()
				rs := td.ResourceSpans().AppendEmpty()
				spans := rs.ScopeSpans().AppendEmpty().Spans()
				for range perBatch {
					s := spans.AppendEmpty()
					s.SetKind(ptrace.SpanKindServer)
					s.Attributes().PutStr("http.request.method", "POST")
					s.Attributes().PutStr("url.path", "/v1/gadgets")
				}
				out, err := p.processTraces(context.Background(), td)
				require.NoError(t, err)
				var messages []string
				for _, s := range out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().All() {
					v, _ := s.Attributes().Get("audit.message")
					messages = append(messages, v.Str())
				}
				check(messages)
			}
		}()
		go func() {
			defer wg.Done()
			for !closed(done) {
				ld := plog.NewLogs()
				recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
				for range perBatch {
					r := recs.AppendEmpty()
					r.Attributes().PutStr("http.request.method", "POST")
					r.Attributes().PutStr("url.path", "/v1/gadgets")
				}
				out, err := p.processLogs(context.Background(), ld)
				require.NoError(t, err)
				var messages []string
				for _, r := range out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
					v, _ := r.Attributes().Get("audit.message")
					messages = append(messages, v.Str())
				}
				check(messages)
				time.Sleep(time.Millisecond) // let the writer interleave
			}
		}()
	}
	versions := func() int {
		n := 0
		seen.Range(func(any, any) bool { n++; return true })
		return n
	}
	assert.Eventually(t, func() bool { return versions() >= 3 }, 10*time.Second, 10*time.Millisecond,
		"the catalog changes while the consumers run")
	close(done)
	wg.Wait()
	close(stop)
	writer.Wait()
	require.NoError(t, p.shutdown(context.Background()))
	assert.Equal(t, batches.Load()*perBatch, records.Load())
	t.Logf("%d batches, %d records, %d catalog versions", batches.Load(), records.Load(), versions())
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestReloadTelemetry: the processor's reload counters and the content in
// force, as the collector exposes them.
func TestReloadTelemetry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	require.NoError(t, os.WriteFile(file, []byte(liveCatalog(1)), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	tel := audittest.Start(t, NewFactory(), "traces", cfg).Tel

	reloads := func(result string) int64 {
		m, err := tel.GetMetric("otelcol_processor_audit_catalog_reloads")
		if err != nil {
			return 0
		}
		var n int64
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			if v, _ := dp.Attributes.Value("result"); v.AsString() == result {
				n += dp.Value
			}
		}
		return n
	}
	inForce := func() string {
		m, err := tel.GetMetric("otelcol_processor_audit_catalog_in_force")
		require.NoError(t, err)
		dps := m.Data.(metricdata.Gauge[int64]).DataPoints
		require.Len(t, dps, 1)
		f, _ := dps[0].Attributes.Value("catalog_file")
		assert.Equal(t, file, f.AsString())
		sum, _ := dps[0].Attributes.Value("sha256")
		return sum.AsString()
	}
	hash := func(content string) string {
		s := sha256.Sum256([]byte(content))
		return hex.EncodeToString(s[:])
	}
	assert.Equal(t, hash(liveCatalog(1)), inForce())
	require.NoError(t, os.WriteFile(file, []byte(liveCatalog(2)), 0o600))
	require.Eventually(t, func() bool { return reloads("success") == 1 }, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, hash(liveCatalog(2)), inForce())
	require.NoError(t, os.WriteFile(file, []byte("service: gadgets\nevents: ["), 0o600))
	require.Eventually(t, func() bool { return reloads("failure") == 1 }, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, hash(liveCatalog(2)), inForce(), "the last good content stays in force")
	require.NoError(t, os.Remove(file))
	require.Eventually(t, func() bool { return reloads("failure") == 2 }, 5*time.Second, 20*time.Millisecond, "a deleted file")
	assert.Equal(t, int64(1), reloads("success"))
}
