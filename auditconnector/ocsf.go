package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// The OCSF body (event.format: ocsf). The same decision as the provider's
// body, written as an OCSF API Activity event (class 6003, category 6,
// Application Activity) of OCSFVersion, with the cloud and trace profiles.
// README "OCSF events" has the mapping as a table; internal/ocsfcheck checks
// every event the tests make against facts taken from the schema's release.
//
// The body is the event as JSON text, one string: a forwarder that ships
// the body as it is (a SIEM's HTTP collector, Kafka, S3) passes exactly the
// OCSF document, numbers typed as the schema says, with no re-encoding of a
// map per exporter; a store that flattens map bodies cannot put a resource
// attribute (cloud.region) beside the event's own fields; and writing one
// string costs less than building the nested maps. The record's timestamps,
// ids, severity, event name and audit.* attributes are the provider
// format's, so the pipeline after the connector still sees the decision.

// OCSFVersion is the OCSF release the events follow (metadata.version).
const OCSFVersion = "1.8.0"

// The class, its category, and the profiles the events apply.
const (
	ocsfCategoryUID = 6
	ocsfClassUID    = 6003
	ocsfProfiles    = `["cloud","trace"]`
)

// ocsfClass is the classification of every event, up to type_uid's value.
var ocsfClass = `,"category_uid":` + strconv.Itoa(ocsfCategoryUID) + `,"category_name":"Application Activity","class_uid":` +
	strconv.Itoa(ocsfClassUID) + `,"class_name":"API Activity","type_uid":`

// ocsfActivities are activity_id and its caption by the action's verb;
// any other verb is 99 (Other), with the verb as activity_name.
var ocsfActivities = map[string]struct {
	id   int64
	name string
}{"create": {1, "Create"}, "read": {2, "Read"}, "update": {3, "Update"}, "delete": {4, "Delete"}}

// ocsfSeverities are severity_id and its caption by the audit severity. A
// provider's critical event (a deletion, a refused call) is one request:
// High ("action is required immediately"), not Critical, which OCSF keeps
// for a broad scope.
var ocsfSeverities = map[string]string{
	audit.SeverityNormal:   `"severity_id":1,"severity":"Informational"`,
	audit.SeverityWarning:  `"severity_id":3,"severity":"Medium"`,
	audit.SeverityCritical: `"severity_id":4,"severity":"High"`,
}

// ocsfStatuses are status_id and status by the outcome; pending (202) is 99,
// Other.
var ocsfStatuses = map[string]string{
	audit.OutcomeSuccess: `"status_id":1,"status":"Success"`,
	audit.OutcomeFailure: `"status_id":2,"status":"Failure"`,
	audit.OutcomePending: `"status_id":99,"status":"Pending"`,
	audit.OutcomeUnknown: `"status_id":0,"status":"Unknown"`,
}

// DefaultCloudProvider is cloud.provider when the source resource has no
// cloud.provider attribute: the provider whose catalogs and regions the
// audit follows, in the OpenTelemetry spelling.
const DefaultCloudProvider = "ibm_cloud"

// ocsfWriter writes the OCSF bodies of one connector; what does not change
// from event to event is written once, here.
type ocsfWriter struct {
	// metadata opens the metadata object: version, profiles, product and
	// log_provider (event.observer_name).
	metadata string
}

// newOCSFWriter returns the writer for event.format ocsf, else nil.
func newOCSFWriter(event EventConfig, build component.BuildInfo) *ocsfWriter {
	if event.Format != FormatOCSF {
		return nil
	}
	var e integrity.Encoder
	e.Raw(`"metadata":{"version":"` + OCSFVersion + `","profiles":` + ocsfProfiles + `,"product":{"name":`)
	e.String(build.Command)
	e.Raw(`,"vendor_name":"otel-audit","version":`)
	e.String(build.Version)
	e.Raw(`},"log_provider":`)
	e.String(event.ObserverName)
	return &ocsfWriter{metadata: string(e.Bytes())}
}

