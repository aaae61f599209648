package audit

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Signal is the signal of the records a batch holds.
type Signal int

// The signals, as the metrics name them.
const (
	SignalTraces Signal = iota
	SignalLogs
)

var signalNames = [...]string{SignalTraces: "traces", SignalLogs: "logs"}

// Counters are a component's counters of decisions (its mdatagen telemetry
// builder's), with their attribute sets built once. Removed may be nil.
type Counters struct {
	Matched, Unmatched, Malformed, Refused, Dropped, Removed, Unselected metric.Int64Counter
	signal                                                               [len(signalNames)]metric.MeasurementOption
	dropped                                                              [len(signalNames)][len(DropReasons)]metric.MeasurementOption
}

// Init builds the attribute sets; call it once before Record.
func (c *Counters) Init() *Counters {
	for i, name := range signalNames {
		s := attribute.String("signal", name)
		c.signal[i] = metric.WithAttributeSet(attribute.NewSet(s))
		for d, reason := range DropReasons {
			if reason != "" {
				c.dropped[i][d] = metric.WithAttributeSet(attribute.NewSet(s, attribute.String("reason", reason)))
			}
		}
	}
	return c
}

// SignalOption is the metric attribute set of a signal, for a component's
// own further counters.
func (c *Counters) SignalOption(s Signal) metric.MeasurementOption { return c.signal[s] }

// Record adds one batch's counts.
func (c *Counters) Record(ctx context.Context, s Signal, n *Counts) {
	for _, m := range []struct {
		n       int64
		counter metric.Int64Counter
	}{
		{n.Matched, c.Matched}, {n.Unmatched, c.Unmatched}, {n.Malformed, c.Malformed}, {n.Refused, c.Refused},
		{n.Removed, c.Removed}, {n.Unselected, c.Unselected},
	} {
		if m.n > 0 && m.counter != nil {
			m.counter.Add(ctx, m.n, c.signal[s])
		}
	}
	for d, opt := range c.dropped[s] {
		if k := n.Dropped[d]; opt != nil && k > 0 {
			c.Dropped.Add(ctx, k, opt)
		}
	}
}

// Counts is what one batch did; a component adds it to its metrics once
// per batch.
type Counts struct {
	Matched, Unmatched, Malformed, Removed int64
	// Refused counts the HTTP records of requests the router refused.
	Refused int64
	// Unselected counts the HTTP records that no scoped catalog selects.
	Unselected int64
	Dropped    [len(DropReasons)]int64 // by Drop
}

// Add counts one decision.
func (c *Counts) Add(d *Decision) {
	switch d.Result {
	case Malformed:
		c.Malformed++
	case Unmatched:
		c.Unmatched++
	case Matched:
		c.Matched++
		if d.BadStatus {
			c.Malformed++
		}
	case Refused:
		c.Refused++
	}
	if d.Unselected && d.Result != NotHTTP {
		c.Unselected++
	}
	c.Dropped[d.Drop]++
}

// AllDropped is the number of records dropped, for every reason.
func (c *Counts) AllDropped() int64 {
	return c.Dropped[DropUnsupportedRegion] + c.Dropped[DropMissingRegion] + c.Dropped[DropUnmatched]
}
