package audit

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/httppath"
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
)

// Request is what a record says of its HTTP request.
type Request struct {
	// Method is upper case; _OTHER is replaced by the original method.
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
}

// Audits tells whether spans of the kind are audited (span_kinds).
func (a *Auditor) Audits(kind ptrace.SpanKind) bool {
	return kind >= 0 && int(kind) < len(a.kinds) && a.kinds[kind]
}

// Match reads a record's method, route and path by the configured keys and
// finds its event: by the server's route (attribute, then span name), else
// by the canonical path; each in the scoped catalogs that apply to the
// record first, then in the unscoped ones. res is the record's resource
// (NewResource); nil stands for a resource with no attributes. spanName is
// "" for log records.
func (a *Auditor) Match(attrs pcommon.Map, res *Resource, spanName string) (m Match) {
	mv, ok := lookup(attrs, a.keys.Method)
	if !ok {
		return m // not an HTTP record
	}
	if mv.Type() != pcommon.ValueTypeStr || mv.Str() == "" {
		m.Result = Malformed
		return m
	}
	r := &m.Request
	r.Method = strings.ToUpper(mv.Str())
	if r.Method == methodOther {
		orig := FirstString(attrs, a.keys.MethodOriginal)
		if orig == "" {
			m.Result = Malformed
			return m
		}
		r.Method = strings.ToUpper(orig)
	}
	if v, ok := lookup(attrs, a.keys.Route); ok {
		if v.Type() != pcommon.ValueTypeStr {
			m.Result = Malformed
			return m
		}
		r.Route, r.HasRoute = v.Str(), true
	} else {
		r.Route, r.HasRoute = routeFromSpanName(spanName, r.Method)
	}
	scope := a.scopedFor(attrs, res, &m)
	if r.HasRoute {
		if m.Event, m.Matcher = a.matchRoute(scope, r.Method, r.Route); m.Event != nil {
			m.Result, m.ByRoute = Matched, true
			return m
		}
	}
	path, hasPath, bad := a.path(attrs)
	switch {
	case bad:
		m.Result = Malformed
		return m
	case !hasPath:
		if r.HasRoute {
			m.Result = Unmatched
		}
		return m
	}
	r.RawPath = path
	r.Path, ok = httppath.Canonical(path)
	if !ok {
		m.Result = Malformed
		return m
	}
	r.HasPath = true
	if m.Event, m.Matcher = a.matchPath(scope, r.Method, r.Path); m.Event != nil {
		m.Result = Matched
	} else {
		m.Result = Unmatched
	}
	return m
}

// scopedFor returns the scope of the scoped catalogs that apply to the
// record (nil for none) and marks a record none applies to.
func (a *Auditor) scopedFor(attrs pcommon.Map, res *Resource, m *Match) *catalog.Scope {
	if len(a.scopes.list) == 0 {
		return nil
	}
	if res == nil {
		empty := a.NewResource(pcommon.NewMap())
		res = &empty
	}
	names, scope := res.names, res.scope
	if a.scopes.anyHosts {
		names = names.and(a.scopes.byHost(a.hostOf(attrs)))
		scope = a.scopes.scope(names)
	}
	m.Unselected = scope == nil
	return scope
}

// matchRoute finds a reported route in the scoped catalogs of the scope
// first, then in the unscoped ones; it returns the matcher that decided.
func (a *Auditor) matchRoute(scope *catalog.Scope, method, route string) (*catalog.Event, *catalog.Matcher) {
	if scope != nil {
		if ev := a.scopes.shared.MatchRouteIn(method, route, scope); ev != nil {
			return ev, a.scopes.shared
		}
	}
	return a.matcher.MatchRoute(method, route), a.matcher
}

// matchPath is matchRoute for a concrete path.
func (a *Auditor) matchPath(scope *catalog.Scope, method, path string) (*catalog.Event, *catalog.Matcher) {
	if scope != nil {
		if ev := a.scopes.shared.MatchPathIn(method, path, scope); ev != nil {
			return ev, a.scopes.shared
		}
	}
	return a.matcher.MatchPath(method, path), a.matcher
}

