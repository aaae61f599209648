package auditprocessor

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// TestHostileServiceNames: a sender posts 10,000 resources with distinct
// service.name values of 100 KB each to a processor with a scoped catalog
// (the selection of each name used to be cached, by count only, never
// evicted: 1 GB here). The heap stays under 64 MB, then 20,000 distinct
// short names fill the bounded cache and evictions are counted, and the
// next ordinary request is audited.
func TestHostileServiceNames(t *testing.T) {
	if testing.Short() {
		t.Skip("drives 1 GB of service names")
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Services = map[string]ServiceConfig{"speech-to-text": {ServiceNames: []string{"stt-*"}}}
	r := audittest.Start(t, NewFactory(), "traces", cfg)

	send := func(name, path string) ptrace.Span {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", name)
		rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("http.request.method", "POST")
		s.Attributes().PutStr("url.path", path)
		require.NoError(t, r.Traces.ConsumeTraces(context.Background(), td))
		return s
	}
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	for i := range 10_000 {
		copy(big, fmt.Sprintf("stt-%08d-", i))
		send(string(big), "/v1/customizations")
	}
	r.TracesSink.Reset()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap after 10,000 names of 100 KB: %.1f MB", float64(ms.HeapAlloc)/(1<<20))
	assert.Less(t, ms.HeapAlloc, uint64(64<<20), "the heap is bounded")

	for i := range 20_000 {
		send(fmt.Sprintf("svc-%08d-%s", i, big[:64]), "/v1/customizations")
	}
	evicted := r.Counter(t, "service_names_evicted", "")
	assert.Positive(t, evicted, "the cache evicts, and counts what it evicts")
	t.Logf("evicted: %d of 20,000 short names", evicted)

	r.TracesSink.Reset()
	send("stt-api", "/v1/customizations")
	out := r.TracesSink.AllTraces()
	require.Len(t, out, 1)
	v, ok := out[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("audit.action")
	require.True(t, ok, "the next ordinary request is audited")
	assert.Equal(t, "speech-to-text.custom-language-model.create", v.Str())
}
