package auditprocessor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/metadata"
	"github.com/otel-audit/auditprocessor/internal/metadatatest"
)

// counts are what the processor counts for records, with strictConfig.
type counts struct{ matched, unmatched, malformed, dropped int64 }

func (c *counts) add(o counts) {
	c.matched += o.matched
	c.unmatched += o.unmatched
	c.malformed += o.malformed
	c.dropped += o.dropped
}

// recordKinds is the mix of a generated batch: what each record is, the
// attributes it carries (the region goes on the resource), and what the
// processor counts for it.
var recordKinds = []struct {
	region string
	attrs  map[string]any
	want   counts
}{
	{"eu-de", map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations", "http.response.status_code": int64(201)}, counts{matched: 1}},
	{"eu-de", map[string]any{"http.method": "GET", "http.route": "/v1/customizations/:id/words/:word", "http.status_code": int64(404)}, counts{matched: 1}},
	{"us-south", map[string]any{"http.request.method": "GET", "url.path": "/v1/recognitions/7"}, counts{matched: 1, dropped: 1}},                     // region sends no events
	{"eu-de", map[string]any{"http.request.method": "PUT", "url.path": "/v2/data-protect/protection-groups/7/runs"}, counts{matched: 1, dropped: 1}}, // region sends no events
	{"", map[string]any{"http.request.method": "DELETE", "url.path": "/v1/user_data"}, counts{matched: 1, dropped: 1}},                               // missing region
	{"eu-de", map[string]any{"http.request.method": "GET", "url.path": "/healthz"}, counts{unmatched: 1, dropped: 1}},
	{"eu-de", map[string]any{"db.system": "postgresql"}, counts{}},                                                     // not HTTP: kept
	{"eu-de", map[string]any{"http.request.method": int64(3), "url.path": "/v1/customizations"}, counts{malformed: 1}}, // kept
	{"eu-de", map[string]any{"http.request.method": "GET", "url.path": "/v1/a%zz"}, counts{malformed: 1}},              // kept
}

// makeTraces builds a batch of n spans over a few resources, record i of
// kind (i+offset) mod len(recordKinds).
func makeTraces(n, offset int) ptrace.Traces {
	td := ptrace.NewTraces()
	byRegion := map[string]ptrace.SpanSlice{}
	for i := range n {
		k := recordKinds[(i+offset)%len(recordKinds)]
		spans, ok := byRegion[k.region]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			if k.region != "" {
				rs.Resource().Attributes().PutStr("cloud.region", k.region)
			}
			spans = rs.ScopeSpans().AppendEmpty().Spans()
			byRegion[k.region] = spans
		}
		s := spans.AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetName(fmt.Sprintf("span %d", i))
		_ = s.Attributes().FromRaw(k.attrs)
	}
	return td
}

func makeLogs(n, offset int) plog.Logs {
	ld := plog.NewLogs()
	byRegion := map[string]plog.LogRecordSlice{}
	for i := range n {
		k := recordKinds[(i+offset)%len(recordKinds)]
		records, ok := byRegion[k.region]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			if k.region != "" {
				rl.Resource().Attributes().PutStr("cloud.region", k.region)
			}
			records = rl.ScopeLogs().AppendEmpty().LogRecords()
			byRegion[k.region] = records
		}
		_ = records.AppendEmpty().Attributes().FromRaw(k.attrs)
	}
	return ld
}

func strictConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Unmatched = PolicyDrop
	cfg.Region.OnMissing = PolicyDrop
	return cfg
}

