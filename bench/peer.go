package bench

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/catalog"
)

// The peer does the processor's job the way a collector user does it today:
// transformprocessor statements (one per catalog route, each guarded by
// audit.action == nil so that the first match wins, most specific routes
// first) and a filterprocessor condition per service that drops records from
// regions where the service sends no events. It runs them on the OTTL engine
// itself (pkg/ottl v1.3.1, span context), the way both processors do: one
// transform context per span, the statement sequence, then RemoveIf with
// the condition sequence.

// PeerConfig is the generated OTTL.
type PeerConfig struct {
	Statements []string // transform, span context
	Conditions []string // filter, span context: drop when any is true
}

// PeerRules generates the statements and conditions for the catalogs.
func PeerRules(catalogs []*catalog.Catalog) PeerConfig {
	var cfg PeerConfig
	add := func(format string, args ...any) {
		cfg.Statements = append(cfg.Statements, fmt.Sprintf(format, args...))
	}
	// Read the request, in the order the processor reads it.
	add(`delete_matching_keys(span.attributes, "^audit\\.")`)
	add(`set(span.cache["method"], span.attributes["http.request.method"]) where span.kind == SPAN_KIND_SERVER`)
	add(`set(span.cache["method"], span.attributes["http.method"]) where span.kind == SPAN_KIND_SERVER and span.cache["method"] == nil`)
	add(`set(span.cache["path"], span.attributes["url.path"]) where span.cache["method"] != nil`)
	add(`set(span.cache["path"], span.attributes["http.target"]) where span.cache["method"] != nil and span.cache["path"] == nil`)
	add(`replace_pattern(span.cache["path"], "[?#].*$", "") where span.cache["path"] != nil`)
	// One statement per route.
	type rule struct {
		ev   *catalog.Event
		spec specificity
	}
	var rules []rule
	for _, c := range catalogs {
		for i := range c.Events {
			if ev := &c.Events[i]; ev.HasRoute() {
				rules = append(rules, rule{ev, specificityOf(ev)})
			}
		}
	}
	slices.SortStableFunc(rules, func(a, b rule) int { return a.spec.compare(b.spec) })
	for _, r := range rules {
		add(`set(span.attributes["audit.action"], %q) where span.attributes["audit.action"] == nil and span.cache["method"] == %q and IsMatch(span.cache["path"], %q)`,
			r.ev.Action, r.ev.Method, routeRegex(r.ev))
	}
	// Outcome and region of matched records.
	const matched = `span.attributes["audit.action"] != nil`
	add(`set(span.cache["status"], span.attributes["http.response.status_code"]) where %s`, matched)
	add(`set(span.cache["status"], span.attributes["http.status_code"]) where %s and span.cache["status"] == nil`, matched)
	add(`set(span.attributes["audit.outcome"], "success") where %s and span.cache["status"] != nil and span.cache["status"] < 400`, matched)
	add(`set(span.attributes["audit.outcome"], "failure") where %s and span.cache["status"] != nil and span.cache["status"] >= 400`, matched)
	add(`set(span.attributes["audit.outcome"], "pending") where %s and span.cache["status"] == 202`, matched)
	add(`set(span.attributes["audit.outcome"], "failure") where %s and span.cache["status"] == nil and span.status.code == STATUS_CODE_ERROR`, matched)
	add(`set(span.attributes["audit.outcome"], "unknown") where %s and span.attributes["audit.outcome"] == nil`, matched)
	add(`set(span.attributes["audit.region"], ToLowerCase(resource.attributes["cloud.region"])) where %s and resource.attributes["cloud.region"] != nil`, matched)
	add(`set(span.attributes["audit.region"], ToLowerCase(span.attributes["cloud.region"])) where %s and span.attributes["audit.region"] == nil and span.attributes["cloud.region"] != nil`, matched)
	var known []string
	for _, c := range catalogs {
		for _, r := range c.Regions {
			if !slices.Contains(known, r.ID) {
				known = append(known, r.ID)
			}
		}
	}
	slices.Sort(known)
	add(`replace_pattern(span.attributes["audit.region"], %q, "${1}") where span.attributes["audit.region"] != nil`,
		"^("+strings.Join(known, "|")+")-[0-9]+$")
	// Drop: one condition per service.
	for _, c := range catalogs {
		cond := fmt.Sprintf(`span.attributes["audit.region"] != nil and HasPrefix(span.attributes["audit.action"], %q)`, c.Service+".")
		var sends []string
		for _, r := range c.Regions {
			if r.SendsEvents {
				sends = append(sends, fmt.Sprintf(`span.attributes["audit.region"] == %q`, r.ID))
			}
		}
		if len(sends) > 0 {
			cond += " and not (" + strings.Join(sends, " or ") + ")"
		}
		cfg.Conditions = append(cfg.Conditions, cond)
	}
	return cfg
}

