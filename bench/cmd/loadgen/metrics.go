package main

import "github.com/otel-audit/auditprocessor/e2e/harness"

// counters are the collector's own counts the driver checks, cumulative since
// the collector started.
type counters struct {
	accepted     float64 // otelcol_receiver_accepted_spans
	refused      float64 // otelcol_receiver_refused_spans
	sent         float64 // otelcol_exporter_sent_spans
	sendFailed   float64 // otelcol_exporter_send_failed_spans
	enqueueFail  float64 // otelcol_exporter_enqueue_failed_spans (sending queue full: lost)
	auditDropped float64 // otelcol_processor_audit_records_dropped{signal="traces"}
}

func countersOf(m harness.Metrics) counters {
	traces := map[string]string{"signal": "traces"}
	return counters{
		accepted:     m.Sum("otelcol_receiver_accepted_spans", nil),
		refused:      m.Sum("otelcol_receiver_refused_spans", nil),
		sent:         m.Sum("otelcol_exporter_sent_spans", nil),
		sendFailed:   m.Sum("otelcol_exporter_send_failed_spans", nil),
		enqueueFail:  m.Sum("otelcol_exporter_enqueue_failed_spans", nil),
		auditDropped: m.Sum("otelcol_processor_audit_records_dropped", traces),
	}
}

func (c counters) minus(o counters) counters {
	return counters{
		accepted:     c.accepted - o.accepted,
		refused:      c.refused - o.refused,
		sent:         c.sent - o.sent,
		sendFailed:   c.sendFailed - o.sendFailed,
		enqueueFail:  c.enqueueFail - o.enqueueFail,
		auditDropped: c.auditDropped - o.auditDropped,
	}
}