// TestAccountingMillionRecords pushes 1,000,000 spans through the processor
// and checks that in = passed on + dropped, exactly, and that the counters
// agree with what the next consumer received.
func TestAccountingMillionRecords(t *testing.T) {
	const total, batch = 1_000_000, 1000
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	var passed atomic.Int64
	next, err := consumer.NewTraces(func(_ context.Context, td ptrace.Traces) error {
		passed.Add(int64(td.SpanCount()))
		return nil
	})
	require.NoError(t, err)
	p, err := NewFactory().CreateTraces(t.Context(), metadatatest.NewSettings(tel), strictConfig(), next)
	require.NoError(t, err)
	templates := make([]ptrace.Traces, 7) // batch sizes that do not divide the mix evenly
	for i := range templates {
		templates[i] = makeTraces(batch, i)
	}
	for i := 0; i < total/batch; i++ {
		td := ptrace.NewTraces()
		templates[i%len(templates)].CopyTo(td)
		require.NoError(t, p.ConsumeTraces(t.Context(), td))
	}
	require.NoError(t, p.Shutdown(context.Background()))

	// what the rows of the mix say each counter must be, exactly
	var want counts
	for i := 0; i < total/batch; i++ {
		for j := range batch {
			want.add(recordKinds[(j+i%len(templates))%len(recordKinds)].want)
		}
	}
	dropped := audittest.Counter(t, tel, "records_dropped", "traces")
	assert.Equal(t, int64(total), passed.Load()+dropped, "in = passed on + dropped")
	assert.Equal(t, want.dropped, dropped)
	assert.Equal(t, want.matched, audittest.Counter(t, tel, "records_matched", "traces"))
	assert.Equal(t, want.unmatched, audittest.Counter(t, tel, "records_unmatched", "traces"))
	assert.Equal(t, want.malformed, audittest.Counter(t, tel, "records_malformed", "traces"))
	// the collector's own item counters agree
	in, out := itemCount(t, tel, "otelcol_processor_incoming_items"), itemCount(t, tel, "otelcol_processor_outgoing_items")
	assert.Equal(t, int64(total), in)
	assert.Equal(t, passed.Load(), out)
}

func itemCount(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err)
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

// TestConcurrentUse consumes traces and logs from many goroutines on one
// processor instance (run with -race).
func TestConcurrentUse(t *testing.T) {
	p, err := newAuditProcessor(processortest.NewNopSettings(metadata.Type), strictConfig())
	require.NoError(t, err)
	const goroutines, rounds = 8, 30
	var wg sync.WaitGroup
	var kept atomic.Int64
	for g := range goroutines {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for r := range rounds {
				td, err := p.processTraces(context.Background(), makeTraces(90, g+r))
				if err == nil {
					kept.Add(int64(td.SpanCount()))
				}
			}
		}()
		go func() {
			defer wg.Done()
			for r := range rounds {
				ld, err := p.processLogs(context.Background(), makeLogs(90, g+r))
				if err == nil {
					kept.Add(int64(ld.LogRecordCount()))
				}
			}
		}()
	}
	wg.Wait()
	// 90 records hold each of the 9 kinds 10 times
	var perKind counts
	for _, k := range recordKinds {
		perKind.add(k.want)
	}
	assert.Equal(t, 2*goroutines*rounds*10*(int64(len(recordKinds))-perKind.dropped), kept.Load())
	require.NoError(t, p.shutdown(context.Background()))
}

// TestLifecycleEdges: shutdown without start, twice, and a cancelled context.
func TestLifecycleEdges(t *testing.T) {
	f := NewFactory()
	tp, err := f.CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.NoError(t, tp.Shutdown(context.Background()))
	assert.NoError(t, tp.Shutdown(context.Background()))

	lp, err := f.CreateLogs(t.Context(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, lp.Start(ctx, componenttest.NewNopHost()))
	assert.NoError(t, lp.ConsumeLogs(ctx, makeLogs(9, 0)))
	assert.NoError(t, lp.Shutdown(ctx))
	assert.NoError(t, lp.Shutdown(ctx))
}

var errNext = errors.New("next consumer failed")

// TestNextConsumerErrorIsReturned: an error of the next consumer reaches
// the caller (the receiver), which can then tell its client to retry.
func TestNextConsumerErrorIsReturned(t *testing.T) {
	in, err := golden.ReadTraces(filepath.Join("testdata", "traces_input.yaml"))
	require.NoError(t, err)
	p, err := NewFactory().CreateTraces(t.Context(), metadatatest.NewSettings(componenttest.NewTelemetry()), createDefaultConfig(), consumertest.NewErr(errNext))
	require.NoError(t, err)
	assert.ErrorIs(t, p.ConsumeTraces(t.Context(), in), errNext)
}
