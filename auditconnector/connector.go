package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/pref"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// EventName is the event name of every audit event record.
const EventName = integrity.EventName

// EventTimeLayout is the provider's eventTime: UTC, hundredths of a second,
// "+0000" (2019-11-03T21:40:53.94+0000).
const EventTimeLayout = "2006-01-02T15:04:05.00-0700"

// maxTags is the most audit.* attributes Tag writes.
const maxTags = 9

// severityNumbers maps the audit severity to the log severity number.
var severityNumbers = map[string]plog.SeverityNumber{
	audit.SeverityNormal:   plog.SeverityNumberInfo,
	audit.SeverityWarning:  plog.SeverityNumberWarn,
	audit.SeverityCritical: plog.SeverityNumberError,
}

type auditConnector struct {
	// live is the catalogs in force, shared by every audit component
	// configured alike (audit.Acquire); a batch is decided with the catalogs
	// the audit processor before it pinned, else those in force.
	live    *audit.Live
	release func() // stops counting reloads, on shutdown
	started bool   // Start started the live catalogs: Shutdown stops them
	// id and edges: the instances of this component ID, for a
	// traces-to-logs instance (records.go); nil for logs to logs.
	id        component.ID
	edges     *edges
	event     EventConfig
	next      consumer.Logs
	telemetry *metadata.TelemetryBuilder
	counters  *audit.Counters
	now       func() time.Time
	// resource keeps the allowed resource attributes (resource.go).
	resource *resourceFilter
	// chain is the hash chain of the events (integrity.go); nil without
	// integrity configured.
	chain *chain
	// unauthorized logs the records senders refused, rate-limited.
	unauthorized *audit.UnauthorizedLog
	// ocsf writes the OCSF body (ocsf.go); nil for the provider's.
	ocsf *ocsfWriter
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Logs) (*auditConnector, error) {
	live, err := audit.Acquire(&cfg.Config, set.Logger)
	if err != nil {
		return nil, err
	}
	t, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		live.Release()
		return nil, err
	}
	release, err := live.Instrument("connector", audit.Instrumentation{
		Reloads: t.ConnectorAuditCatalogReloads,
		InForce: t.RegisterConnectorAuditCatalogInForceCallback,
		Evicted: t.RegisterConnectorAuditServiceNamesEvictedCallback,
	})
	if err != nil {
		live.Release()
		return nil, err
	}
	c := &auditConnector{
		live:      live,
		release:   release,
		event:     cfg.Event,
		resource:  newResourceFilter(cfg.Event.ResourceAttributes),
		next:      next,
		telemetry: t,
		now:       time.Now,
		// the records senders refused, logged at most once a minute
		unauthorized: audit.NewUnauthorizedLog(set.Logger),
		ocsf:         newOCSFWriter(cfg.Event, set.BuildInfo),
		counters: (&audit.Counters{
			Matched:    t.ConnectorAuditRecordsMatched,
			Unmatched:  t.ConnectorAuditRecordsUnmatched,
			Malformed:  t.ConnectorAuditRecordsMalformed,
			Refused:    t.ConnectorAuditRecordsRefused,
			Dropped:    t.ConnectorAuditRecordsDropped,
			Unselected: t.ConnectorAuditRecordsUnselected,

			Unauthorized: t.ConnectorAuditRecordsUnauthorized,
		}).Init(),
	}
	if cfg.Integrity != nil {
		if c.chain, err = newChain(set, cfg.Integrity, next, t); err != nil {
			c.release()
			live.Release()
			return nil, err
		}
	}
	return c, nil
}

// Start starts watching the catalog files (reload), and the checkpoints'
// ticker.
func (c *auditConnector) Start(ctx context.Context, host component.Host) error {
	c.live.WarnUnauthenticated(host)
	if err := c.live.Start(); err != nil {
		return err
	}
	c.started = true
	if c.chain != nil {
		return c.chain.start(ctx, host)
	}
	return nil
}

