package harness

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// tracesOf returns spans spans in resources resources (round robin), two
// scopes a resource.
func tracesOf(spans, resources int) ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range resources {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		rs.ScopeSpans().AppendEmpty()
		rs.ScopeSpans().AppendEmpty()
		for i := r; i < spans; i += resources {
			s := rs.ScopeSpans().At(i % 2).Spans().AppendEmpty()
			s.SetName("GET /x")
			s.Attributes().PutInt("i", int64(i))
		}
	}
	return td
}

func logsOf(records int) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range records {
		lrs.AppendEmpty().Body().SetInt(int64(i))
	}
	return ld
}

func TestCountRecords(t *testing.T) {
	for _, n := range []int{0, 1, 7, 500} {
		body, err := ptraceotlp.NewExportRequestFromTraces(tracesOf(n, 3)).MarshalProto()
		require.NoError(t, err)
		got, err := CountRecords(body)
		require.NoError(t, err)
		assert.Equal(t, n, got, "spans")

		body, err = plogotlp.NewExportRequestFromLogs(logsOf(n)).MarshalProto()
		require.NoError(t, err)
		got, err = CountRecords(body)
		require.NoError(t, err)
		assert.Equal(t, n, got, "log records")
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(tracesOf(5, 1)).MarshalProto()
	require.NoError(t, err)
	_, err = CountRecords(append(body, 0xff))
	assert.Error(t, err, "a truncated field")
}

// TestSink: the sink counts what it is sent, refuses what it cannot count,
// and inspects the first traces request and every InspectEvery-th after it.
func TestSink(t *testing.T) {
	var inspected, inspectedSpans atomic.Int64
	s, err := StartSink(SinkOptions{InspectEvery: 2, InspectTraces: func(td ptrace.Traces) {
		inspected.Add(1)
		inspectedSpans.Add(int64(td.SpanCount()))
	}})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	for i := range 3 {
		body, err := ptraceotlp.NewExportRequestFromTraces(tracesOf(10*(i+1), 2)).MarshalProto()
		require.NoError(t, err)
		post(t, s.URL+"/v1/traces", "application/x-protobuf", i == 1, body)
	}
	body, err := plogotlp.NewExportRequestFromLogs(logsOf(4)).MarshalProto()
	require.NoError(t, err)
	post(t, s.URL+"/v1/logs", "application/x-protobuf", false, body)
	assert.Equal(t, int64(60), s.Spans())
	assert.Equal(t, int64(4), s.LogRecords())
	assert.Equal(t, int64(2), inspected.Load(), "the 1st and the 3rd traces request")
	assert.Equal(t, int64(40), inspectedSpans.Load())

	json, err := plogotlp.NewExportRequestFromLogs(logsOf(1)).MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnsupportedMediaType, postStatus(t, s.URL+"/v1/logs", "application/json", false, json))
	assert.Equal(t, http.StatusBadRequest, postStatus(t, s.URL+"/v1/traces", "application/x-protobuf", false, []byte{0xff}))
	assert.Equal(t, int64(60), s.Spans(), "refused requests count nothing")
	assert.Equal(t, int64(4), s.LogRecords())
}
