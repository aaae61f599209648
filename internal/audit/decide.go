package audit

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/catalog"
)

// The attributes the components own and set.
const (
	AttrAction     = "audit.action"
	AttrOutcome    = "audit.outcome"
	AttrRegion     = "audit.region"
	AttrSeverity   = "audit.severity"
	AttrReasonCode = "audit.reason.code"
	AttrTargetType = "audit.target.type"
	AttrMessage    = "audit.message"
	AttrInitiator  = "audit.initiator.id"
)

// The severities of the provider's event model.
const (
	SeverityNormal   = "normal"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

const failureSuffix = " -failure"

// Drop says why a record is dropped; Keep when it is not.
type Drop uint8

// The drop reasons, as the metrics name them.
const (
	Keep Drop = iota
	DropUnsupportedRegion
	DropMissingRegion
	DropUnmatched
)

// DropReasons are the metric attribute values of the drop reasons, by Drop.
var DropReasons = [...]string{DropUnsupportedRegion: "unsupported_region", DropMissingRegion: "missing_region", DropUnmatched: "unmatched"}

// Decision is what happens to one record: its match and, for a matched
// record, its outcome, region and whether it is kept.
type Decision struct {
	Match
	Drop Drop
	// BadStatus is set when a matched record's status attribute is present
	// but unusable; it is then treated as absent (and counted as malformed).
	BadStatus bool
	// Outcome, Code (the HTTP status, 0 when none is usable) and Region (the
	// catalog's region id, "" when the record has none) of a matched record.
	Outcome string
	Code    int64
	Region  string
	fields  *eventFields
}

// Emits tells whether the record is an audit event: matched and kept.
func (d *Decision) Emits() bool { return d.Result == Matched && d.Drop == Keep }

// Decide reads one record and decides what happens to it; rr is the
// record's resource (NewResource), spanError whether a span's status is
// Error. It reads the record and never changes it.
func (a *Auditor) Decide(attrs pcommon.Map, rr *Resource, spanName string, spanError bool) (d Decision) {
	d.Match = a.Match(attrs, rr, spanName)
	switch d.Result {
	case NotHTTP, Malformed, Refused:
		return d
	case Unmatched:
		if a.unmatched == PolicyDrop {
			d.Drop = DropUnmatched
		}
		return d
	}
	d.Code, d.BadStatus = d.Request.Status, d.Request.badStatus
	d.Outcome = outcomeOf(d.Code, spanError)
	f := a.fields[d.Event]
	d.fields = f
	region, sends := rr.raw, true
	if region != "" {
		d.Region, sends = rr.of(f.svc)
	} else {
		if region = FirstString(attrs, a.keys.Region); region == "" {
			region = a.defRegion
		}
		if region != "" {
			d.Region, sends = f.svc.region(region)
		}
	}
	switch {
	case region == "" && a.onMissing == PolicyDrop:
		d.Drop = DropMissingRegion
	case !sends:
		d.Drop = DropUnsupportedRegion
	}
	return d
}

// Resource is what a resource's attributes decide for all its records,
// worked out once per resource: the scoped catalogs its service.name
// selects (and their Scope, when no catalog is scoped by host), and the
// region on the resource with, per service, what it normalises to and
// whether the service sends events from there (filled for the first record
// that needs it, then reused).
type Resource struct {
	names selection
	scope *catalog.Scope // of names; only when no catalog has hosts
	raw   string
	n     int
	memo  [4]struct {
		svc   *service
		id    string
		sends bool
	}
}

// NewResource reads a resource's attributes, once per resource.
func (a *Auditor) NewResource(resource pcommon.Map) Resource {
	r := Resource{raw: FirstString(resource, a.keys.Region)}
	if len(a.scopes.list) > 0 {
		r.names = a.scopes.byName(FirstString(resource, a.keys.ServiceName))
		if !a.scopes.anyHosts {
			r.scope = a.scopes.scope(r.names)
		}
	}
	return r
}

func (r *Resource) of(svc *service) (id string, sends bool) {
	for i := 0; i < r.n; i++ {
		if r.memo[i].svc == svc {
			return r.memo[i].id, r.memo[i].sends
		}
	}
	id, sends = svc.region(r.raw)
	if r.n < len(r.memo) {
		r.memo[r.n].svc, r.memo[r.n].id, r.memo[r.n].sends = svc, id, sends
		r.n++
	}
	return id, sends
}

// region normalises a region to the catalog's ids (lower case; a zone like
// eu-de-2 belongs to eu-de) and tells whether the service sends events there.
// A region the catalog does not list does not send events, unless the
// catalog states no regions at all.
func (s *service) region(raw string) (id string, sends bool) {
	id = strings.ToLower(strings.TrimSpace(raw))
	if !s.known[id] {
		if r, ok := catalog.ZoneRegion(id); ok && s.known[r] {
			id = r
		}
	}
	return id, s.every || s.sends[id]
}

// eventFields are the audit fields of one catalog event, made once, and
// the service whose regions decide whether its records are kept.
type eventFields struct {
	svc              *service
	targetType       string // "service/object"; "" when the action has no object
	message, failure string // audit.message on success and on failure
	severity         string // the catalog's explicit severity, else by the verb
	explicit         bool   // severity came from the catalog and always wins
}

// fieldsOf makes an event's audit fields. The action is service.object.verb
// (the catalog's lint warns otherwise): the target type is service/object,
// and a delete verb is critical, an update verb a warning, others normal.
func fieldsOf(c *catalog.Catalog, ev *catalog.Event) *eventFields {
	f := &eventFields{message: c.DisplayName + ": " + ev.Description}
	if ev.Description == "" {
		f.message = c.DisplayName + ": " + ev.Action
	}
	f.failure = f.message + failureSuffix
	service, object, verb, _ := catalog.ActionParts(ev.Action)
	if object != "" {
		f.targetType = service + "/" + object
	}
	switch verb {
	case "delete":
		f.severity = SeverityCritical
	case "update":
		f.severity = SeverityWarning
	default:
		f.severity = SeverityNormal
	}
	if ev.Severity != "" {
		f.severity, f.explicit = ev.Severity, true
	}
	return f
}

// Severity is the provider's rule: the catalog's explicit severity wins; a
// failure is critical for 401, 403, 503 and 507 and a warning otherwise; a
// success (or pending or unknown outcome) is rated by the action's verb.
func (d *Decision) Severity() string {
	f := d.fields
	if f.explicit || d.Outcome != OutcomeFailure {
		return f.severity
	}
	switch d.Code {
	case 401, 403, 503, 507:
		return SeverityCritical
	}
	return SeverityWarning
}

// Message is "<display name>: <description>", with " -failure" on failure.
func (d *Decision) Message() string {
	if d.Outcome == OutcomeFailure {
		return d.fields.failure
	}
	return d.fields.message
}

// TargetType is "service/object" from the action; "" without an object.
func (d *Decision) TargetType() string { return d.fields.targetType }

// Tag writes the audit attributes of a matched, kept record into dst, as
// the fields configuration switches them; src is the record (dst itself
// for the processor), read for the initiator. Room for exactly the
// attributes written is reserved once, so dst grows at most once.
func (a *Auditor) Tag(dst pcommon.Map, d *Decision, src pcommon.Map) {
	sw := &a.switches
	initiator := ""
	if sw.InitiatorID {
		initiator = a.Initiator(src) // read before the puts below move src's attributes
	}
	f := d.fields
	n := 2 + boolInt(d.Region != "") + boolInt(sw.Severity) + boolInt(sw.ReasonCode && d.Code > 0) +
		boolInt(sw.TargetType && f.targetType != "") + boolInt(sw.Message) + boolInt(initiator != "")
	dst.EnsureCapacity(dst.Len() + n)
	dst.PutStr(AttrAction, d.Event.Action)
	dst.PutStr(AttrOutcome, d.Outcome)
	if d.Region != "" {
		dst.PutStr(AttrRegion, d.Region)
	}
	if sw.Severity {
		dst.PutStr(AttrSeverity, d.Severity())
	}
	if sw.ReasonCode && d.Code > 0 {
		dst.PutInt(AttrReasonCode, d.Code)
	}
	if sw.TargetType && f.targetType != "" {
		dst.PutStr(AttrTargetType, f.targetType)
	}
	if sw.Message {
		dst.PutStr(AttrMessage, d.Message())
	}
	if initiator != "" {
		dst.PutStr(AttrInitiator, initiator)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