// Shutdown releases the catalogs (the last component to release them
// stops their watcher) and stops the telemetry.
func (c *auditConnector) Shutdown(ctx context.Context) error {
	if c.chain != nil {
		c.chain.shutdown(ctx)
	}
	if c.edges != nil {
		leave(c.id, func(e *edges) {
			if e.events == c {
				e.events = nil
			}
		})
		c.edges = nil
	}
	if c.started {
		c.live.Shutdown()
		c.started = false
	}
	if c.release != nil {
		c.release()
		c.release = nil
		c.live.Release()
	}
	c.telemetry.Shutdown()
	return nil
}

// Capabilities: the connector reads its input and never changes it; see
// capabilities.
func (c *auditConnector) Capabilities() consumer.Capabilities { return capabilities() }

// source is what an event takes from its source record beside the decision.
type source struct {
	attrs, resource pcommon.Map
	time            pcommon.Timestamp
	traceID         pcommon.TraceID
	spanID          pcommon.SpanID
	// body and log: a log record's body, for its event id (eventid.go).
	body pcommon.Value
	log  bool
}

// batch collects the events of one incoming batch, a resource at a time.
type batch struct {
	c        *auditConnector
	a        *audit.Auditor // the catalogs in force when the batch came
	out      plog.Logs
	counts   audit.Counts
	now      pcommon.Timestamp
	records  plog.LogRecordSlice
	resource pcommon.Resource
	schema   string
	opened   bool
}

func (c *auditConnector) newBatch(ctx context.Context) *batch {
	return &batch{c: c, a: c.live.For(ctx), out: plog.NewLogs(), now: pcommon.NewTimestampFromTime(c.now())}
}

// nextResource starts a source resource; its scope of events is made when
// its first event is.
func (b *batch) nextResource(r pcommon.Resource, schemaURL string) {
	b.resource, b.schema, b.opened = r, schemaURL, false
}

// emit counts one decision and appends its event when the record is one.
func (b *batch) emit(d *audit.Decision, src *source) {
	b.counts.Add(d)
	if !d.Emits() {
		return
	}
	if !b.opened {
		rl := b.out.ResourceLogs().AppendEmpty()
		b.c.resource.copyTo(b.resource.Attributes(), rl.Resource().Attributes()) // resource.go
		rl.SetSchemaUrl(b.schema)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(metadata.ScopeName)
		b.records, b.opened = sl.LogRecords(), true
	}
	b.c.write(b.a, b.records.AppendEmpty(), d, src, b.now)
}

// finish passes the events on, marked as events (see audit.WithEvents), and
// counts the batch.
func (b *batch) finish(ctx context.Context, signal audit.Signal) error {
	c := b.c
	c.counters.Record(ctx, signal, &b.counts)
	n := int64(b.out.LogRecordCount())
	if n == 0 {
		return nil
	}
	c.telemetry.ConnectorAuditEventsEmitted.Add(ctx, n, c.counters.SignalOption(signal))
	if c.chain != nil {
		return c.chain.pass(ctx, b.out)
	}
	return c.next.ConsumeLogs(audit.WithEvents(ctx), b.out)
}

// ConsumeTraces emits one event per span the audit processor would keep
// and tag; when the connector also carries the records (records.go), its
// traces-to-traces instance does that, before it passes the spans on.
func (c *auditConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if c.edges != nil {
		siblings.Lock()
		forwarding := c.edges.forwarding
		siblings.Unlock()
		if forwarding {
			return nil
		}
	}
	return c.consumeTraces(ctx, td)
}

func (c *auditConnector) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	return c.consume(ctx, td, audit.SignalTraces)
}

// ConsumeLogs emits one event per log record the audit processor would
// keep and tag.
func (c *auditConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return c.consume(ctx, ld, audit.SignalLogs)
}

