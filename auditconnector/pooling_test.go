package auditconnector

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/xpdata/pref"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
)

// TestHoldsTheBatchWhilePooled: with pdata's pooling on, a batch that a
// pipeline fans out to an exporter and to the connector is shared, and
// at v0.164.0 the collector takes a reference for the exporter's queue
// only. When the exporter is done, on its own goroutine, it releases the
// batch, and pdata empties it and puts its values back into the pools,
// possibly while the connector still reads it: the collectors of make
// bench-e2e crashed so, the floor connector's too. The connector holds
// the batch itself for as long as it reads it, and releases it when done
// (when it is the last, that returns the values to the pools). Here the
// exporter's release comes while the connector passes its events on.
func TestHoldsTheBatchWhilePooled(t *testing.T) {
	require.NoError(t, featuregate.GlobalRegistry().Set(poolingGate, true))
	t.Cleanup(func() { require.NoError(t, featuregate.GlobalRegistry().Set(poolingGate, false)) })

	for _, signal := range []string{"traces", "logs"} {
		t.Run(signal, func(t *testing.T) {
			var (
				count   func() int
				release func() // the exporter's queue, done with the batch
				consume func(*auditConnector) error
			)
			switch signal {
			case "traces":
				td := readTraces(t)
				// as the pipeline leaves it after the exporter's turn: owned,
				// one reference, the exporter queue's
				pref.MarkPipelineOwnedTraces(td)
				count, release = td.SpanCount, func() { pref.UnrefTraces(td) }
				consume = func(c *auditConnector) error { return c.ConsumeTraces(t.Context(), td) }
			case "logs":
				ld, err := golden.ReadLogs(filepath.Join("..", "testdata", "logs_input.yaml"))
				require.NoError(t, err)
				pref.MarkPipelineOwnedLogs(ld)
				count, release = ld.LogRecordCount, func() { pref.UnrefLogs(ld) }
				consume = func(c *auditConnector) error { return c.ConsumeLogs(t.Context(), ld) }
			}
			records := count()
			require.Positive(t, records)
			next := &releasing{release: release, count: count}
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			c, err := newConnector(metadatatest.NewSettings(tel), testConfig(), next)
			require.NoError(t, err)

			require.NoError(t, consume(c))
			require.Len(t, next.AllLogs(), 1, "the events of the batch")
			assert.Equal(t, records, next.during, "the exporter's release emptied the batch while the connector held it")
			assert.Zero(t, count(), "the connector, the last to hold the batch, did not release it")
		})
	}
}

// releasing takes the events and, meanwhile, has the exporter release the
// source batch, then counts what is left of it.
type releasing struct {
	consumertest.LogsSink
	release func()
	count   func() int
	during  int
}

func (r *releasing) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	r.release()
	r.during = r.count()
	return r.LogsSink.ConsumeLogs(ctx, ld)
}

// TestCopyWhilePooled: the connector says it changes what it receives, so
// that a fan-out gives it a copy of its own, only while pdata's pooling is
// on (capabilities).
func TestCopyWhilePooled(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	c, err := newConnector(metadatatest.NewSettings(tel), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	f := newRecordsForwarder(c.id, consumertest.NewNop())
	t.Cleanup(func() { require.NoError(t, f.Shutdown(context.Background())) })
	for _, pooling := range []bool{false, true, false} {
		require.NoError(t, featuregate.GlobalRegistry().Set(poolingGate, pooling))
		assert.Equal(t, pooling, c.Capabilities().MutatesData, "the events' connector, pooling %v", pooling)
		assert.Equal(t, pooling, f.Capabilities().MutatesData, "the records' forwarder, pooling %v", pooling)
	}
}
