package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// fanOutConfig is the simplest wiring of events: the traces and the logs
// pipelines export each batch to their exporter and to the audit connector
// at once (a fan-out, as make bench-e2e wires it; the README's examples use
// the records edge), and both exporters queue in memory.
const fanOutConfig = `
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 1024
  audit: {}
  batch: {}
connectors:
  audit: {}
exporters:
  otlp_http:
    compression: none
  otlp_http/events:
    compression: none
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, audit, batch]
      exporters: [otlp_http, audit]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, audit, batch]
      exporters: [otlp_http, audit]
    logs/events:
      receivers: [audit]
      exporters: [otlp_http/events]
`

// TestPoolingGate: the distribution with pdata's pooling gate on
// (pdata.useProtoPooling, alpha at v0.164.0) under concurrent load, in
// the fan-out (fanOutConfig) and with the connector carrying the records
// after their events (the harness's configuration, the records edge).
// Before the connector asked for a copy of its own under the gate
// (auditconnector's capabilities), the collector let the first consumer of
// a shared batch release it while the others still read it: the fan-out
// crashed (the exporter, done first, had the batch emptied under the
// connector: make bench-e2e at 40k spans/s, and 3 of 6 runs here) or
// exported every batch empty (the connector done first, 3 of 6), and the
// records edge delivered nothing at all (the connector's idle traces-to-
// logs instance released each batch before its traces-to-traces instance
// read it, 3 of 3). Every span and access-log record must reach the sink
// with its event, and the collector must still run.
func TestPoolingGate(t *testing.T) {
	binary := collectorBinary(t)
	for _, layout := range []string{"fan-out", "records edge"} {
		t.Run(layout, func(t *testing.T) {
			// a sink that only counts, so that the exporter is done with a
			// batch well before the connector has made its events
			sink, err := harness.StartSink(harness.SinkOptions{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = sink.Close() })
			opts := harness.CollectorOptions{
				Binary: binary, Dir: t.TempDir(), ExportEndpoint: sink.URL, EventsEndpoint: sink.URL,
				FeatureGates: []string{"pdata.useProtoPooling"},
			}
			if layout == "fan-out" {
				opts.BaseConfig = filepath.Join(opts.Dir, "fan-out.yaml")
				require.NoError(t, os.WriteFile(opts.BaseConfig, []byte(fanOutConfig), 0o600))
			}
			col := startCollector(t, "collector", opts)

			// each sender sends spans and access-log records, a batch of each
			// per request
			const senders, requests, records = 4, 40, 250
			base := "http://" + col.HTTPEndpoint
			var wg sync.WaitGroup
			errs := make(chan error, senders)
			for range senders {
				wg.Go(func() {
					for i := range requests {
						if err := harness.ExportTraces(t.Context(), plainClient, base, auditedSpans(records)); err != nil {
							errs <- fmt.Errorf("spans %d: %w", i, err)
							return
						}
						if err := harness.ExportLogs(t.Context(), plainClient, base, auditedLogs(records)); err != nil {
							errs <- fmt.Errorf("log records %d: %w", i, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}

			// the sink counts the events among the log records: one per span,
			// and, in the fan-out, one per access-log record (the records
			// edge has none for log records)
			const n = senders * requests * records
			wantLogs := 2 * n
			if layout == "fan-out" {
				wantLogs = 3 * n
			}
			waitFor(t, time.Minute, "every record and its event", func() (bool, string) {
				if err := col.Exited(); err != nil {
					t.Fatalf("the collector exited: %v", err)
				}
				spans, logs := sink.Spans(), sink.LogRecords()
				return spans == n && logs == int64(wantLogs), fmt.Sprintf("%d of %d spans, %d of %d log records and events", spans, n, logs, wantLogs)
			})
			require.NoError(t, col.Exited(), "the collector still runs")
		})
	}
}

// auditedSpans is n audited spans (auditedSpan) in one batch, each of a
// trace of its own.
func auditedSpans(n int) ptrace.Traces {
	td := auditedSpan(newTraceID())
	fillCopies(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans(), n)
	return td
}

// auditedLogs is the same of access-log records (auditedLog).
func auditedLogs(n int) plog.Logs {
	ld := auditedLog(newTraceID())
	fillCopies(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords(), n)
	return ld
}

// fillCopies appends copies of a slice's first record until it holds n,
// each with a trace id of its own.
func fillCopies[R interface {
	CopyTo(R)
	SetTraceID(pcommon.TraceID)
}, S interface {
	At(int) R
	AppendEmpty() R
}](records S, n int) {
	for range n - 1 {
		r := records.AppendEmpty()
		records.At(0).CopyTo(r)
		r.SetTraceID(newTraceID())
	}
}