// consume emits the events of a batch of either signal, read through the
// shared view of a record.
func (c *auditConnector) consume(ctx context.Context, batch any, signal audit.Signal) error {
	defer hold(batch)()
	b := c.newBatch(ctx)
	sender := b.a.SenderOf(ctx)
	var region audit.Resource
	audit.Walk(batch, func(r pcommon.Resource, schemaURL string) {
		b.nextResource(r, schemaURL)
		region = b.a.NewResource(r.Attributes())
		region.Sender = sender
	}, func(v audit.View) bool {
		if b.a.Audits(&v) {
			d := b.a.Decide(&v, &region)
			src := source{attrs: v.Attrs, resource: b.resource.Attributes(), time: v.Time(), traceID: v.TraceID(), spanID: v.SpanID()}
			if !v.IsSpan() {
				src.body, src.log = v.Log().Body(), true
			}
			b.emit(&d, &src)
		}
		return true
	})
	c.unauthorized.Note(b.counts.Unauthorized, sender.ID)
	return b.finish(ctx, signal)
}

// write fills one event record: the audit.* attributes the processor
// writes, and the body in the provider's event model (or OCSF's, ocsf.go).
func (c *auditConnector) write(a *audit.Auditor, lr plog.LogRecord, d *audit.Decision, src *source, now pcommon.Timestamp) {
	ts := src.time
	if ts == 0 {
		ts = now
	}
	severity := d.Severity()
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(now)
	lr.SetTraceID(src.traceID)
	lr.SetSpanID(src.spanID)
	lr.SetSeverityText(severity)
	lr.SetSeverityNumber(severityNumbers[severity])
	lr.SetEventName(EventName)
	if c.chain != nil {
		// Room for the tags and the integrity attributes at once (seal).
		lr.Attributes().EnsureCapacity(maxTags + len(integrity.Keys))
	}
	a.Tag(lr.Attributes(), d, src.attrs)
	if c.ocsf != nil {
		c.ocsf.write(c, a, lr, d, src, ts)
		return
	}

	// Everything is read first, so that each map is made once, with room
	// for exactly what it holds, and only when it holds something: a
	// body's entries are 40 bytes each, most of an event's garbage.
	typeURI := d.TargetType()
	targetID, targetName := c.firstOf(c.event.TargetID, src), c.firstOf(c.event.TargetName, src)
	initiatorID := a.Initiator(src.attrs)
	address, agent := a.ClientAddress(src.attrs), a.UserAgent(src.attrs)
	hasTarget := typeURI != "" || targetID != "" || targetName != ""
	hasHost := address != "" || agent != ""
	hasInitiator := initiatorID != "" || hasHost
	hasTrace := !src.traceID.IsEmpty()

	body := lr.Body().SetEmptyMap()
	// id, action, outcome, severity, eventTime, message, observer,
	// dataEvent and requestData, then what only some events have: reason,
	// target, initiator, reporter, correlationId, responseData,
	// logSourceCRN, saveServiceCopy (TestEventMapsSized).
	body.EnsureCapacity(9 + entries(d.Code > 0, hasTarget, hasInitiator, d.Sender != "", hasTrace, d.Code > 0,
		c.event.LogSourceCRN != "", c.event.SaveServiceCopy != nil))
	body.PutStr("id", eventID(src, d.Event.Action))
	body.PutStr("action", d.Event.Action)
	body.PutStr("outcome", d.Outcome)
	if d.Code > 0 {
		reason := body.PutEmptyMap("reason")
		reason.EnsureCapacity(2)
		reason.PutInt("reasonCode", d.Code)
		reason.PutStr("reasonType", http.StatusText(int(d.Code)))
	}
	body.PutStr("severity", severity)
	body.PutStr("eventTime", eventTime(ts)) // eventtime.go
	body.PutStr("message", d.Message())
	if hasTarget {
		target := body.PutEmptyMap("target")
		target.EnsureCapacity(entries(typeURI != "", targetID != "", targetName != ""))
		putNonEmpty(target, "typeURI", typeURI)
		putNonEmpty(target, "id", targetID)
		putNonEmpty(target, "name", targetName)
	}
	if hasInitiator {
		initiator := body.PutEmptyMap("initiator")
		initiator.EnsureCapacity(entries(initiatorID != "", hasHost))
		putNonEmpty(initiator, "id", initiatorID)
		if hasHost {
			host := initiator.PutEmptyMap("host")
			host.EnsureCapacity(entries(address != "", agent != ""))
			putNonEmpty(host, "address", address)
			putNonEmpty(host, "agent", agent)
		}
	}
	body.PutEmptyMap("observer").PutStr("name", c.event.ObserverName)
	if d.Sender != "" {
		body.PutEmptyMap("reporter").PutStr("id", d.Sender)
	}
	if hasTrace {
		body.PutStr("correlationId", src.traceID.String())
	}
	body.PutBool("dataEvent", d.Event.DataEvent)
	request := body.PutEmptyMap("requestData")
	request.EnsureCapacity(2)
	request.PutStr("method", d.Request.Method)
	request.PutStr("route", d.Event.Route)
	if d.Code > 0 {
		body.PutEmptyMap("responseData").PutInt("statusCode", d.Code)
	}
	if c.event.LogSourceCRN != "" {
		body.PutStr("logSourceCRN", c.event.LogSourceCRN)
	}
	if c.event.SaveServiceCopy != nil {
		body.PutBool("saveServiceCopy", *c.event.SaveServiceCopy)
	}
}

