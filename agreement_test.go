package auditprocessor

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// The agreement tests feed every case of the bad-data table and of the
// ServeMux differential test through the processor (the component, from
// its factory) and through the reading auditcatalog runs: coverage reads
// each record with audit.Auditor.Match, match resolves its METHOD TARGET
// with audit.Auditor.MatchRequest (cmd/auditcatalog/coverage.go, match.go).
// The decisions must be the same record by record.

const indexKey = "test.index"

// everyRegionConfig is the default configuration with every region of the
// built-in catalogs sending events, so that the processor drops no record
// it matched and every decision shows on the record.
func everyRegionConfig(t testing.TB) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Services = audittest.EveryRegion(t)
	return cfg
}

// cliDecision is what auditcatalog's reading makes of a record: the action,
// or "unmatched", "malformed", "" (not an HTTP record).
func cliDecision(m audit.Match) string {
	switch m.Result {
	case audit.Matched:
		return m.Event.Action
	case audit.Unmatched:
		return "unmatched"
	case audit.Malformed:
		return "malformed"
	case audit.Refused:
		return "refused"
	}
	return ""
}

// processorDecision is what the processor made of one record processed on
// its own: the action it tagged, else what its counters say.
func processorDecision(t *testing.T, out pcommon.Map, kept bool, r *audittest.Running, signal string) string {
	if kept {
		if v, ok := out.Get(audit.AttrAction); ok {
			return v.Str()
		}
	}
	for _, name := range []string{"unmatched", "malformed", "refused"} {
		if n, ok := counterOK(t, r, "records_"+name, signal); ok && n > 0 {
			return name
		}
	}
	if !kept {
		if n, _ := counterOK(t, r, "records_matched", signal); n > 0 {
			return "dropped" // matched, from a region no catalog lists
		}
		t.Fatal("dropped without a match")
	}
	return ""
}

// counterOK is counter, telling whether the metric was recorded at all.
func counterOK(t *testing.T, r *audittest.Running, name, signal string) (int64, bool) {
	if _, err := r.Tel.GetMetric("otelcol_processor_audit_" + name); err != nil {
		return 0, false
	}
	return r.Counter(t, name, signal), true
}

func TestAgreementBadData(t *testing.T) {
	cfg := everyRegionConfig(t)
	a, err := audit.Load(&cfg.Config)
	require.NoError(t, err)
	decisions := map[string]int{}
	for _, tc := range badDataCases {
		for _, signal := range audittest.Signals {
			t.Run(signal+"/"+tc.name, func(t *testing.T) {
				in := audittest.NewOne(t, signal, tc.resource, tc.attrs, tc.spanName)
				resource, _, _ := in.Levels()
				res := a.NewResource(resource)
				want := cliDecision(a.Match(in.Attrs(), &res, in.SpanName()))
				r := audittest.Start(t, NewFactory(), signal, cfg)
				var out pcommon.Map
				o, kept := r.Run(t, in)
				if kept {
					out = o.Attrs()
				}
				got := processorDecision(t, out, kept, r, signal)
				if got == "dropped" {
					// coverage does not judge regions: it counts the match
					assert.Equal(t, "action", classOf(want), want)
				} else {
					assert.Equal(t, want, got)
				}
				decisions[classOf(got)]++
			})
		}
	}
	t.Logf("bad-data decisions: %v", decisions)
	// every kind of decision occurs, so the comparison covers each
	for _, k := range []string{"action", "unmatched", "malformed", "refused", ""} {
		assert.Positive(t, decisions[k], "decision %q", k)
	}
}

func classOf(decision string) string {
	switch decision {
	case "unmatched", "malformed", "refused", "":
		return decision
	}
	return "action"
}

// TestAgreementServeMux sends every request of the ServeMux differential
// test, in every telemetry form, through the processor in one batch, and
// compares each record's action with coverage's reading; the request
// target as a user types it is also given to match's resolution.
func TestAgreementServeMux(t *testing.T) {
	cfg := everyRegionConfig(t)
	a, err := audit.Load(&cfg.Config)
	require.NoError(t, err)
	ref := newMuxRef(t)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	var coverage, match []string
	var counts [audit.Refused + 1]int
	for _, tg := range muxTargets(ref, rand.New(rand.NewPCG(7, 11))) {
		method, target := tg[0], tg[1]
		_, req, _, status, ok := ref.serve(method, target)
		if !ok {
			continue // rejected before routing: no telemetry
		}
		for _, f := range forms {
			if req.URL.Opaque != "" && !strings.HasPrefix(f.name, "http.target raw") {
				continue
			}
			s := spans.AppendEmpty()
			s.SetKind(ptrace.SpanKindServer)
			raw := f.record(method, target, req, status)
			require.NoError(t, s.Attributes().FromRaw(raw))
			m := a.Match(s.Attributes(), nil, "")
			counts[m.Result]++
			coverage = append(coverage, actionOf(m))
			want := "-" // not what a user types
			if strings.HasPrefix(f.name, "http.target raw") {
				code := status
				if f.noStatus {
					code = 0
				}
				want = actionOf(a.MatchRequest(method, target, false, "", "", code))
			}
			match = append(match, want)
			s.Attributes().PutInt(indexKey, int64(len(coverage)-1))
		}
	}
	r := audittest.Start(t, NewFactory(), "traces", cfg)
	out := r.Consume(t, td).(ptrace.Traces)
	seen, disagree, typed := 0, 0, 0
	for _, w := range match {
		if w != "-" {
			typed++
		}
	}
	for _, s := range out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().All() {
		i, ok := s.Attributes().Get(indexKey)
		require.True(t, ok)
		got := ""
		if v, ok := s.Attributes().Get(audit.AttrAction); ok {
			got = v.Str()
		}
		seen++
		if coverage[i.Int()] != got {
			disagree++
			assert.Equal(t, coverage[i.Int()], got, "coverage, record %d: %v", i.Int(), s.Attributes().AsRaw())
		}
		if w := match[i.Int()]; w != "-" && w != got {
			disagree++
			assert.Equal(t, w, got, "match, record %d: %v", i.Int(), s.Attributes().AsRaw())
		}
	}
	require.Equal(t, len(coverage), seen, "the processor dropped nothing")
	assert.Zero(t, disagree)
	// the counters agree too: unmatched and malformed records
	assert.Equal(t, int64(counts[audit.Unmatched]), r.Counter(t, "records_unmatched", "traces"))
	assert.Equal(t, int64(counts[audit.Malformed]), r.Counter(t, "records_malformed", "traces"))
	assert.Equal(t, int64(counts[audit.Matched]), r.Counter(t, "records_matched", "traces"))
	assert.Equal(t, int64(counts[audit.Refused]), r.Counter(t, "records_refused", "traces"))
	t.Logf("%d records: %d matched, %d unmatched, %d malformed, %d refused; %d targets as typed to match", seen,
		counts[audit.Matched], counts[audit.Unmatched], counts[audit.Malformed], counts[audit.Refused], typed)
	for _, r := range []audit.Result{audit.Matched, audit.Unmatched, audit.Malformed, audit.Refused} {
		assert.Positive(t, counts[r])
	}
}

func actionOf(m audit.Match) string {
	if m.Result == audit.Matched {
		return m.Event.Action
	}
	return ""
}
