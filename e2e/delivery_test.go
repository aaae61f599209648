package e2e

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// The delivery tests run examples/collector.yaml, moved to free ports, with
// its exporters' retries made faster (the backoff's intervals only; they
// still retry for ever), so that the example's own queue settings are what
// is tested. The example's exporters: otlp_http for the tagged records,
// otlp_http/events for the audit connector's events.
const fastRetry = `
exporters:
  otlp_http:
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
  otlp_http/events:
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
`

// inMemoryQueue takes the storage away from the example's sending queues.
const inMemoryQueue = `
exporters:
  otlp_http:
    sending_queue:
      storage: null
  otlp_http/events:
    sending_queue:
      storage: null
`

// file_storage names a queue's file after the exporter's component ID and
// the signal (kind_type_name_signal): renaming an exporter leaves its queue
// behind.
var queueFiles = []string{"exporter_otlp_http__traces", "exporter_otlp_http__logs", "exporter_otlp_http_events_logs"}

// What every audited record sent here must carry when it reaches the backend.
var auditedTags = map[string]string{
	"audit.action":  "speech-to-text.custom-language-model.create",
	"audit.outcome": "success",
	"audit.region":  "eu-de",
}

func newTraceID() pcommon.TraceID {
	var id pcommon.TraceID
	_, _ = rand.Read(id[:])
	return id
}

// auditedSpan is a server span of a request the example's audit processor
// tags and keeps, with trace id id.
func auditedSpan(id pcommon.TraceID) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "speech-to-text")
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(id)
	sp.SetSpanID(pcommon.SpanID{1})
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetName("POST /v1/customizations")
	now := time.Now()
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	putAuditedHTTP(sp.Attributes())
	return td
}

// auditedLog is the access-log record of the same kind of request.
func auditedLog(id pcommon.TraceID) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "speech-to-text")
	rl.Resource().Attributes().PutStr("cloud.region", "eu-de")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTraceID(id)
	lr.SetSpanID(pcommon.SpanID{1})
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lr.Body().SetStr("POST /v1/customizations 201")
	putAuditedHTTP(lr.Attributes())
	return ld
}

func putAuditedHTTP(m pcommon.Map) {
	m.PutStr("http.request.method", "POST")
	m.PutStr("url.path", "/v1/customizations")
	m.PutStr("http.route", "/v1/customizations")
	m.PutInt("http.response.status_code", 201)
}

// outage is one run of the scenario: the backends (records and events) are
// down (they answer 503, holding their ports) at the addresses the collector
// exports to; records are sent and acknowledged; the collector is killed and
// started again on the same queue directory; the backends come up.
type outage struct {
	binary, queueDir string
	backend, events  *harness.Backend
	overrides        []string
}

func newOutage(t *testing.T, binary string, overrides ...string) *outage {
	o := &outage{binary: binary, queueDir: t.TempDir(), overrides: append([]string{fastRetry}, overrides...)}
	var err error
	for _, b := range []**harness.Backend{&o.backend, &o.events} {
		*b, err = harness.StartBackendDown("")
		require.NoError(t, err)
		t.Cleanup(func() { _ = (*b).Close() })
	}
	return o
}

// backendsUp brings the records' and the events' backends up.
func (o *outage) backendsUp(t *testing.T) (records, events *harness.Backend) {
	t.Helper()
	o.backend.Up()
	o.events.Up()
	return o.backend, o.events
}

// start runs the example on o's queue directory, exporting to o's backend.
func (o *outage) start(t *testing.T) *harness.Collector {
	t.Helper()
	return startCollector(t, "collector", harness.CollectorOptions{
		Binary: o.binary, BaseConfig: exampleConfig,
		ExportEndpoint: o.backend.URL, EventsEndpoint: o.events.URL,
		Overrides: o.overrides,
		Env:       []string{"AUDIT_QUEUE_DIR=" + o.queueDir},
	})
}

// sendAcknowledged sends n audited spans and n audited access-log records,
// one a request, each of which the collector must acknowledge, and returns
// their trace ids (a span and a log record share one).
func sendAcknowledged(t *testing.T, col *harness.Collector, n int) []pcommon.TraceID {
	t.Helper()
	base := "http://" + col.HTTPEndpoint
	ids := make([]pcommon.TraceID, n)
	for i := range ids {
		ids[i] = newTraceID()
		require.NoError(t, harness.ExportTraces(t.Context(), plainClient, base, auditedSpan(ids[i])), "span %d", i)
		require.NoError(t, harness.ExportLogs(t.Context(), plainClient, base, auditedLog(ids[i])), "log record %d", i)
	}
	return ids
}