// entries counts the conditions that hold: the entries a map will get.
func entries(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

func putNonEmpty(m pcommon.Map, key, value string) {
	if value != "" {
		m.PutStr(key, value)
	}
}

// firstOf returns the first string of keys on the record, else on its
// resource; "" when neither has one (or there are no keys).
func (c *auditConnector) firstOf(keys []string, src *source) string {
	if len(keys) == 0 {
		return ""
	}
	if v := audit.FirstString(src.attrs, keys); v != "" {
		return v
	}
	return audit.FirstString(src.resource, keys)
}

// poolingGate is pdata's feature gate that returns a batch's values to
// pools once the last reference to the batch is released.
const poolingGate = "pdata.useProtoPooling"

// capabilities says that the connector changes nothing it receives, which
// lets a pipeline give it the batch its exporters get, without a copy;
// unless pdata's pooling is on. With the gate, the collector (v0.164.0)
// wraps each consumer of a batch that a pipeline hands to several, and the
// first of them to finish releases the batch while the others may still
// read it. That lost whole batches (the e2e TestPoolingGate): in a fan-out
// to an exporter and the connector (a crash, or batches exported empty),
// and in the records edge, where the pipeline hands each batch to both
// instances of the connector (traces to traces, which does the work, and
// traces to logs, which then returns at once) and the idle one released it
// first: nothing was delivered. Saying that it changes the batch gets each
// instance a batch of its own (all but the last get a copy), at the cost
// of the copies.
func capabilities() consumer.Capabilities {
	pooling := false
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == poolingGate {
			pooling = g.IsEnabled()
		}
	})
	return consumer.Capabilities{MutatesData: pooling}
}

// hold takes a reference to a batch for as long as the connector reads it
// and returns its release. With pdata's pooling (the pdata.useProtoPooling
// feature gate), pdata empties a batch and pools its values when its last
// reference is released, on whichever goroutine releases it: an exporter
// that shared the batch with the connector did so while the connector
// still read it. The copy the connector asks for under the gate
// (capabilities) is what keeps its batches its own in the e2e
// TestPoolingGate, the hold alone did not; the hold keeps a batch the
// connector reads from being emptied under it, whatever reaches it
// shared. The release returns the values when the connector is the last
// holder; without the gate it only counts.
func hold(batch any) (release func()) {
	switch b := batch.(type) {
	case ptrace.Traces:
		pref.RefTraces(b)
		return func() { pref.UnrefTraces(b) }
	case plog.Logs:
		pref.RefLogs(b)
		return func() { pref.UnrefLogs(b) }
	}
	return func() {}
}
