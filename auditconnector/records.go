package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Records after their events. In a pipeline whose exporters are both a
// records exporter and this connector, the collector's fanout hands the
// batch to each and joins their errors: when the events queue is full, the
// request is refused (503), yet the records exporter has already queued the
// tagged spans, which then arrive with no event. So the connector can also
// carry the records: wired as the only exporter of the traces pipeline and
// as the receiver of a traces pipeline for the records (traces to traces)
// beside the logs pipeline of the events (traces to logs), it passes the
// events on first and the spans only once the events were accepted. A
// refused request then leaves neither; an accepted one has both. When the
// events are accepted and the records refused, the request is refused, and
// the sender's retry makes the events again (a duplicate, which the
// backend sees as such; see README "Delivery").
//
// The collector creates one connector instance per edge: the traces-to-logs
// and the traces-to-traces instances of one component ID find each other
// here.

// edges are the instances of one connector component ID.
type edges struct {
	refs   int
	events *auditConnector // the traces-to-logs instance
	// forwarding is set when a traces-to-traces instance exists: then it
	// makes the events, and the traces-to-logs instance does nothing.
	forwarding bool
}

var siblings = struct {
	sync.Mutex
	m map[component.ID]*edges
}{m: map[component.ID]*edges{}}

// join registers an instance of id and returns its edges; leave undoes it.
func join(id component.ID, f func(e *edges)) *edges {
	siblings.Lock()
	defer siblings.Unlock()
	e := siblings.m[id]
	if e == nil {
		e = &edges{}
		siblings.m[id] = e
	}
	e.refs++
	f(e)
	return e
}

func leave(id component.ID, f func(e *edges)) {
	siblings.Lock()
	defer siblings.Unlock()
	e := siblings.m[id]
	if e == nil {
		return
	}
	f(e)
	if e.refs--; e.refs == 0 {
		delete(siblings.m, id)
	}
}

// errNoEvents: the traces-to-traces edge is wired without the events edge.
var errNoEvents = errors.New("a traces pipeline receives the records from the audit connector, but no logs pipeline receives its events: the connector passes records on only after their events (add a logs pipeline with the connector among its receivers)")

// recordsForwarder is the traces-to-traces instance.
type recordsForwarder struct {
	id      component.ID
	edges   *edges
	records consumer.Traces
}

func newRecordsForwarder(id component.ID, next consumer.Traces) *recordsForwarder {
	f := &recordsForwarder{id: id, records: next}
	f.edges = join(id, func(e *edges) { e.forwarding = true })
	return f
}

// Start fails when no traces-to-logs instance of the same connector exists:
// the collector creates every instance before it starts any.
func (f *recordsForwarder) Start(context.Context, component.Host) error {
	siblings.Lock()
	defer siblings.Unlock()
	if f.edges.events == nil {
		return errNoEvents
	}
	return nil
}

func (f *recordsForwarder) Shutdown(context.Context) error {
	if f.edges != nil {
		leave(f.id, func(e *edges) { e.forwarding = false })
		f.edges = nil
	}
	return nil
}

func (f *recordsForwarder) Capabilities() consumer.Capabilities { return capabilities() }

// ConsumeTraces passes the events on, then, once they were accepted, the
// spans.
func (f *recordsForwarder) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	siblings.Lock()
	events := f.edges.events
	siblings.Unlock()
	if events == nil {
		return errNoEvents
	}
	if err := events.consumeTraces(ctx, td); err != nil {
		return err
	}
	return f.records.ConsumeTraces(ctx, td)
}
