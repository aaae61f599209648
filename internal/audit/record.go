package audit

import (
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// Prefix is the attribute namespace the components own (Owned); incoming
// records lose the keys of it that this project writes (Ours).
const Prefix = "audit."

const (
	methodOther     = "_OTHER"
	maxStatusCode   = 599
	minStatusCode   = 100
	acceptedCode    = 202
	firstFailedCode = 400
)

// The outcomes of an audited request.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomePending = "pending"
	OutcomeUnknown = "unknown"
)

// Result is what a record is to the audit.
type Result uint8

// The results of reading a record.
const (
	// NotHTTP: no method, or (a log record) a method with neither a route
	// nor a path. Passed through untouched.
	NotHTTP Result = iota
	// Malformed: an attribute that decides the match has an unusable type or
	// value. Passed through untouched, and counted.
	Malformed
	// Unmatched: an HTTP record that matches no catalog event.
	Unmatched
	// Matched: an HTTP record of a catalog event.
	Matched
	// Refused: the router refused the request, so no handler ran and it is
	// no action: status 405, or 404 with a route reported present but
	// empty. Passed through untouched, never dropped, and counted.
	Refused
)

// Request is what a record says of its HTTP request.
type Request struct {
	// Method is the method as the record gives it, compared with the
	// catalog's case-sensitively as ServeMux compares it (the standard
	// methods are upper case); _OTHER is replaced by the original method,
	// as it is.
	Method string
	// Route is the route the server reported (http.route, else the span
	// name "{METHOD} {route}"); HasRoute tells whether there is one.
	Route    string
	HasRoute bool
	// Path is the concrete path, canonicalised as ServeMux does, and
	// RawPath the path as the record gave it. They are read only when the
	// route does not decide the match. HasPath tells whether there is one.
	Path, RawPath string
	HasPath       bool
	// Status is the response status (100-599), 0 when there is none or it
	// is unusable; badStatus tells that it is present but unusable.
	Status    int64
	badStatus bool
}

// Match is a record's request resolved against the catalogs.
type Match struct {
	Result  Result
	Request Request
	// Event is the matched catalog event (Result Matched).
	Event *catalog.Event
	// ByRoute tells whether the reported route found the event, rather than
	// the concrete path.
	ByRoute bool
	// Unselected is set when catalogs are scoped and none selects the
	// record: it was matched against the unscoped catalogs only.
	Unselected bool
	// Matcher is the compiled catalogs that decided (scoped, else unscoped).
	Matcher *catalog.Matcher
	// fields are Event's audit fields when the route cache gave them; else
	// Decide looks them up.
	fields *eventFields
}

// RouterRefused tells whether the record shows that the router refused the
// request, so that no handler ran: status 405 (the path has routes, of
// other methods), or status 404 with a route the instrumentation reports
// as present but empty (the router matched nothing: otelgin, otelchi). A
// 404 with a route is a handler's answer (a missing object), and a 404
// without route information may be one too.
func (r *Request) RouterRefused() bool {
	return r.Status == http.StatusMethodNotAllowed || r.Status == http.StatusNotFound && r.HasRoute && r.Route == ""
}

// HeadServedByGet tells whether a HEAD request may be the GET action: only
// where the record shows that a GET handler ran, by a route (the router
// found one: ServeMux, Express and fastify serve HEAD by the GET route), or,
// without route information, by a 2xx or 3xx status. gin, echo and chi do
// not serve HEAD by GET: they answer 404 with an empty route, or 405.
func (r *Request) HeadServedByGet() bool {
	if r.Method != http.MethodHead {
		return false
	}
	if r.HasRoute {
		return r.Route != ""
	}
	return r.Status >= http.StatusOK && r.Status < http.StatusBadRequest
}

// served is ev, unless it is the GET route the matcher found for a HEAD
// request that the record does not show was served by GET.
func served(ev *catalog.Event, method string, headAsGet bool) *catalog.Event {
	if ev != nil && method == http.MethodHead && ev.Method != http.MethodHead && !headAsGet {
		return nil
	}
	return ev
}

