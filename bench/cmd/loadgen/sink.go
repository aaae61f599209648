package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// sink is the OTLP/HTTP backend a collector exports to. It counts the spans
// of every request by walking the protobuf without decoding it, so that it
// costs the shared CPUs as little as possible, and fully decodes one request
// in sampleEvery to see how many spans carry audit.action.
type sink struct {
	URL string // base URL for the collector's otlp_http exporter

	srv *http.Server

	requests      atomic.Int64
	spans         atomic.Int64
	events        atomic.Int64 // log records (the audit connector's events)
	bad           atomic.Int64 // requests that could not be read
	sampledSpans  atomic.Int64
	sampledTagged atomic.Int64
}

const sampleEvery = 25

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{URL: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.handle)
	mux.HandleFunc("POST /v1/logs", s.handleLogs)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, 256<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(body)
		if err != nil {
			s.bad.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	}
	data, err := io.ReadAll(body)
	if err != nil {
		s.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		s.bad.Add(1)
		http.Error(w, "only application/x-protobuf is accepted, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	n, err := countSpans(data)
	if err != nil {
		s.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.requests.Add(1)%sampleEvery == 1 {
		s.sample(data)
	}
	s.spans.Add(int64(n))
	// An empty ExportTraceServiceResponse: full success.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// handleLogs counts the log records of an OTLP/HTTP protobuf logs request:
// ExportLogsServiceRequest.resource_logs = 1, ResourceLogs.scope_logs = 2,
// ScopeLogs.log_records = 2, the same numbers as for spans.
func (s *sink) handleLogs(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<20))
	if err != nil || r.Header.Get("Content-Encoding") != "" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		s.bad.Add(1)
		http.Error(w, "uncompressed application/x-protobuf only", http.StatusBadRequest)
		return
	}
	n, err := countSpans(data)
	if err != nil {
		s.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.events.Add(int64(n))
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// sample decodes a request and counts the spans the audit processor tagged.
func (s *sink) sample(data []byte) {
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		return
	}
	var spans, tagged int64
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j).Spans()
			for k := 0; k < ss.Len(); k++ {
				spans++
				if _, ok := ss.At(k).Attributes().Get("audit.action"); ok {
					tagged++
				}
			}
		}
	}
	s.sampledSpans.Add(spans)
	s.sampledTagged.Add(tagged)
}

// countSpans counts the spans of an ExportTraceServiceRequest:
// resource_spans = 1, ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2.
func countSpans(req []byte) (int, error) {
	n := 0
	err := eachField(req, 1, func(rs []byte) error {
		return eachField(rs, 2, func(ss []byte) error {
			return eachField(ss, 2, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls fn with the payload of every length-delimited field num of msg.
func eachField(msg []byte, num protowire.Number, fn func([]byte) error) error {
	for len(msg) > 0 {
		f, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return protowire.ParseError(tagLen)
		}
		if f == num && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(msg[tagLen:])
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(v); err != nil {
				return err
			}
			msg = msg[tagLen+n:]
			continue
		}
		n := protowire.ConsumeFieldValue(f, typ, msg[tagLen:])
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[tagLen+n:]
	}
	return nil
}

var errNoSpans = errors.New("no spans")

// checkCount verifies countSpans against the full decoder on one payload.
func checkCount(payload []byte, want int) error {
	got, err := countSpans(payload)
	if err != nil {
		return err
	}
	if got == 0 {
		return errNoSpans
	}
	if got != want {
		return fmt.Errorf("countSpans = %d, want %d", got, want)
	}
	return nil
}
