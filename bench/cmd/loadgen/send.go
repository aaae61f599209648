package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otel-audit/auditprocessor/bench"
	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// payloads are the batches the load generator sends, built once from the
// in-process benchmarks' input and sent round robin, so that generating
// spans costs the shared CPUs nothing during a step.
type payloads struct {
	reqs   []ptraceotlp.ExportRequest // for gRPC
	protos [][]byte                   // the same, marshalled, for HTTP
	spans  []int
}

// buildPayloads builds batches batches of spansPerBatch spans in resources
// resources, and checks on each that the sink's counter (harness.CountRecords)
// finds as many spans as the decoder.
func buildPayloads(in *bench.Input, batches, spansPerBatch, resources int) (*payloads, error) {
	p := &payloads{}
	for i := 0; i < batches; i++ {
		td := in.Traces(spansPerBatch, resources)
		req := ptraceotlp.NewExportRequestFromTraces(td)
		b, err := req.MarshalProto()
		if err != nil {
			return nil, err
		}
		if n, err := harness.CountRecords(b); err != nil || n != td.SpanCount() || n == 0 {
			return nil, fmt.Errorf("span counter: %d spans, %v; want %d", n, err, td.SpanCount())
		}
		p.reqs = append(p.reqs, req)
		p.protos = append(p.protos, b)
		p.spans = append(p.spans, td.SpanCount())
	}
	return p, nil
}

// sender sends batch i of the payloads and tells how many spans the
// collector accepted; an error means the whole batch was refused.
type sender interface {
	send(ctx context.Context, i int) (accepted int, err error)
	close()
}

type httpSender struct {
	url    string
	client *http.Client
	p      *payloads
}

func newHTTPSender(baseURL string, p *payloads, concurrency int) *httpSender {
	tr := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, IdleConnTimeout: time.Minute}
	return &httpSender{url: baseURL + "/v1/traces", client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, p: p}
}

func (s *httpSender) send(ctx context.Context, i int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.p.protos[i]))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %s", resp.Status)
	}
	n := s.p.spans[i]
	if len(body) > 0 {
		er := ptraceotlp.NewExportResponse()
		if err := er.UnmarshalProto(body); err == nil {
			n -= int(er.PartialSuccess().RejectedSpans())
		}
	}
	return n, nil
}

func (s *httpSender) close() { s.client.CloseIdleConnections() }

type grpcSender struct {
	conn   *grpc.ClientConn
	client ptraceotlp.GRPCClient
	p      *payloads
}

func newGRPCSender(endpoint string, p *payloads) (*grpcSender, error) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &grpcSender{conn: conn, client: ptraceotlp.NewGRPCClient(conn), p: p}, nil
}

func (s *grpcSender) send(ctx context.Context, i int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := s.client.Export(ctx, s.p.reqs[i])
	if err != nil {
		return 0, err
	}
	return s.p.spans[i] - int(resp.PartialSuccess().RejectedSpans()), nil
}

func (s *grpcSender) close() { _ = s.conn.Close() }

// load is what one step of fixed-rate load did.
type load struct {
	offered  int           // spans the step was to send: rate × duration, in whole batches
	sent     int           // spans sent (all batches are sent, late or not)
	accepted int           // spans the collector accepted
	refused  int           // spans in refused batches or rejected
	duration time.Duration // the step's duration
	elapsed  time.Duration // from the first send until the last answer, at least the step's duration
	late     time.Duration // how far behind schedule the last batch went out
	firstErr error
}

// offeredRate is the rate the step offered, in spans/s.
func (l load) offeredRate() float64 { return float64(l.offered) / l.duration.Seconds() }

// runLoad sends rate spans per second for duration: batch k goes out at
// start + k × (batch size / rate) on one of concurrency workers. When every
// worker is waiting for the collector, batches go out late (and then back to
// back), so a collector that cannot keep up shows as an achieved rate below
// the offered one; the number of batches is fixed.
func runLoad(ctx context.Context, s sender, p *payloads, next *atomic.Int64, rate float64, duration time.Duration, concurrency int) load {
	spansPerBatch := p.spans[0]
	interval := time.Duration(float64(time.Second) * float64(spansPerBatch) / rate)
	batches := int(float64(duration) / float64(interval))
	if batches < 1 {
		batches = 1
	}
	var (
		mu sync.Mutex
		l  = load{offered: batches * spansPerBatch, duration: duration}
		wg sync.WaitGroup
	)
	jobs := make(chan int)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				n, err := s.send(ctx, i)
				mu.Lock()
				l.sent += p.spans[i]
				l.accepted += n
				l.refused += p.spans[i] - n
				if err != nil && l.firstErr == nil {
					l.firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
send:
	for k := 0; k < batches; k++ {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				break send
			}
		}
		i := int(next.Add(1)-1) % len(p.spans)
		select {
		case jobs <- i:
		case <-ctx.Done():
			break send
		}
		if k == batches-1 {
			l.late = max(0, time.Since(due))
		}
	}
	close(jobs)
	wg.Wait()
	l.elapsed = max(duration, time.Since(start))
	return l
}