// arrivals counts, per signal and trace id, the records the backend received.
func arrivals(b *harness.Backend) map[string]map[pcommon.TraceID]int {
	out := map[string]map[pcommon.TraceID]int{"traces": {}, "logs": {}}
	for _, r := range b.Records() {
		out[r.Signal][r.TraceID]++
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes; cond's string
// says what is still missing.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, missing := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const outageRecords = 25

// TestDurability: with the example's persistent queues, every record the
// collector acknowledged while the backends were down reaches the backend,
// tagged, and so does the audit event the connector made of each span,
// although the collector was killed (SIGKILL) before the backends came up.
// Duplicates are allowed and counted; none may be missing.
func TestDurability(t *testing.T) {
	binary := collectorBinary(t)
	o := newOutage(t, binary)

	col := o.start(t)
	ids := sendAcknowledged(t, col, outageRecords)
	col.Kill()

	// The queues are on disk, in files named after the exporters' component IDs.
	for _, name := range queueFiles {
		info, err := os.Stat(filepath.Join(o.queueDir, name))
		if assert.NoError(t, err, "an exporter's queue file") {
			assert.Positive(t, info.Size())
		}
	}

	col = o.start(t)
	backend, events := o.backendsUp(t)

	waitFor(t, time.Minute, "every acknowledged record and event at the backends", func() (bool, string) {
		got, gotEvents := arrivals(backend), arrivals(events)
		spans, logs, evs := 0, 0, 0
		for _, id := range ids {
			if got["traces"][id] == 0 {
				spans++
			}
			if got["logs"][id] == 0 {
				logs++
			}
			if gotEvents["logs"][id] == 0 {
				evs++
			}
		}
		return spans+logs+evs == 0, fmt.Sprintf("%d spans, %d log records and %d events of %d each missing", spans, logs, evs, len(ids))
	})
	sent := map[pcommon.TraceID]bool{}
	for _, id := range ids {
		sent[id] = true
	}
	for _, r := range append(backend.Records(), events.Records()...) {
		require.True(t, sent[r.TraceID], "a %s record nobody sent: %s", r.Signal, r.TraceID)
		attrs := auditAttrs(r)
		for k, v := range auditedTags {
			assert.Equal(t, v, attrs[k], "%s %s: %s", r.Signal, r.TraceID, k)
		}
	}
	duplicates := map[string]int{}
	for what, byID := range map[string]map[pcommon.TraceID]int{
		"spans": arrivals(backend)["traces"], "log records": arrivals(backend)["logs"], "events": arrivals(events)["logs"],
	} {
		assert.Len(t, byID, outageRecords, what)
		for _, n := range byID {
			duplicates[what] += n - 1
		}
	}
	t.Logf("%d spans and %d log records acknowledged before the crash; after it, all delivered, with an event each span; duplicates: %v",
		outageRecords, outageRecords, duplicates)
}

// TestDurabilityInMemoryQueueLoses is the same outage with the example's
// queues in memory: what the killed collector had acknowledged is gone, and
// so are the events. The restarted collector delivers what it is sent
// itself, and has nothing else queued.
func TestDurabilityInMemoryQueueLoses(t *testing.T) {
	binary := collectorBinary(t)
	o := newOutage(t, binary, inMemoryQueue)

	col := o.start(t)
	ids := sendAcknowledged(t, col, outageRecords)
	col.Kill()
	for _, name := range queueFiles {
		_, err := os.Stat(filepath.Join(o.queueDir, name))
		assert.True(t, errors.Is(err, os.ErrNotExist), "%s: %v", name, err)
	}

	col = o.start(t)
	backend, events := o.backendsUp(t)
	canary := sendAcknowledged(t, col, 1)[0]
	waitFor(t, time.Minute, "the restarted collector's own record and event at the backends", func() (bool, string) {
		got := arrivals(backend)
		return got["traces"][canary] > 0 && got["logs"][canary] > 0 && arrivals(events)["logs"][canary] > 0,
			fmt.Sprintf("%d records and %d events arrived", len(backend.Records()), len(events.Records()))
	})
	waitMetrics(t, col.MetricsURL, "the restarted collector's queues to be empty", func(m harness.Metrics) bool {
		return m.Sum("otelcol_exporter_queue_size", nil) == 0
	})

	got := arrivals(backend)
	lost := 0
	for _, id := range ids {
		if got["traces"][id] == 0 && got["logs"][id] == 0 {
			lost++
		}
	}
	assert.Equal(t, outageRecords, lost, "acknowledged spans (and their log records) lost in the crash")
	assert.Len(t, backend.Records(), 2, "only the canary's span and log record arrive")
	assert.Len(t, events.Records(), 1, "only the canary's event arrives")
}

// smallQueue overrides an exporter's queue to hold capacity records, sent
// in batches of as many.
func smallQueue(exporter string, capacity int) string {
	return fmt.Sprintf(`
exporters:
  %s:
    sending_queue:
      queue_size: %d
      batch:
        min_size: %d
        max_size: %d
`, exporter, capacity, capacity, capacity)
}

// TestQueueFull: when the bounded queue is full, the receiver refuses new
// records with a retryable error (HTTP 503) instead of acknowledging them,
// and the exporter counts them in otelcol_exporter_enqueue_failed_spans.
func TestQueueFull(t *testing.T) {
	binary := collectorBinary(t)
	const capacity, extra = 5, 3
	o := newOutage(t, binary, smallQueue("otlp_http", capacity))
	col := o.start(t)

	for i := range capacity + extra {
		err := harness.ExportTraces(t.Context(), plainClient, "http://"+col.HTTPEndpoint, auditedSpan(newTraceID()))
		if i < capacity {
			require.NoError(t, err, "span %d fits in the queue", i)
			continue
		}
		var refused *harness.ExportError
		require.ErrorAs(t, err, &refused, "span %d: the queue is full", i)
		assert.Equal(t, http.StatusServiceUnavailable, refused.StatusCode)
		assert.Contains(t, refused.Message, "sending queue is full")
	}
	m := scrape(t, col.MetricsURL)
	exporter := map[string]string{"exporter": "otlp_http"}
	assert.Equal(t, float64(extra), m.Sum("otelcol_exporter_enqueue_failed_spans", exporter))
	assert.Equal(t, float64(capacity), m.Sum("otelcol_exporter_queue_size", map[string]string{"exporter": "otlp_http", "data_type": "traces"}))
}

// TestRefusedLeavesNeither: the events' queue fills before the records'
// (a small events queue, the backends down). The audit connector carries
// the spans after their events (examples/collector.yaml: traces/records),
// so a request refused with 503 leaves neither a tagged span nor an event,
// and an accepted one gets both once the backends are up. With the
// connector beside the records exporter in one pipeline, the collector's
// fanout had queued the refused requests' spans already: they arrived
// tagged, with no event.
func TestRefusedLeavesNeither(t *testing.T) {
	binary := collectorBinary(t)
	const capacity, sent = 5, 12
	o := newOutage(t, binary, smallQueue("otlp_http/events", capacity))
	col := o.start(t)

	accepted, refused := map[pcommon.TraceID]bool{}, map[pcommon.TraceID]bool{}
	for i := range sent {
		id := newTraceID()
		err := harness.ExportTraces(t.Context(), plainClient, "http://"+col.HTTPEndpoint, auditedSpan(id))
		if err == nil {
			accepted[id] = true
			continue
		}
		var e *harness.ExportError
		require.ErrorAs(t, err, &e, "span %d", i)
		assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode, "span %d", i)
		refused[id] = true
	}
	require.Len(t, accepted, capacity, "the events' queue holds %d", capacity)
	require.Len(t, refused, sent-capacity)

	backend, events := o.backendsUp(t)
	waitFor(t, time.Minute, "the accepted requests' spans and events", func() (bool, string) {
		got, gotEvents := arrivals(backend)["traces"], arrivals(events)["logs"]
		missing := 0
		for id := range accepted {
			if got[id] == 0 || gotEvents[id] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d accepted requests lack a span or an event", missing, len(accepted))
	})
	waitMetrics(t, col.MetricsURL, "the queues to be empty", func(m harness.Metrics) bool {
		return m.Sum("otelcol_exporter_queue_size", nil) == 0
	})
	for _, r := range append(backend.Records(), events.Records()...) {
		assert.False(t, refused[r.TraceID], "a %s record of a refused request arrived: %s", r.Signal, r.TraceID)
		assert.True(t, accepted[r.TraceID], "a %s record nobody sent: %s", r.Signal, r.TraceID)
	}
	t.Logf("%d requests accepted (span and event each delivered), %d refused with 503 (neither delivered)", len(accepted), len(refused))
}