func extract(v pcommon.Value, from func(string) (string, bool)) (path string, ok, bad bool) {
	if v.Type() != pcommon.ValueTypeStr {
		return "", false, true
	}
	path, ok = from(v.Str())
	return path, ok, !ok
}

// routeFromSpanName reads the route of a span named "{METHOD} {route}", the
// form the HTTP semantic conventions give server spans when the route is
// known (Go's otelhttp reports the route only there).
func routeFromSpanName(name, method string) (string, bool) {
	if len(name) < len(method)+2 || name[len(method)] != ' ' || !strings.EqualFold(name[:len(method)], method) {
		return "", false
	}
	route := name[len(method)+1:]
	if strings.IndexByte(route, ' ') >= 0 || strings.IndexByte(route, '\t') >= 0 {
		return "", false
	}
	return route, true
}

// FirstString returns the value of the first of keys that holds a string, or "".
func FirstString(attrs pcommon.Map, keys []string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok && v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
	}
	return ""
}

// lookup returns the value of the first of keys present on the record.
func lookup(attrs pcommon.Map, keys []string) (pcommon.Value, bool) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			return v, true
		}
	}
	return pcommon.Value{}, false
}

// outcomeOf maps the response status (0: none usable) to an outcome.
func outcomeOf(code int64, spanError bool) string {
	switch {
	case code == acceptedCode:
		return OutcomePending
	case code >= firstFailedCode:
		return OutcomeFailure
	case code > 0:
		return OutcomeSuccess
	case spanError:
		return OutcomeFailure
	}
	return OutcomeUnknown
}

// statusCode reads an int or numeric-string status in 100-599; 0 when absent
// or unusable (then ok is false).
func statusCode(attrs pcommon.Map, keys []string) (code int64, ok bool) {
	v, found := lookup(attrs, keys)
	if !found {
		return 0, true
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		code = v.Int()
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64)
		if err != nil {
			return 0, false
		}
		code = n
	case pcommon.ValueTypeDouble:
		code = int64(v.Double())
		if float64(code) != v.Double() {
			return 0, false
		}
	default:
		return 0, false
	}
	if code < minStatusCode || code > maxStatusCode {
		return 0, false
	}
	return code, true
}

// Owned tells whether an attribute key is in the namespace the components
// keep for themselves: audit.*, and audit itself. A configuration may not
// read an attribute from it (the keys it lists must be the sender's).
func Owned(key string) bool {
	return strings.HasPrefix(key, Prefix) || key == Prefix[:len(Prefix)-1]
}

// written are the attribute keys this project writes: the processor's tags
// and the connector's integrity attributes.
var written = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{AttrAction, AttrOutcome, AttrRegion, AttrSeverity, AttrReasonCode, AttrTargetType, AttrMessage, AttrInitiator, AttrSender} {
		m[k] = true
	}
	for _, k := range integrity.Keys {
		m[k] = true
	}
	return m
}()

// Ours tells whether an incoming record's attribute is one this project
// writes, and so may not come from a sender: exactly the keys the processor
// tags with and the connector's integrity keys (audit.chain.*), and audit
// itself, whatever its type (a map named audit holding action is
// audit.action to a store that flattens maps). Other audit.* keys (the
// OpenTelemetry Audit Logging proposal's audit.integrity.*, for one) are the
// sender's and are left alone.
func Ours(key string) bool {
	if len(key) < len(Prefix)-1 || key[:len(Prefix)-1] != Prefix[:len(Prefix)-1] {
		return false // most keys: one comparison
	}
	return key == Prefix[:len(Prefix)-1] || written[key]
}

// Strip removes every attribute this project writes (Ours) and says how
// many there were. Most records carry none: a read-only scan finds that
// without RemoveIf's call per attribute.
func Strip(attrs pcommon.Map) int64 {
	found := false
	for k := range attrs.All() {
		if Ours(k) {
			found = true
			break
		}
	}
	if !found {
		return 0
	}
	var n int64
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		if Ours(k) {
			n++
			return true
		}
		return false
	})
	return n
}
