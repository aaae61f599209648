package audit

import "go.opentelemetry.io/collector/pdata/pcommon"

// Decide reads one record and decides what happens to it; rr is the
// record's resource (NewResource). It reads the record and never changes
// it.
func (a *Auditor) Decide(v *View, rr *Resource) (d Decision) {
	a.match(v.Attrs, rr, v.SpanName, &d.Match)
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
	f := d.fields
	if f == nil {
		f = a.fields[d.Event]
	}
	if !a.authorize(&d, f.svc, &rr.Sender) {
		d.fields = nil // an unauthorized record is not tagged: it has none
		return d
	}
	d.Outcome = outcomeOf(d.Code, v.Error())
	d.fields = f
	region, sends := rr.raw, true
	if region != "" {
		d.Region, sends = rr.of(f.svc)
	} else {
		if region = FirstString(v.Attrs, a.keys.Region); region == "" {
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
	n := 2 + boolInt(d.Sender != "") + boolInt(d.Region != "") + boolInt(sw.Severity) + boolInt(sw.ReasonCode && d.Code > 0) +
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
	if d.Sender != "" {
		dst.PutStr(AttrSender, d.Sender)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
