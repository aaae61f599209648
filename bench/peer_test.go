package bench

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/catalog"
)

// outcome is what a contender did to one span: dropped, or its audit.*
// attributes.
type outcome struct {
	dropped                bool
	action, result, region string
}

func (o outcome) String() string {
	if o.dropped {
		return "dropped"
	}
	return fmt.Sprintf("action=%q outcome=%q region=%q", o.action, o.result, o.region)
}

func outcomes(td ptrace.Traces, into map[pcommon.SpanID]outcome) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				attrs := s.Attributes()
				into[s.SpanID()] = outcome{action: str(attrs, "audit.action"), result: str(attrs, "audit.outcome"), region: str(attrs, "audit.region")}
			}
		}
	}
}

// The peer's generated OTTL tags and drops the benchmark input exactly as
// the processor does with the same catalogs: with the default configuration,
// and with every region sending, so that no matched record is dropped and
// every action (hence the statement order) is compared. Records from regions
// the catalogs do not list are dropped either way.
func TestPeerAgreesWithProcessor(t *testing.T) {
	for _, s := range []catalogSet{builtin, {"100", 5, OwnPrefix, false}, {"1000", 50, OwnPrefix, false}} {
		for _, allSend := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/all-regions-send=%t", s.name, allSend), func(t *testing.T) {
				agree(t, s, allSend)
			})
		}
	}
}

func agree(t *testing.T, s catalogSet, allSend bool) {
	ctx := context.Background()
	in := NewInput(catalogsOf(t, s), seed+7)
	src := in.Traces(2*RecordsPerBatch, resourcesPerBatch)
	// a forged attribute, which both must remove
	src.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("audit.action", "forged")

	// every span is dropped unless it comes out
	want := map[pcommon.SpanID]outcome{}
	outcomes(src, want)
	got := map[pcommon.SpanID]outcome{}
	for id := range want {
		want[id] = outcome{dropped: true}
		got[id] = outcome{dropped: true}
	}

	cfg := config(t, s).(*auditprocessor.Config)
	catalogs := catalogsOf(t, s)
	if allSend {
		cfg.Services = map[string]auditprocessor.ServiceConfig{}
		sending := make([]*catalog.Catalog, len(catalogs))
		for i, c := range catalogs {
			cp := *c
			cp.Regions = append([]catalog.Region(nil), c.Regions...)
			var ids []string
			for j := range cp.Regions {
				cp.Regions[j].SendsEvents = true
				ids = append(ids, cp.Regions[j].ID)
			}
			cfg.Services[c.Service] = auditprocessor.ServiceConfig{Regions: ids}
			sending[i] = &cp
		}
		catalogs = sending
	}

	sink := &consumertest.TracesSink{}
	p, err := auditprocessor.NewFactory().CreateTraces(ctx, settings(), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	ours := ptrace.NewTraces()
	src.CopyTo(ours)
	if err := p.ConsumeTraces(ctx, ours); err != nil {
		t.Fatal(err)
	}
	for _, td := range sink.AllTraces() {
		outcomes(td, want)
	}

	peer, err := NewPeer(PeerRules(catalogs))
	if err != nil {
		t.Fatal(err)
	}
	theirs := ptrace.NewTraces()
	src.CopyTo(theirs)
	if err := peer.ProcessTraces(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	outcomes(theirs, got)

	var tagged, dropped, untouched, diffs int
	for id, w := range want {
		switch {
		case w.dropped:
			dropped++
		case w.action != "":
			tagged++
		default:
			untouched++
		}
		if g := got[id]; g != w {
			if diffs++; diffs <= 10 {
				t.Errorf("span %s: ours %s, peer %s", id, w, g)
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d spans differ", diffs, len(want))
	}
	if tagged == 0 || untouched == 0 || dropped == 0 {
		t.Errorf("tagged %d, dropped %d, untouched %d: the sample does not exercise every decision", tagged, dropped, untouched)
	}
	t.Logf("%d spans: %d tagged and kept, %d dropped, %d untouched", len(want), tagged, dropped, untouched)
}