// routeRegex is the anchored regular expression of an event's route.
func routeRegex(ev *catalog.Event) string {
	if ev.RouteIsRegex {
		return "^(?:" + strings.TrimSuffix(strings.TrimPrefix(ev.Route, "^"), "$") + ")$"
	}
	var b strings.Builder
	b.WriteString("^")
	for _, seg := range strings.Split(strings.TrimPrefix(ev.Route, "/"), "/") {
		b.WriteString("/")
		switch {
		case strings.HasSuffix(seg, "...}"):
			b.WriteString(".*")
		case seg == "{$}":
		case strings.HasPrefix(seg, "{"):
			b.WriteString("[^/]+")
		default:
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return b.String()
}

// specificity orders the statements so that a more specific route comes
// first: more literal segments, then fewer multi-segment wildcards, then
// constrained parameters before free ones. This is what a user writing the
// statements by hand would have to get right; the equivalence test checks it
// on the benchmark input.
type specificity struct{ literals, rests, free int }

func (a specificity) compare(b specificity) int {
	switch {
	case a.literals != b.literals:
		return b.literals - a.literals
	case a.rests != b.rests:
		return a.rests - b.rests
	}
	return a.free - b.free
}

func specificityOf(ev *catalog.Event) specificity {
	var s specificity
	route := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(ev.Route, "^"), "$"), "[/]?")
	for _, seg := range strings.Split(strings.TrimPrefix(route, "/"), "/") {
		switch {
		case seg == ".+" || seg == ".*" || strings.HasSuffix(seg, "...}"):
			s.rests++
		case seg == "[^/]+" || strings.HasPrefix(seg, "{"):
			s.free++
		case seg == `\d+` || seg == "[0-9]+":
		default:
			s.literals++
		}
	}
	return s
}

// Peer is the compiled OTTL.
type Peer struct {
	transform ottl.StatementSequence[*ottlspan.TransformContext]
	drop      ottl.ConditionSequence[*ottlspan.TransformContext]
}

// NewPeer parses the OTTL with the standard functions, as the transform and
// filter processors do.
func NewPeer(cfg PeerConfig) (*Peer, error) {
	set := componenttest.NewNopTelemetrySettings()
	parser, err := ottlspan.NewParser(ottlfuncs.StandardFuncs[*ottlspan.TransformContext](), set, ottlspan.EnablePathContextNames())
	if err != nil {
		return nil, err
	}
	statements, err := parser.ParseStatements(cfg.Statements)
	if err != nil {
		return nil, err
	}
	conditions, err := parser.ParseConditions(cfg.Conditions)
	if err != nil {
		return nil, err
	}
	return &Peer{
		transform: ottlspan.NewStatementSequence(statements, set, ottlspan.WithStatementSequenceErrorMode(ottl.PropagateError)),
		drop:      ottlspan.NewConditionSequence(conditions, set, ottlspan.WithConditionSequenceErrorMode(ottl.PropagateError)),
	}, nil
}

// ProcessTraces transforms, then filters, the batch in place.
func (p *Peer) ProcessTraces(ctx context.Context, td ptrace.Traces) error {
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				tCtx := ottlspan.NewTransformContext(rs, ss, spans.At(k))
				if err := p.transform.Execute(ctx, tCtx); err != nil {
					keep(err)
				}
				tCtx.Close()
			}
		}
	}
	rss.RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				tCtx := ottlspan.NewTransformContext(rs, ss, s)
				defer tCtx.Close()
				drop, err := p.drop.Eval(ctx, tCtx)
				if err != nil {
					keep(err)
				}
				return drop
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	return firstErr
}
