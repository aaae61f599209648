package audit

import "github.com/otel-audit/auditprocessor/catalog"

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
	DropUnauthorized
)

// DropReasons are the metric attribute values of the drop reasons, by Drop.
var DropReasons = [...]string{DropUnsupportedRegion: "unsupported_region", DropMissingRegion: "missing_region", DropUnmatched: "unmatched", DropUnauthorized: "unauthorized"}

// Decision is what happens to one record: its match and, for a matched
// record, its outcome, region and whether it is kept.
type Decision struct {
	Match
	Drop Drop
	// BadStatus is set when a matched record's status attribute is present
	// but unusable; it is then treated as absent (and counted as malformed).
	BadStatus bool
	// Unauthorized is set when the matched event's service lists senders
	// and the batch's sender matches none (sender.go): the record is not
	// tagged and gives no event.
	Unauthorized bool
	// Sender is the batch's authenticated sender of a matched record; ""
	// when the batch has none.
	Sender string
	// Outcome, Code (the HTTP status, 0 when none is usable) and Region (the
	// catalog's region id, "" when the record has none) of a matched record.
	Outcome string
	Code    int64
	Region  string
}

// Emits tells whether the record is an audit event: matched and kept.
func (d *Decision) Emits() bool { return d.Result == Matched && d.Drop == Keep && !d.Unauthorized }

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
