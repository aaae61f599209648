package harness

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestBackendRecords checks that a recording has one line per request, in
// the file exporter's JSON, whatever encoding the request came in, and that
// it is on disk when the sender has its answer.
func TestBackendRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	b, err := StartBackend(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "traces.json"), b.TracesFile)
	assert.Equal(t, filepath.Join(dir, "logs.json"), b.LogsFile)

	traces := make([]ptrace.Traces, 2)
	for i := range traces {
		traces[i] = ptrace.NewTraces()
		rs := traces[i].ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetName("GET /v1/x/{id}")
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("url.path", "/v1/x/"+strings.Repeat("a", i+1))
	}
	logs := plog.NewLogs()
	lr := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Attributes().PutStr("http.route", "/v1/x/{id}")

	// Protobuf, gzip-compressed protobuf, and JSON.
	body, err := ptraceotlp.NewExportRequestFromTraces(traces[0]).MarshalProto()
	require.NoError(t, err)
	post(t, b.URL+"/v1/traces", "application/x-protobuf", false, body)
	body, err = ptraceotlp.NewExportRequestFromTraces(traces[1]).MarshalProto()
	require.NoError(t, err)
	post(t, b.URL+"/v1/traces", "application/x-protobuf", true, body)
	body, err = plogotlp.NewExportRequestFromLogs(logs).MarshalJSON()
	require.NoError(t, err)
	post(t, b.URL+"/v1/logs", "application/json", false, body)

	lines := readLines(t, b.TracesFile)
	require.Len(t, lines, len(traces))
	for i, line := range lines {
		got, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(line))
		require.NoError(t, err)
		assert.Equal(t, traces[i], got, "line %d", i+1)
	}
	lines = readLines(t, b.LogsFile)
	require.Len(t, lines, 1)
	got, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(lines[0]))
	require.NoError(t, err)
	assert.Equal(t, logs, got)

	assert.Equal(t, 2, b.Count("traces"))
	assert.Equal(t, 1, b.Count("logs"))
	require.NoError(t, b.Close())

	// Starting again over the same directory starts an empty recording.
	b, err = StartBackend(dir)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	assert.Empty(t, readLines(t, b.TracesFile))
	assert.Empty(t, readLines(t, b.LogsFile))
}

func TestBackendWithoutRecording(t *testing.T) {
	b, err := StartBackend("")
	require.NoError(t, err)
	assert.Empty(t, b.TracesFile)
	assert.Empty(t, b.LogsFile)
	body, err := ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces()).MarshalProto()
	require.NoError(t, err)
	post(t, b.URL+"/v1/traces", "application/x-protobuf", false, body)
	require.NoError(t, b.Close())
}

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

// post sends body to url and requires 200 OK.
func post(t *testing.T, url, contentType string, gz bool, body []byte) {
	t.Helper()
	require.Equal(t, http.StatusOK, postStatus(t, url, contentType, gz, body))
}

// postStatus sends body to url, gzip-compressed when gz is set, and returns
// the status code of the answer.
func postStatus(t *testing.T, url, contentType string, gz bool, body []byte) int {
	t.Helper()
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, err := w.Write(body)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		body = buf.Bytes()
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// readLines returns the file's lines, each of which must end in a newline.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(data) == 0 {
		return nil
	}
	require.True(t, bytes.HasSuffix(data, []byte("\n")), "%s does not end in a newline", path)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
