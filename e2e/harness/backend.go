package harness

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Record is one span or log record as a backend received it, flattened with
// its resource attributes.
type Record struct {
	// Signal is "traces" or "logs".
	Signal string
	// Name is the span name; empty for log records.
	Name     string
	Kind     ptrace.SpanKind
	TraceID  pcommon.TraceID
	SpanID   pcommon.SpanID
	Resource pcommon.Map
	Attrs    pcommon.Map
	// The log record's own fields; zero for spans.
	Body              pcommon.Value
	EventName         string
	SeverityText      string
	SeverityNumber    plog.SeverityNumber
	Timestamp         pcommon.Timestamp
	ObservedTimestamp pcommon.Timestamp
	// ScopeName is the instrumentation scope of the record.
	ScopeName string
}

// Str returns the string value of attribute key, or "" when it is absent.
func (r Record) Str(key string) string {
	if v, ok := r.Attrs.Get(key); ok {
		return v.AsString()
	}
	return ""
}

// Backend is an OTLP/HTTP receiver on 127.0.0.1 built on pdata's request
// types. It accepts protobuf and JSON bodies, plain or gzip-compressed, on
// /v1/traces and /v1/logs and keeps every record it receives. It can also
// record every request to files, as the collector's file exporter does.
type Backend struct {
	// URL is the base URL to configure as an OTLP/HTTP exporter endpoint.
	URL string
	// TracesFile and LogsFile are the recording's files; empty when the
	// backend does not record.
	TracesFile string
	LogsFile   string

	srv     *http.Server
	down    atomic.Bool // answers 503 to every request (StartBackendDown)
	mu      sync.Mutex
	records []Record
	traces  *os.File
	logs    *os.File
}

// StartBackend starts a Backend on a free loopback port. When recordDir is
// not empty, the backend also writes every request it receives to
// recordDir/traces.json and recordDir/logs.json in the collector file
// exporter's format (format: json): one ExportTraceServiceRequest or
// ExportLogsServiceRequest per line, as ptrace.JSONMarshaler and
// plog.JSONMarshaler encode them. recordDir is created if need be; both files
// are created empty (or emptied) at start, and a request is in its file
// before the backend answers it.
func StartBackend(recordDir string) (*Backend, error) {
	b := &Backend{}
	if recordDir != "" {
		if err := b.openRecording(recordDir); err != nil {
			return nil, err
		}
	}
	var err error
	if b.srv, b.URL, err = serveOTLP("127.0.0.1:0", b.handleTraces, b.handleLogs); err != nil {
		b.closeRecording()
		return nil, err
	}
	return b, nil
}

// StartBackendDown is StartBackend for a backend that is down until Up: it
// holds its port from the start (no other program can take it meanwhile),
// and answers every request with 503 Service Unavailable, as a load
// balancer with no healthy backend does, which the collector's exporters
// retry. Nothing is kept or recorded while it is down.
func StartBackendDown(recordDir string) (*Backend, error) {
	b, err := StartBackend(recordDir)
	if err != nil {
		return nil, err
	}
	b.down.Store(true)
	return b, nil
}

// Up brings a backend of StartBackendDown up: from now on it takes requests.
func (b *Backend) Up() { b.down.Store(false) }

// refuse answers 503 while the backend is down and says whether it did.
func (b *Backend) refuse(w http.ResponseWriter) bool {
	if b.down.Load() {
		http.Error(w, "backend down", http.StatusServiceUnavailable)
		return true
	}
	return false
}

func (b *Backend) openRecording(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	b.TracesFile, b.LogsFile = filepath.Join(dir, "traces.json"), filepath.Join(dir, "logs.json")
	if b.traces, err = os.Create(b.TracesFile); err != nil {
		return err
	}
	if b.logs, err = os.Create(b.LogsFile); err != nil {
		b.traces.Close()
		return err
	}
	return nil
}

