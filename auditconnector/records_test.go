package auditconnector

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// refusing is an events consumer that refuses while full is set, as an
// exporter with a full sending queue does.
type refusing struct {
	consumertest.LogsSink
	full bool
}

func (r *refusing) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if r.full {
		return errors.New("sending queue is full")
	}
	return r.LogsSink.ConsumeLogs(ctx, ld)
}

func auditedSpans(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for range n {
		s := spans.AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("http.request.method", "POST")
		s.Attributes().PutStr("url.path", "/v1/customizations")
		s.Attributes().PutInt("http.response.status_code", 201)
	}
	return td
}

// TestRecordsAfterEvents: wired with both edges, the connector passes the
// spans on only once their events were accepted. A refused batch leaves
// neither events nor records, and its error reaches the sender; an
// accepted one gives both, once (the traces-to-logs instance, called by the
// same fanout, does nothing then).
func TestRecordsAfterEvents(t *testing.T) {
	f := NewFactory()
	set := connectortest.NewNopSettings(f.Type())
	set.ID = component.MustNewIDWithName("audit", "records")
	cfg := f.CreateDefaultConfig()
	events := &refusing{full: true}
	records := new(consumertest.TracesSink)
	toLogs, err := f.CreateTracesToLogs(t.Context(), set, cfg, events)
	require.NoError(t, err)
	toTraces, err := f.CreateTracesToTraces(t.Context(), set, cfg, records)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	for _, c := range []component.Component{toLogs, toTraces} {
		require.NoError(t, c.Start(t.Context(), host))
		defer func() { require.NoError(t, c.Shutdown(context.Background())) }()
	}
	// the collector's fanout calls every consumer of the pipeline
	fanout := []consumer.Traces{toLogs, toTraces}
	send := func(td ptrace.Traces) error {
		var errs []error
		for _, c := range fanout {
			errs = append(errs, c.ConsumeTraces(t.Context(), td))
		}
		return errors.Join(errs...)
	}

	require.ErrorContains(t, send(auditedSpans(3)), "sending queue is full", "the sender is told")
	assert.Zero(t, events.LogRecordCount(), "no event")
	assert.Zero(t, records.SpanCount(), "and no record of a refused request")

	events.full = false
	require.NoError(t, send(auditedSpans(2)))
	assert.Equal(t, 2, events.LogRecordCount(), "one event per span, made once")
	assert.Equal(t, 2, records.SpanCount(), "the records after their events")
}

// TestRecordsEdgeNeedsEvents: the records' edge without the events' edge
// fails at start, saying what to add.
func TestRecordsEdgeNeedsEvents(t *testing.T) {
	f := NewFactory()
	set := connectortest.NewNopSettings(f.Type())
	set.ID = component.MustNewIDWithName("audit", "alone")
	c, err := f.CreateTracesToTraces(t.Context(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.ErrorIs(t, c.Start(t.Context(), componenttest.NewNopHost()), errNoEvents)
	require.NoError(t, c.Shutdown(context.Background()))
	assert.Contains(t, errNoEvents.Error(), "add a logs pipeline with the connector among its receivers")
}
