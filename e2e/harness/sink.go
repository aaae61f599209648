package harness

import (
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// Sink is an OTLP/HTTP receiver on 127.0.0.1 for load tests: where a
// Backend decodes and keeps every record, a Sink counts the spans and log
// records of each request by walking its protobuf without decoding it, keeps
// nothing, and answers at once, so that it costs the CPUs it shares with the
// collector under test as little as possible. It accepts
// application/x-protobuf only (what the otlp_http exporter sends), plain or
// gzip-compressed, on /v1/traces and /v1/logs.
type Sink struct {
	// URL is the base URL to configure as an OTLP/HTTP exporter endpoint.
	URL string

	srv           *http.Server
	opts          SinkOptions
	traceRequests atomic.Int64
	spans         atomic.Int64
	logRecords    atomic.Int64
}

// SinkOptions are a Sink's settings; the zero value counts only.
type SinkOptions struct {
	// InspectTraces, when set, is given one traces request in every
	// InspectEvery (the 1st, the InspectEvery+1st, ...), decoded, before the
	// sink answers it: a sample of what the collector exports, at a cost
	// the sink does not pay for the others. Requests are served
	// concurrently: it must be safe to call from several goroutines.
	InspectTraces func(ptrace.Traces)
	// InspectEvery is 1 (every request) when not positive.
	InspectEvery int
}

// StartSink starts a Sink on a free loopback port.
func StartSink(opts SinkOptions) (*Sink, error) {
	if opts.InspectEvery < 1 {
		opts.InspectEvery = 1
	}
	s := &Sink{opts: opts}
	var err error
	s.srv, s.URL, err = serveOTLP("127.0.0.1:0", s.handler(&s.spans, true), s.handler(&s.logRecords, false))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Spans returns how many spans the sink has received.
func (s *Sink) Spans() int64 { return s.spans.Load() }

// LogRecords returns how many log records the sink has received.
func (s *Sink) LogRecords() int64 { return s.logRecords.Load() }

// Close stops the sink.
func (s *Sink) Close() error { return shutdown(s.srv) }

// handler counts the records of each request into count; traces says
// whether they are spans, which InspectTraces may be given.
func (s *Sink) handler(count *atomic.Int64, traces bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "only application/x-protobuf is accepted, got "+ct, http.StatusUnsupportedMediaType)
			return
		}
		data, ok := readBody(w, r)
		if !ok {
			return
		}
		n, err := CountRecords(data)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if traces && s.opts.InspectTraces != nil && (s.traceRequests.Add(1)-1)%int64(s.opts.InspectEvery) == 0 {
			req := ptraceotlp.NewExportRequest()
			if req.UnmarshalProto(data) == nil {
				s.opts.InspectTraces(req.Traces())
			}
		}
		count.Add(int64(n))
		// An empty export response: full success.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}
}

// CountRecords counts the spans of an OTLP ExportTraceServiceRequest, or
// the log records of an ExportLogsServiceRequest, in protobuf, without
// decoding it: both nest their records at the same field numbers
// (resource_spans/resource_logs = 1, scope_spans/scope_logs = 2,
// spans/log_records = 2).
func CountRecords(req []byte) (int, error) {
	n := 0
	err := eachField(req, 1, func(resource []byte) error {
		return eachField(resource, 2, func(scope []byte) error {
			return eachField(scope, 2, func([]byte) error { n++; return nil })
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