// closeRecording closes the recording's files, if any.
func (b *Backend) closeRecording() error {
	var errs []error
	for _, f := range []**os.File{&b.traces, &b.logs} {
		if *f != nil {
			errs = append(errs, (*f).Close())
			*f = nil
		}
	}
	return errors.Join(errs...)
}

// Close stops the backend and closes the recording's files.
func (b *Backend) Close() error {
	err := shutdown(b.srv)
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(err, b.closeRecording())
}

// Records returns a copy of everything received so far, in arrival order.
func (b *Backend) Records() []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Record(nil), b.records...)
}

// Count returns how many records of signal were received so far.
func (b *Backend) Count(signal string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.records {
		if r.Signal == signal {
			n++
		}
	}
	return n
}

type message interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// decode reads the request body into req.
func decode(w http.ResponseWriter, r *http.Request, req message) bool {
	data, ok := readBody(w, r)
	if !ok {
		return false
	}
	var err error
	if isJSON(r) {
		err = req.UnmarshalJSON(data)
	} else {
		err = req.UnmarshalProto(data)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("decode OTLP request: %v", err), http.StatusBadRequest)
		return false
	}
	return true
}

// reply writes resp in the request's encoding.
func reply(w http.ResponseWriter, r *http.Request, resp message) {
	var out []byte
	var err error
	if isJSON(r) {
		out, err = resp.MarshalJSON()
		w.Header().Set("Content-Type", "application/json")
	} else {
		out, err = resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out)
}

func isJSON(r *http.Request) bool { return r.Header.Get("Content-Type") == "application/json" }

func (b *Backend) handleTraces(w http.ResponseWriter, r *http.Request) {
	if b.refuse(w) {
		return
	}
	req := ptraceotlp.NewExportRequest()
	if !decode(w, r, &req) {
		return
	}
	var got []Record
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				got = append(got, Record{
					Signal: "traces", Name: s.Name(), Kind: s.Kind(),
					TraceID: s.TraceID(), SpanID: s.SpanID(),
					Resource: rs.Resource().Attributes(), Attrs: s.Attributes(),
				})
			}
		}
	}
	var line []byte
	var err error
	if b.TracesFile != "" {
		line, err = (&ptrace.JSONMarshaler{}).MarshalTraces(req.Traces())
	}
	if err == nil {
		err = b.add(got, &b.traces, line)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	reply(w, r, ptr(ptraceotlp.NewExportResponse()))
}

func (b *Backend) handleLogs(w http.ResponseWriter, r *http.Request) {
	if b.refuse(w) {
		return
	}
	req := plogotlp.NewExportRequest()
	if !decode(w, r, &req) {
		return
	}
	var got []Record
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				got = append(got, Record{
					Signal: "logs", TraceID: lr.TraceID(), SpanID: lr.SpanID(),
					Resource: rl.Resource().Attributes(), Attrs: lr.Attributes(),
					Body: lr.Body(), EventName: lr.EventName(), SeverityText: lr.SeverityText(),
					SeverityNumber: lr.SeverityNumber(), Timestamp: lr.Timestamp(),
					ObservedTimestamp: lr.ObservedTimestamp(), ScopeName: rl.ScopeLogs().At(j).Scope().Name(),
				})
			}
		}
	}
	var line []byte
	var err error
	if b.LogsFile != "" {
		line, err = (&plog.JSONMarshaler{}).MarshalLogs(req.Logs())
	}
	if err == nil {
		err = b.add(got, &b.logs, line)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	reply(w, r, ptr(plogotlp.NewExportResponse()))
}

// add keeps rs and, when the backend records, appends line and a newline to
// *file. The handlers call it before they answer: once a sender has its
// answer, what it sent is in Records and on disk.
func (b *Backend) add(rs []Record, file **os.File, line []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if line != nil {
		if *file == nil {
			return errors.New("the backend is closed")
		}
		if _, err := (*file).Write(append(line, '\n')); err != nil {
			return fmt.Errorf("record the request: %w", err)
		}
	}
	b.records = append(b.records, rs...)
	return nil
}

func ptr[T any](v T) *T { return &v }