// write sets the record's body to the OCSF event of d; the rest of the
// record is written by the connector's write, as for the provider format.
func (w *ocsfWriter) write(c *auditConnector, a *audit.Auditor, lr plog.LogRecord, d *audit.Decision, src *source, ts pcommon.Timestamp) {
	e := encoders.Get().(*integrity.Encoder)
	e.Reset()
	action := d.Event.Action
	verb := action[strings.LastIndexByte(action, '.')+1:]
	activity, known := ocsfActivities[verb]
	if !known {
		activity.id, activity.name = 99, verb
	}
	e.Raw(`{"activity_id":`)
	e.Int(activity.id)
	e.Raw(`,"activity_name":`)
	e.String(activity.name)
	e.Raw(ocsfClass)
	e.Int(ocsfClassUID*100 + activity.id)
	e.Raw(`,"type_name":"API Activity: `)
	if known {
		e.Raw(activity.name)
	} else {
		e.Raw("Other")
	}
	e.Raw(`","time":`)
	e.Int(int64(ts) / 1e6)
	e.Raw(",")
	e.Raw(ocsfSeverities[d.Severity()])
	e.Raw(",")
	e.Raw(ocsfStatuses[d.Outcome])
	if d.Code > 0 {
		e.Raw(`,"status_code":"`)
		e.Int(d.Code)
		e.Raw(`","status_detail":`)
		e.String(http.StatusText(int(d.Code)))
	}
	e.Raw(`,"message":`)
	e.String(d.Message())

	// metadata: the event id, the trace id as the correlation id, the
	// authenticated sender as the reporter
	e.Raw(",")
	e.Raw(w.metadata)
	e.Raw(`,"uid":"`)
	e.Raw(eventID(src, action))
	e.Raw(`"`)
	var traceID string
	if !src.traceID.IsEmpty() {
		traceID = src.traceID.String()
		e.Raw(`,"correlation_uid":"`)
		e.Raw(traceID)
		e.Raw(`"`)
	}
	if d.Sender != "" {
		e.Raw(`,"reporter":{"uid":`)
		e.String(d.Sender)
		e.Raw("}")
	}
	e.Raw("}")

	// api: the action, its service, the request (the span) and response
	e.Raw(`,"api":{"operation":`)
	e.String(action)
	if cat := d.Event.Catalog; cat != nil { // every loaded catalog's event has one
		e.Raw(`,"service":{"name":`)
		e.String(cat.Service)
		e.Raw("}")
	}
	if !src.spanID.IsEmpty() {
		e.Raw(`,"request":{"uid":"`)
		e.Raw(src.spanID.String())
		e.Raw(`"}`)
	}
	if d.Code > 0 {
		e.Raw(`,"response":{"code":`)
		e.Int(d.Code)
		e.Raw("}")
	}
	e.Raw("}")

	// actor and src_endpoint are required: empty when nothing is known
	e.Raw(`,"actor":{`)
	if id := a.Initiator(src.attrs); id != "" {
		e.Raw(`"user":{"uid":`)
		e.String(id)
		e.Raw("}")
	}
	e.Raw(`},"src_endpoint":{`)
	if address := a.ClientAddress(src.attrs); address != "" {
		if _, err := netip.ParseAddr(address); err == nil {
			e.Raw(`"ip":`)
		} else {
			e.Raw(`"hostname":`)
		}
		e.String(address)
	}
	e.Raw("}")

	// http_request: the method, the matched route (never the concrete
	// path, which may carry personal data), the user agent
	e.Raw(`,"http_request":{"http_method":`)
	e.String(d.Request.Method)
	e.Raw(`,"url":{"path":`)
	e.String(d.Event.Route)
	e.Raw("}")
	if agent := a.UserAgent(src.attrs); agent != "" {
		e.Raw(`,"user_agent":`)
		e.String(agent)
	}
	e.Raw("}")
	if d.Code > 0 {
		e.Raw(`,"http_response":{"code":`)
		e.Int(d.Code)
		e.Raw("}")
	}

	// cloud (the cloud profile): the provider, the catalog's region
	e.Raw(`,"cloud":{"provider":`)
	if p, ok := src.resource.Get("cloud.provider"); ok && p.Type() == pcommon.ValueTypeStr && p.Str() != "" {
		e.String(p.Str())
	} else {
		e.Raw(`"` + DefaultCloudProvider + `"`)
	}
	if d.Region != "" {
		e.Raw(`,"region":`)
		e.String(d.Region)
	}
	e.Raw("}")

	// resources: the target
	typeURI := d.TargetType()
	targetID, targetName := c.firstOf(c.event.TargetID, src), c.firstOf(c.event.TargetName, src)
	if typeURI != "" || targetID != "" || targetName != "" {
		e.Raw(`,"resources":[{`)
		first := true
		for _, f := range [...]struct{ k, v string }{{"type", typeURI}, {"uid", targetID}, {"name", targetName}} {
			if f.v != "" {
				e.Key(f.k, first)
				e.String(f.v)
				first = false
			}
		}
		e.Raw("}]")
	}

	// trace (the trace profile)
	if traceID != "" {
		e.Raw(`,"trace":{"uid":"`)
		e.Raw(traceID)
		e.Raw(`"}`)
	}

	// unmapped: the provider's fields that OCSF has no home for
	e.Raw(`,"unmapped":{"dataEvent":`)
	e.Raw(strconv.FormatBool(d.Event.DataEvent))
	if c.event.LogSourceCRN != "" {
		e.Raw(`,"logSourceCRN":`)
		e.String(c.event.LogSourceCRN)
	}
	if c.event.SaveServiceCopy != nil {
		e.Raw(`,"saveServiceCopy":`)
		e.Raw(strconv.FormatBool(*c.event.SaveServiceCopy))
	}
	e.Raw("}}")
	lr.Body().SetStr(string(e.Bytes()))
	encoders.Put(e)
}
