package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/httppath"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// The attributes the processor owns and sets.
const (
	auditPrefix     = "audit."
	attrAction      = "audit.action"
	attrOutcome     = "audit.outcome"
	attrRegion      = "audit.region"
	attrSeverity    = "audit.severity"
	attrReasonCode  = "audit.reason.code"
	attrTargetType  = "audit.target.type"
	attrMessage     = "audit.message"
	attrInitiator   = "audit.initiator.id"
	severityNormal  = "normal"
	severityWarning = "warning"
	severityCrit    = "critical"
	failureSuffix   = " -failure"
	outcomeSuccess  = "success"
	outcomeFailure  = "failure"
	outcomePending  = "pending"
	outcomeUnknown  = "unknown"
	methodOther     = "_OTHER"
	maxStatusCode   = 599
	minStatusCode   = 100
	acceptedCode    = 202
	firstFailedCode = 400
)

// service is a catalog with its regions after the configured overrides.
type service struct {
	sends map[string]bool // region ids where the service sends events
	known map[string]bool // every region id of the catalog
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

type auditProcessor struct {
	matcher   *catalog.Matcher
	fields    map[*catalog.Event]*eventFields
	switches  FieldsConfig
	services  map[*catalog.Catalog]*service
	kinds     [8]bool // indexed by ptrace.SpanKind
	keys      AttributesConfig
	defRegion string
	onMissing Policy
	unmatched Policy
	telemetry *metadata.TelemetryBuilder
	signals   [2]signalAttrs
}

// signalAttrs holds the metric attribute sets of one signal, built once.
type signalAttrs struct {
	signal    metric.MeasurementOption
	byRegion  metric.MeasurementOption
	byMissing metric.MeasurementOption
	byUnmatch metric.MeasurementOption
}

const (
	signalTraces = iota
	signalLogs
)

func newAuditProcessor(set processor.Settings, cfg *Config) (*auditProcessor, error) {
	var catalogs []*catalog.Catalog
	for _, name := range cfg.BuiltinCatalogs {
		c, err := catalog.Builtin(name)
		if err != nil {
			return nil, fmt.Errorf("builtin_catalogs: %w", err)
		}
		catalogs = append(catalogs, c)
	}
	for i, file := range cfg.CatalogFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("catalog_files[%d]: %w", i, err)
		}
		c, err := catalog.Parse(file, data)
		if err != nil {
			return nil, fmt.Errorf("catalog_files[%d]: %w", i, err)
		}
		catalogs = append(catalogs, c)
	}
	byName := map[string]*catalog.Catalog{}
	names := make([]string, 0, len(catalogs))
	for _, c := range catalogs {
		byName[c.Service] = c
		names = append(names, c.Service)
	}
	for _, name := range sortedKeys(cfg.Services) {
		c := byName[name]
		if c == nil {
			return nil, fmt.Errorf("services.%s: no loaded catalog describes service %q (loaded: %s)", name, name, strings.Join(names, ", "))
		}
		c.CaseInsensitive = cfg.Services[name].CaseInsensitive
	}
	m, err := catalog.Compile(catalogs...)
	if err != nil {
		return nil, err
	}
	p := &auditProcessor{
		matcher:   m,
		fields:    map[*catalog.Event]*eventFields{},
		switches:  cfg.Fields,
		services:  map[*catalog.Catalog]*service{},
		keys:      cfg.Attributes,
		defRegion: cfg.Region.Default,
		onMissing: cfg.Region.OnMissing,
		unmatched: cfg.Unmatched,
	}
	for _, c := range catalogs {
		svc := &service{sends: map[string]bool{}, known: map[string]bool{}}
		for _, r := range c.Regions {
			svc.known[r.ID] = true
			if r.SendsEvents {
				svc.sends[r.ID] = true
			}
		}
		p.services[c] = svc
		for i := range c.Events {
			f := fieldsOf(c, &c.Events[i])
			f.svc = svc
			p.fields[&c.Events[i]] = f
		}
	}
	for _, name := range sortedKeys(cfg.Services) {
		sc := cfg.Services[name]
		c := byName[name]
		svc := p.services[c]
		if sc.RegionsMode == RegionsReplace {
			svc.sends = map[string]bool{}
		}
		for i, r := range sc.Regions {
			if !svc.known[r] {
				return nil, fmt.Errorf("services.%s.regions[%d]: unknown region id %q: catalog %s lists %s", name, i, r, c.Source, regionIDs(c))
			}
			svc.sends[r] = true
		}
	}
	if r := cfg.Region.Default; r != "" && !p.knownRegion(r) {
		return nil, fmt.Errorf("region.default: unknown region id %q: no loaded catalog lists it", r)
	}
	for _, k := range cfg.SpanKinds {
		p.kinds[spanKinds[k]] = true
	}
	p.telemetry, err = metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	for i, signal := range []string{"traces", "logs"} {
		s := attribute.String("signal", signal)
		reason := func(r string) metric.MeasurementOption {
			return metric.WithAttributeSet(attribute.NewSet(s, attribute.String("reason", r)))
		}
		p.signals[i] = signalAttrs{
			signal:    metric.WithAttributeSet(attribute.NewSet(s)),
			byRegion:  reason("unsupported_region"),
			byMissing: reason("missing_region"),
			byUnmatch: reason("unmatched"),
		}
	}
	return p, nil
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
	parts := strings.Split(ev.Action, ".")
	if len(parts) >= 3 {
		f.targetType = parts[0] + "/" + strings.Join(parts[1:len(parts)-1], ".")
	}
	switch parts[len(parts)-1] {
	case "delete":
		f.severity = severityCrit
	case "update":
		f.severity = severityWarning
	default:
		f.severity = severityNormal
	}
	if ev.Severity != "" {
		f.severity, f.explicit = ev.Severity, true
	}
	return f
}

