package audit

import (
	"net"
	"net/url"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/httppath"
)

// Audits tells whether a record is audited: a log record always, a span
// when its kind is one of span_kinds.
func (a *Auditor) Audits(v *View) bool {
	if !v.IsSpan() {
		return true
	}
	kind := v.Kind()
	return kind >= 0 && int(kind) < len(a.kinds) && a.kinds[kind]
}

// Match reads a record's method, route, path and status by the configured
// keys and finds its event: by the server's route (attribute, then span
// name), else by the canonical path; each in the scoped catalogs that apply
// to the record first, then in the unscoped ones. A request the router
// refused (RouterRefused) matches nothing. HEAD finds the GET route only where
// the record shows that a GET handler ran (HeadServedByGet). res is the
// record's resource (NewResource); nil stands for a resource with no
// attributes. spanName is "" for log records.
func (a *Auditor) Match(attrs pcommon.Map, res *Resource, spanName string) (m Match) {
	a.match(attrs, res, spanName, &m)
	return
}

// match is Match into m, which must be zero: Decide matches into its
// Decision without copying a Match.
func (a *Auditor) match(attrs pcommon.Map, res *Resource, spanName string, m *Match) {
	mv, ok := lookup(attrs, a.keys.Method)
	if !ok {
		return // not an HTTP record
	}
	if mv.Type() != pcommon.ValueTypeStr || mv.Str() == "" {
		m.Result = Malformed
		return
	}
	r := &m.Request
	r.Method = mv.Str()
	if r.Method == methodOther {
		if r.Method = FirstString(attrs, a.keys.MethodOriginal); r.Method == "" {
			m.Result = Malformed
			return
		}
	}
	if v, ok := lookup(attrs, a.keys.Route); ok {
		if v.Type() != pcommon.ValueTypeStr {
			m.Result = Malformed
			return
		}
		r.Route, r.HasRoute = v.Str(), true
	} else {
		r.Route, r.HasRoute = routeFromSpanName(spanName, r.Method)
	}
	var statusOK bool
	r.Status, statusOK = statusCode(attrs, a.keys.StatusCode)
	r.badStatus = !statusOK
	if r.RouterRefused() {
		m.Result = Refused
		return
	}
	headAsGet := r.HeadServedByGet()
	scope := a.scopedFor(attrs, res, m)
	if r.HasRoute {
		if m.Event, m.Matcher, m.fields = a.matchRoute(scope, r.Method, r.Route, headAsGet); m.Event != nil {
			m.Result, m.ByRoute = Matched, true
			return
		}
	}
	path, hasPath, bad := a.path(attrs)
	switch {
	case bad:
		m.Result = Malformed
		return
	case !hasPath:
		if r.HasRoute {
			m.Result = Unmatched
		}
		return
	}
	r.RawPath = path
	r.Path, ok = httppath.Canonical(path)
	if !ok {
		m.Result = Malformed
		return
	}
	r.HasPath = true
	if m.Event, m.Matcher = a.matchPath(scope, r.Method, r.Path, headAsGet); m.Event != nil {
		m.Result = Matched
	} else {
		m.Result = Unmatched
	}
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
// The matcher gives a HEAD request that no HEAD route matches the GET
// route; unless headAsGet, that is no match. It returns the event's fields
// too when the route cache holds them (nil: Decide looks them up).
func (a *Auditor) matchRoute(scope *catalog.Scope, method, route string, headAsGet bool) (*catalog.Event, *catalog.Matcher, *eventFields) {
	if scope != nil {
		if ev := served(a.scopes.shared.MatchRouteIn(method, route, scope), method, headAsGet); ev != nil {
			return ev, a.scopes.shared, nil
		}
	}
	ev, f := a.routes.matchRoute(a.matcher, a.fields, method, route)
	if ev = served(ev, method, headAsGet); ev == nil {
		f = nil
	}
	return ev, a.matcher, f
}

// matchPath is matchRoute for a concrete path.
func (a *Auditor) matchPath(scope *catalog.Scope, method, path string, headAsGet bool) (*catalog.Event, *catalog.Matcher) {
	if scope != nil {
		if ev := served(a.scopes.shared.MatchPathIn(method, path, scope), method, headAsGet); ev != nil {
			return ev, a.scopes.shared
		}
	}
	return served(a.matcher.MatchPath(method, path), method, headAsGet), a.matcher
}

// MatchRequest resolves a method and a request target given as text (a
// path with or without a query, an absolute URL, or a route template when
// route is set) the way Match resolves a record that carries it, from a
// service of the given service.name (may be "") and server host (may be ""),
// answered with status (0: the record has none).
func (a *Auditor) MatchRequest(method, target string, route bool, service, host string, status int) Match {
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
	if status != 0 {
		attrs.PutInt(a.keys.StatusCode[0], int64(status))
	}
	switch {
	case route:
		attrs.PutStr(a.keys.Route[0], target)
	case strings.Contains(target, "://"):
		attrs.PutStr(a.keys.URL[0], target)
	default:
		attrs.PutStr(a.keys.Target[0], target)
	}
	return a.Match(attrs, &res, "")
}

// ScopedFor returns the scoped catalogs that apply to a record of the given
// service.name and server host (each may be ""), in loading order.
func (a *Auditor) ScopedFor(service, host string) []*catalog.Catalog {
	if len(a.scopes.list) == 0 {
		return nil
	}
	sel := a.scopes.byName(service)
	if a.scopes.anyHosts {
		sel = sel.and(a.scopes.byHost(strings.ToLower(host)))
	}
	return a.scopes.catalogs(sel)
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

// hostOf returns the server's host of a record: attributes.server_address,
// else the host of attributes.url, else attributes.host_header; lower case,
// without the port.
func (a *Auditor) hostOf(attrs pcommon.Map) string {
	host := FirstString(attrs, a.keys.ServerAddress)
	if host == "" {
		if u := FirstString(attrs, a.keys.URL); u != "" {
			if parsed, err := url.Parse(u); err == nil {
				host = parsed.Hostname()
			}
		}
	}
	if host == "" {
		host = FirstString(attrs, a.keys.HostHeader)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
	}
	return strings.ToLower(host)
}
