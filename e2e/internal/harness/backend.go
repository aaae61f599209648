package harness

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
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
// /v1/traces and /v1/logs and keeps every record it receives.
type Backend struct {
	// URL is the base URL to configure as an OTLP/HTTP exporter endpoint.
	URL string

	srv     *http.Server
	mu      sync.Mutex
	records []Record
}

// StartBackend starts a Backend on a free loopback port.
func StartBackend() (*Backend, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Backend{URL: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", b.handleTraces)
	mux.HandleFunc("POST /v1/logs", b.handleLogs)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(l) }()
	return b, nil
}

// Close stops the backend.
func (b *Backend) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.srv.Shutdown(ctx)
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

type unmarshaler interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// decode reads the request body into req and writes resp in the request's encoding.
func decode(w http.ResponseWriter, r *http.Request, req, resp unmarshaler) bool {
	var body io.Reader = http.MaxBytesReader(w, r.Body, 64<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		defer gz.Close()
		body = gz
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	isJSON := r.Header.Get("Content-Type") == "application/json"
	if isJSON {
		err = req.UnmarshalJSON(data)
	} else {
		err = req.UnmarshalProto(data)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("decode OTLP request: %v", err), http.StatusBadRequest)
		return false
	}
	var out []byte
	if isJSON {
		out, err = resp.MarshalJSON()
		w.Header().Set("Content-Type", "application/json")
	} else {
		out, err = resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return false
	}
	_, _ = w.Write(out)
	return true
}

func (b *Backend) handleTraces(w http.ResponseWriter, r *http.Request) {
	req := ptraceotlp.NewExportRequest()
	if !decode(w, r, &req, ptr(ptraceotlp.NewExportResponse())) {
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
	b.add(got)
}

func (b *Backend) handleLogs(w http.ResponseWriter, r *http.Request) {
	req := plogotlp.NewExportRequest()
	if !decode(w, r, &req, ptr(plogotlp.NewExportResponse())) {
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
				})
			}
		}
	}
	b.add(got)
}

func (b *Backend) add(rs []Record) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records = append(b.records, rs...)
}

func ptr[T any](v T) *T { return &v }