// MatchRequest resolves a method and a request target given as text (a
// path with or without a query, an absolute URL, or a route template when
// route is set) the way Match resolves a record that carries it, from a
// service of the given service.name (may be "") and server host (may be "").
func (a *Auditor) MatchRequest(method, target string, route bool, service, host string) Match {
	resource := pcommon.NewMap()
	if service != "" {
		resource.PutStr(a.keys.ServiceName[0], service)
	}
	res := a.NewResource(resource)
	attrs := pcommon.NewMap()
	if host != "" {
		attrs.PutStr(a.keys.ServerAddress[0], host)
	}
	attrs.PutStr(a.keys.Method[0], method)
	switch {
	case route:
		attrs.PutStr(a.keys.Route[0], target)
	case strings.Contains(target, "://"):
		attrs.PutStr(a.keys.URL[0], target)
	default:
		attrs.PutStr(a.keys.Target[0], target)
	}
	m := a.Match(attrs, &res, "")
	if m.Matcher != nil && m.Matcher == a.scopes.shared {
		// for explaining: the catalogs that applied, not every scoped one
		sel := res.names
		if a.scopes.anyHosts {
			sel = sel.and(a.scopes.byHost(a.hostOf(attrs)))
		}
		if own, err := a.scopes.opts.Compile(a.scopes.catalogs(sel)...); err == nil {
			m.Matcher = own
		}
	}
	return m
}

// path returns the request path from url.path, http.target or the full URL.
func (a *Auditor) path(attrs pcommon.Map) (path string, ok, bad bool) {
	if v, found := lookup(attrs, a.keys.Path); found {
		if v.Type() != pcommon.ValueTypeStr {
			return "", false, true
		}
		return v.Str(), v.Str() != "", false
	}
	if v, found := lookup(attrs, a.keys.Target); found {
		return extract(v, httppath.FromTarget)
	}
	if v, found := lookup(attrs, a.keys.URL); found {
		return extract(v, httppath.FromURL)
	}
	return "", false, false
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

// outcomeOf maps the response status to an outcome and returns the status
// code (0 when there is none usable); ok is false when the status attribute
// is present but unusable, which then counts as absent.
func outcomeOf(attrs pcommon.Map, keys []string, spanError bool) (outcome string, code int64, ok bool) {
	code, ok = statusCode(attrs, keys)
	switch {
	case code == acceptedCode:
		return OutcomePending, code, ok
	case code >= firstFailedCode:
		return OutcomeFailure, code, ok
	case code > 0:
		return OutcomeSuccess, code, ok
	case spanError:
		return OutcomeFailure, code, ok
	}
	return OutcomeUnknown, code, ok
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

// Initiator returns who made the request (attributes.initiator), a string
// or an int id; "" when absent.
func (a *Auditor) Initiator(attrs pcommon.Map) string {
	if v, ok := lookup(attrs, a.keys.Initiator); ok && (v.Type() == pcommon.ValueTypeStr || v.Type() == pcommon.ValueTypeInt) {
		return v.AsString()
	}
	return ""
}

// ClientAddress returns the caller's address (attributes.client_address):
// the first hop of a forwarded-for list, whether a string ("a, b") or a
// list of strings; "" when absent.
func (a *Auditor) ClientAddress(attrs pcommon.Map) string {
	for _, k := range a.keys.ClientAddress {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		s := ""
		switch v.Type() {
		case pcommon.ValueTypeStr:
			s = v.Str()
		case pcommon.ValueTypeSlice:
			if v.Slice().Len() > 0 && v.Slice().At(0).Type() == pcommon.ValueTypeStr {
				s = v.Slice().At(0).Str()
			}
		}
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[:i]
		}
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// UserAgent returns the caller's user agent (attributes.user_agent).
func (a *Auditor) UserAgent(attrs pcommon.Map) string { return FirstString(attrs, a.keys.UserAgent) }

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
	for _, k := range []string{AttrAction, AttrOutcome, AttrRegion, AttrSeverity, AttrReasonCode, AttrTargetType, AttrMessage, AttrInitiator} {
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