// severity is the provider's rule: the catalog's explicit severity wins; a
// failure is critical for 401, 403, 503 and 507 and a warning otherwise; a
// success (or pending or unknown outcome) is rated by the action's verb.
func (f *eventFields) severityFor(outcome string, code int64) string {
	if f.explicit || outcome != outcomeFailure {
		return f.severity
	}
	switch code {
	case 401, 403, 503, 507:
		return severityCrit
	}
	return severityWarning
}

func regionIDs(c *catalog.Catalog) string {
	ids := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

func (p *auditProcessor) knownRegion(id string) bool {
	for _, svc := range p.services {
		if svc.known[id] {
			return true
		}
	}
	return false
}

func (p *auditProcessor) shutdown(context.Context) error {
	p.telemetry.Shutdown()
	return nil
}

// counts is what one batch did; it is added to the metrics once per batch.
type counts struct {
	matched, unmatched, malformed, removed        int64
	droppedRegion, droppedMissing, droppedUnmatch int64
}

func (c *counts) dropped() int64 { return c.droppedRegion + c.droppedMissing + c.droppedUnmatch }

func (p *auditProcessor) record(ctx context.Context, signal int, c *counts) {
	a := &p.signals[signal]
	t := p.telemetry
	for _, m := range []struct {
		n   int64
		add func(context.Context, int64, ...metric.AddOption)
		opt metric.MeasurementOption
	}{
		{c.matched, t.ProcessorAuditRecordsMatched.Add, a.signal},
		{c.unmatched, t.ProcessorAuditRecordsUnmatched.Add, a.signal},
		{c.malformed, t.ProcessorAuditRecordsMalformed.Add, a.signal},
		{c.removed, t.ProcessorAuditAttributesRemoved.Add, a.signal},
		{c.droppedRegion, t.ProcessorAuditRecordsDropped.Add, a.byRegion},
		{c.droppedMissing, t.ProcessorAuditRecordsDropped.Add, a.byMissing},
		{c.droppedUnmatch, t.ProcessorAuditRecordsDropped.Add, a.byUnmatch},
	} {
		if m.n > 0 {
			m.add(ctx, m.n, m.opt)
		}
	}
}

func (p *auditProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var c counts
	removeEmptied(td.ResourceSpans(), func(rs ptrace.ResourceSpans) (int, int) {
		c.removed += stripAudit(rs.Resource().Attributes())
		region := resourceRegion{raw: p.first(rs.Resource().Attributes(), p.keys.Region)}
		return removeEmptied(rs.ScopeSpans(), func(ss ptrace.ScopeSpans) (int, int) {
			c.removed += stripAudit(ss.Scope().Attributes())
			spans := ss.Spans()
			before := spans.Len()
			spans.RemoveIf(func(s ptrace.Span) bool {
				if !p.kinds[s.Kind()&7] {
					c.removed += stripAudit(s.Attributes())
					return false
				}
				return p.decide(&c, s.Attributes(), &region, s.Name(), s.Status().Code() == ptrace.StatusCodeError)
			})
			return before, spans.Len()
		})
	})
	p.record(ctx, signalTraces, &c)
	if c.dropped() > 0 && td.ResourceSpans().Len() == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

func (p *auditProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var c counts
	removeEmptied(ld.ResourceLogs(), func(rl plog.ResourceLogs) (int, int) {
		c.removed += stripAudit(rl.Resource().Attributes())
		region := resourceRegion{raw: p.first(rl.Resource().Attributes(), p.keys.Region)}
		return removeEmptied(rl.ScopeLogs(), func(sl plog.ScopeLogs) (int, int) {
			c.removed += stripAudit(sl.Scope().Attributes())
			records := sl.LogRecords()
			before := records.Len()
			records.RemoveIf(func(r plog.LogRecord) bool {
				return p.decide(&c, r.Attributes(), &region, "", false)
			})
			return before, records.Len()
		})
	})
	p.record(ctx, signalLogs, &c)
	if c.dropped() > 0 && ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// removeEmptied runs each on every element of a slice (resources or scopes)
// and removes the elements that it left empty by dropping records, never
// those that came in empty. each returns the element's child count before
// and after. removeEmptied returns the same for the slice.
func removeEmptied[S interface {
	Len() int
	RemoveIf(func(E) bool)
}, E any](s S, each func(E) (before, after int)) (int, int) {
	before := s.Len()
	s.RemoveIf(func(e E) bool {
		b, a := each(e)
		return a == 0 && b > 0
	})
	return before, s.Len()
}

// stripAudit removes every audit.* attribute and says how many there were.
func stripAudit(attrs pcommon.Map) int64 {
	var n int64
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		if strings.HasPrefix(k, auditPrefix) {
			n++
			return true
		}
		return false
	})
	return n
}

// first returns the first of keys that holds a string, or "".
func (p *auditProcessor) first(attrs pcommon.Map, keys []string) string {
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

// decide strips forged audit attributes from one record, matches it, tags
// it, counts what happened and tells whether to drop it.
func (p *auditProcessor) decide(c *counts, attrs pcommon.Map, rr *resourceRegion, spanName string, spanError bool) bool {
	c.removed += stripAudit(attrs)
	mv, ok := lookup(attrs, p.keys.Method)
	if !ok {
		return false // not an HTTP record
	}
	if mv.Type() != pcommon.ValueTypeStr || mv.Str() == "" {
		c.malformed++
		return false
	}
	method := strings.ToUpper(mv.Str())
	if method == methodOther {
		orig := p.first(attrs, p.keys.MethodOriginal)
		if orig == "" {
			c.malformed++
			return false
		}
		method = strings.ToUpper(orig)
	}
	ev, http, bad := p.match(attrs, method, spanName)
	switch {
	case bad:
		c.malformed++
		return false
	case !http:
		return false // a log record with a method but no path or route
	case ev == nil:
		c.unmatched++
		if p.unmatched == PolicyDrop {
			c.droppedUnmatch++
			return true
		}
		return false
	}
	c.matched++
	outcome, code, statusOK := outcomeOf(attrs, p.keys.StatusCode, spanError)
	if !statusOK {
		c.malformed++
	}
	f := p.fields[ev]
	// decide first, so that a record about to be dropped is not written to
	region, id, sends := rr.raw, "", true
	if region != "" {
		id, sends = rr.of(f.svc)
	} else {
		if region = p.first(attrs, p.keys.Region); region == "" {
			region = p.defRegion
		}
		if region != "" {
			id, sends = f.svc.region(region)
		}
	}
	switch {
	case region == "" && p.onMissing == PolicyDrop:
		c.droppedMissing++
		return true
	case !sends:
		c.droppedRegion++
		return true
	}
	p.tag(attrs, ev, f, outcome, id, code)
	return false
}

// resourceRegion is the region on a resource and, per service, what it
// normalises to and whether the service sends events from there: worked
// out for the first record of the resource that needs it, then reused.
type resourceRegion struct {
	raw  string
	n    int
	memo [4]struct {
		svc   *service
		id    string
		sends bool
	}
}

func (r *resourceRegion) of(svc *service) (id string, sends bool) {
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

// tag writes the audit attributes of a matched record that is kept. Room for
// exactly the attributes it writes is reserved once, so the attribute slice
// grows at most once and by no more than it needs.
func (p *auditProcessor) tag(attrs pcommon.Map, ev *catalog.Event, f *eventFields, outcome, region string, code int64) {
	initiator := ""
	if p.switches.InitiatorID {
		// a string or an int id; read before the puts below move the attributes
		if v, ok := lookup(attrs, p.keys.Initiator); ok && (v.Type() == pcommon.ValueTypeStr || v.Type() == pcommon.ValueTypeInt) {
			initiator = v.AsString()
		}
	}
	n := 2 + boolInt(region != "") + boolInt(p.switches.Severity) + boolInt(p.switches.ReasonCode && code > 0) +
		boolInt(p.switches.TargetType && f.targetType != "") + boolInt(p.switches.Message) + boolInt(initiator != "")
	attrs.EnsureCapacity(attrs.Len() + n)
	attrs.PutStr(attrAction, ev.Action)
	attrs.PutStr(attrOutcome, outcome)
	if region != "" {
		attrs.PutStr(attrRegion, region)
	}
	if p.switches.Severity {
		attrs.PutStr(attrSeverity, f.severityFor(outcome, code))
	}
	if p.switches.ReasonCode && code > 0 {
		attrs.PutInt(attrReasonCode, code)
	}
	if p.switches.TargetType && f.targetType != "" {
		attrs.PutStr(attrTargetType, f.targetType)
	}
	if p.switches.Message {
		if outcome == outcomeFailure {
			attrs.PutStr(attrMessage, f.failure)
		} else {
			attrs.PutStr(attrMessage, f.message)
		}
	}
	if initiator != "" {
		attrs.PutStr(attrInitiator, initiator)
	}
}

// match finds the record's event: by the server's route (attribute, then
// span name), else by the concrete path. http is false when the record has
// neither route nor path; bad is true when one of them has an unusable type.
func (p *auditProcessor) match(attrs pcommon.Map, method, spanName string) (ev *catalog.Event, http, bad bool) {
	route, hasRoute := "", false
	if v, ok := lookup(attrs, p.keys.Route); ok {
		if v.Type() != pcommon.ValueTypeStr {
			return nil, true, true
		}
		route, hasRoute = v.Str(), true
	} else if r, ok := routeFromSpanName(spanName, method); ok {
		route, hasRoute = r, true
	}
	if hasRoute {
		if ev = p.matcher.MatchRoute(method, route); ev != nil {
			return ev, true, false
		}
	}
	path, hasPath, bad := p.path(attrs)
	if bad {
		return nil, true, true
	}
	if !hasPath {
		return nil, hasRoute, false
	}
	canonical, ok := httppath.Canonical(path)
	if !ok {
		return nil, true, true
	}
	return p.matcher.MatchPath(method, canonical), true, false
}

// path returns the request path from url.path, http.target or the full URL.
func (p *auditProcessor) path(attrs pcommon.Map) (path string, ok, bad bool) {
	if v, found := lookup(attrs, p.keys.Path); found {
		if v.Type() != pcommon.ValueTypeStr {
			return "", false, true
		}
		return v.Str(), v.Str() != "", false
	}
	for _, src := range []struct {
		keys    []string
		extract func(string) (string, bool)
	}{{p.keys.Target, httppath.FromTarget}, {p.keys.URL, httppath.FromURL}} {
		if v, found := lookup(attrs, src.keys); found {
			if v.Type() != pcommon.ValueTypeStr {
				return "", false, true
			}
			path, ok = src.extract(v.Str())
			return path, ok, !ok
		}
	}
	return "", false, false
}

// routeFromSpanName reads the route of a span named "{METHOD} {route}", the
// form the HTTP semantic conventions give server spans when the route is
// known (Go's otelhttp reports the route only there).
func routeFromSpanName(name, method string) (string, bool) {
	if len(name) < len(method)+2 || name[len(method)] != ' ' || !strings.EqualFold(name[:len(method)], method) {
		return "", false
	}
	route := name[len(method)+1:]
	if strings.ContainsAny(route, " \t") {
		return "", false
	}
	return route, true
}

// outcomeOf maps the response status to an outcome and returns the status
// code (0 when there is none usable); ok is false when the
// status attribute is present but unusable, which then counts as absent.
func outcomeOf(attrs pcommon.Map, keys []string, spanError bool) (outcome string, code int64, ok bool) {
	code, ok = statusCode(attrs, keys)
	switch {
	case code == acceptedCode:
		return outcomePending, code, ok
	case code >= firstFailedCode:
		return outcomeFailure, code, ok
	case code > 0:
		return outcomeSuccess, code, ok
	case spanError:
		return outcomeFailure, code, ok
	}
	return outcomeUnknown, code, ok
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

// region normalises a region to the catalog's ids (lower case; a zone like
// eu-de-2 belongs to eu-de) and tells whether the service sends events there.
// A region the catalog does not list does not send events.
func (s *service) region(raw string) (id string, sends bool) {
	id = strings.ToLower(strings.TrimSpace(raw))
	if !s.known[id] {
		if i := strings.LastIndexByte(id, '-'); i > 0 && isDigits(id[i+1:]) && s.known[id[:i]] {
			id = id[:i]
		}
	}
	return id, s.sends[id]
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
