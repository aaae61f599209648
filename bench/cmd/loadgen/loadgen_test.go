package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/bench"
	"github.com/otel-audit/auditprocessor/e2e/harness"
)

func input(t *testing.T) *bench.Input {
	t.Helper()
	catalogs, err := bench.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	return bench.NewInput(catalogs, 42)
}

// The sink counts the spans of the payloads as the decoder does (which
// buildPayloads checks on each), and inspects 1 request in sampleEvery:
// the HTTP sender sends the pre-tagged input straight to an instance's sink.
func TestSinkCountsPayloads(t *testing.T) {
	files, err := bench.WriteAllSending(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := buildPayloads(input(t), 4, 500, 8)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := tagPayloads(plain, pipelines(files, bench.PeerConfig{})["audit"].audit)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{p: pre}
	if in.sink, err = harness.StartSink(harness.SinkOptions{InspectEvery: sampleEvery, InspectTraces: in.inspect}); err != nil {
		t.Fatal(err)
	}
	defer in.sink.Close()
	s := newHTTPSender(in.sink.URL, pre, 1)
	defer s.close()
	want := 0
	for i := range sampleEvery + 1 {
		n, err := s.send(t.Context(), i%len(pre.spans))
		if err != nil || n != pre.spans[i%len(pre.spans)] {
			t.Fatalf("request %d: %d spans accepted, %v", i, n, err)
		}
		want += n
	}
	if got := in.sink.Spans(); got != int64(want) {
		t.Errorf("the sink counted %d spans, want %d", got, want)
	}
	// Requests 1 and sampleEvery+1 are inspected: batches 0 and sampleEvery % 4.
	spans, tagged := in.sampledSpans.Load(), in.sampledTagged.Load()
	if wantSpans := pre.spans[0] + pre.spans[sampleEvery%len(pre.spans)]; spans != int64(wantSpans) {
		t.Errorf("%d spans inspected, want %d", spans, wantSpans)
	}
	if share := float64(tagged) / float64(spans); share < 0.75 || share > 0.85 {
		t.Errorf("tagged share of the inspected spans %.2f, want about 0.8", share)
	}
}

// The "audit" configuration tags what the default one tags and drops nothing.
func TestAllSendingCatalogsDropNothing(t *testing.T) {
	files, err := bench.WriteAllSending(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := input(t).Traces(4000, 8)
	run := func(cfg *auditprocessor.Config) (spans, tagged int) {
		sink := &consumertest.TracesSink{}
		f := auditprocessor.NewFactory()
		p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		td := ptrace.NewTraces()
		src.CopyTo(td)
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		for _, td := range sink.AllTraces() {
			s, tg := countTagged(td)
			spans, tagged = spans+s, tagged+tg
		}
		return spans, tagged
	}
	def := auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	all := auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	all.BuiltinCatalogs, all.CatalogFiles = []string{}, files

	spans, tagged := run(all)
	if spans != src.SpanCount() {
		t.Errorf("all regions sending: %d of %d spans came out", spans, src.SpanCount())
	}
	defSpans, defTagged := run(def)
	if defSpans >= spans || defTagged >= tagged {
		t.Errorf("default config: %d spans, %d tagged; all sending: %d, %d", defSpans, defTagged, spans, tagged)
	}
	// Everything matched is tagged: 80% of the input.
	if share := float64(tagged) / float64(spans); share < 0.75 || share > 0.85 {
		t.Errorf("tagged share %.2f, want about 0.8", share)
	}
}

// The pre-tagged input is what the "audit" configuration exports, and it is
// a fixed point of that configuration: the processor, sent it, exports the
// same bytes it received, so "audit-tagged" and "without-tagged" decode and
// export the same data and differ only by the processor's work.
func TestPreTaggedInput(t *testing.T) {
	files, err := bench.WriteAllSending(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	all := pipelines(files, bench.PeerConfig{})
	if !all["audit-tagged"].tagged || !all["without-tagged"].tagged || all["audit"].tagged ||
		all["audit-tagged"].audit != all["audit"].audit || all["without-tagged"].audit != "" ||
		all["audit-tagged"].base != "without-tagged" || all["audit"].base != "without" {
		t.Fatalf("the pre-tagged pair is not `audit` and `without` on the pre-tagged input: %+v", all)
	}
	plain, err := buildPayloads(input(t), 4, 500, 8)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := tagPayloads(plain, all["audit"].audit)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tagPayloads(pre, all["audit"].audit)
	if err != nil {
		t.Fatal(err)
	}
	spans, tagged, fields := 0, 0, 0
	for i := range plain.protos {
		if pre.spans[i] != plain.spans[i] {
			t.Errorf("batch %d: %d spans pre-tagged, %d plain", i, pre.spans[i], plain.spans[i])
		}
		if len(pre.protos[i]) <= len(plain.protos[i]) {
			t.Errorf("batch %d: pre-tagged %d bytes, plain %d", i, len(pre.protos[i]), len(plain.protos[i]))
		}
		if !bytes.Equal(again.protos[i], pre.protos[i]) {
			t.Errorf("batch %d: the processor changed the pre-tagged input (%d bytes in, %d out)", i, len(pre.protos[i]), len(again.protos[i]))
		}
		if n, err := harness.CountRecords(pre.protos[i]); err != nil || n != pre.spans[i] {
			t.Errorf("batch %d: CountRecords = %d, %v; want %d", i, n, err, pre.spans[i])
		}
		rss := pre.reqs[i].Traces().ResourceSpans()
		for r := 0; r < rss.Len(); r++ {
			ss := rss.At(r).ScopeSpans().At(0).Spans()
			for k := 0; k < ss.Len(); k++ {
				spans++
				attrs := ss.At(k).Attributes()
				if _, ok := attrs.Get("audit.action"); ok {
					tagged++
				}
				attrs.Range(func(key string, _ pcommon.Value) bool {
					if strings.HasPrefix(key, "audit.") {
						fields++
					}
					return true
				})
			}
		}
	}
	// 80% of the spans match, and a tagged span carries 6 to 8 fields
	// (reason code and initiator only when the span has them).
	if share := float64(tagged) / float64(spans); share < 0.75 || share > 0.85 {
		t.Errorf("tagged share %.2f, want about 0.8", share)
	}
	if per := float64(fields) / float64(tagged); per < 6 || per > 8 {
		t.Errorf("%.1f audit attributes per tagged span, want 6 to 8", per)
	}
}

func TestCollectorYAML(t *testing.T) {
	with := collectorYAML(pipelineConfig{name: "x", audit: "{}"})
	without := collectorYAML(pipelineConfig{name: "y"})
	if !strings.Contains(with, "processors: [memory_limiter, audit, batch]") || !strings.Contains(with, "  audit:\n    {}\n") {
		t.Errorf("with the processor:\n%s", with)
	}
	if !strings.Contains(without, "processors: [memory_limiter, batch]") || strings.Contains(without, "audit:") {
		t.Errorf("without the processor:\n%s", without)
	}
}

func TestCountersOf(t *testing.T) {
	m, err := harness.ParseMetrics(strings.NewReader(`# TYPE otelcol_receiver_accepted_spans counter
otelcol_receiver_accepted_spans{receiver="otlp",transport="http"} 1500
otelcol_receiver_accepted_spans{receiver="otlp",transport="grpc"} 500
otelcol_processor_audit_records_dropped{reason="unsupported_region",signal="traces"} 7 1700000000000
otelcol_processor_audit_records_dropped{reason="unsupported_region",signal="logs"} 3
`))
	if err != nil {
		t.Fatal(err)
	}
	c := countersOf(m)
	if c.accepted != 2000 || c.auditDropped != 7 {
		t.Errorf("counters %+v", c)
	}
}

// BenchmarkProcessor runs the processor in process with the configurations
// of the end-to-end runs, on the same requests, to set the collector's
// overhead beside the processor's own cost:
//
//	go test -run '^$' -bench Processor ./cmd/loadgen
func BenchmarkProcessor(b *testing.B) {
	files, err := bench.WriteAllSending(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	catalogs, err := bench.Builtins()
	if err != nil {
		b.Fatal(err)
	}
	// The batches are decoded from OTLP protobuf inside the loop, as the
	// receiver decodes them: the decoder's attribute slices have the spare
	// capacity of append growth (16 for 9-16 attributes), which CopyTo's
	// exact-size copies would hide.
	plain, err := buildPayloads(bench.NewInput(catalogs, 42), 4, 500, 8)
	if err != nil {
		b.Fatal(err)
	}
	all := pipelines(files, bench.PeerConfig{})
	pretagged, err := tagPayloads(plain, all["audit"].audit)
	if err != nil {
		b.Fatal(err)
	}
	f := auditprocessor.NewFactory()
	var unmarshaler ptrace.ProtoUnmarshaler
	for _, name := range []string{"audit", "audit-core", "audit-default", "audit-tagged"} {
		b.Run("config="+name, func(b *testing.B) {
			cfg, err := auditConfig(all[name].audit)
			if err != nil {
				b.Fatal(err)
			}
			src := plain
			if all[name].tagged {
				src = pretagged
			}
			p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				td, err := unmarshaler.UnmarshalTraces(src.protos[i%len(src.protos)])
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := p.ConsumeTraces(context.Background(), td); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/500, "ns/span")
		})
	}
}

// The split of the overhead: made-up CPU figures (s per 100k spans) for
// the four configurations give the differences they must.
func TestWriteSplit(t *testing.T) {
	cpu := map[string]float64{"without": 0.5, "audit": 0.6, "without-tagged": 0.56, "audit-tagged": 0.61}
	var results []result
	for c, v := range cpu {
		l := load{offered: 100000, sent: 100000, accepted: 100000, duration: time.Second, elapsed: time.Second}
		results = append(results, result{config: c, rate: 100000, load: l, cpu: v, drained: true})
	}
	o := options{configs: []string{"without", "audit", "without-tagged", "audit-tagged"}, rates: []float64{100000}}
	var b strings.Builder
	writeSplit(&b, o, groups(results, o.configs, o.rates))
	want := "| 100000 | 0.100 (+20.0%) | 0.050 (+10.0%) | 0.050 (+10.0%) |"
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), "`audit` +20.0% of `without`, of which the processor's own work +10.0%") {
		t.Errorf("want %q in\n%s", want, b.String())
	}
	b.Reset()
	o.configs = o.configs[:3]
	writeSplit(&b, o, groups(results, o.configs, o.rates))
	if b.Len() != 0 {
		t.Errorf("without audit-tagged, no split; got\n%s", b.String())
	}
}

// The connectors' CPU per event: made-up CPU figures (s per 100k spans)
// and event counts give each connector's cost per event against its base
// and the ratio of the two.
func TestEventCosts(t *testing.T) {
	type fig struct {
		cpu    float64
		events int64
	}
	// 100k spans accepted per step: audit-connector costs 0.2 s more than
	// audit for 50k events (4 µs each), floor-connector 0.25 s more than
	// floor for 100k events (2.5 µs each).
	figs := map[string]fig{"without": {0.5, 0}, "audit": {0.6, 0}, "audit-connector": {0.8, 50000}, "floor": {0.55, 0}, "floor-connector": {0.8, 100000}}
	var results []result
	for c, f := range figs {
		l := load{offered: 100000, sent: 100000, accepted: 100000, duration: time.Second, elapsed: time.Second}
		results = append(results, result{config: c, rate: 100000, load: l, cpu: f.cpu, events: f.events, drained: true})
	}
	o := options{configs: []string{"without", "audit", "audit-connector", "floor", "floor-connector"}, rates: []float64{100000}}
	var b strings.Builder
	writeComparisons(&b, o, groups(results, o.configs, o.rates))
	for _, want := range []string{
		"- the audit connector: 0.50 events per span; CPU per event (`audit-connector` − `audit`, per event received): median 4.00 µs over 1 steps",
		"- the floor connector: 1.00 events per span; CPU per event (`floor-connector` − `floor`, per event received): median 2.50 µs over 1 steps",
		"- CPU per event, `audit-connector` / `floor-connector` (median over the 1 steps both measured: 100k): 1.60×",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("want %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	o.configs = []string{"without", "audit", "audit-connector", "floor-connector"}
	writeComparisons(&b, o, groups(results, o.configs, o.rates))
	if s := b.String(); strings.Contains(s, "floor connector") || strings.Contains(s, "/ `floor-connector`") {
		t.Errorf("without floor, no cost for the floor connector; got\n%s", s)
	}
}

// The CSV has a row per configuration and step that ran, configuration by
// configuration; the report's table, step by step.
func TestCSVAndReportOrder(t *testing.T) {
	var results []result
	for _, c := range []string{"without", "audit"} {
		for _, rate := range []float64{1000, 2000} {
			l := load{offered: int(rate), sent: int(rate), accepted: int(rate), duration: time.Second, elapsed: time.Second}
			results = append(results, result{config: c, rate: rate, load: l, cpu: rate / 1e5, wall: time.Second, drained: true})
		}
	}
	o := options{configs: []string{"audit", "without"}, rates: []float64{1000, 2000, 4000}}
	var b strings.Builder
	writeCSV(&b, o, results)
	want := `config,rate,cpu_s_per_100k,achieved,sustained
audit,1000,1.0000,1000,true
audit,2000,1.0000,2000,true
without,1000,1.0000,1000,true
without,2000,1.0000,2000,true
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	writeReport(&b, o, "test", nil, results)
	var rows []string
	for _, l := range strings.Split(b.String(), "\n") {
		if f := strings.Split(l, " | "); len(f) == 10 && strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| offered") {
			rows = append(rows, strings.TrimPrefix(f[0], "| ")+" "+f[1])
		}
	}
	if want := []string{"1000 audit", "1000 without", "2000 audit", "2000 without"}; !slices.Equal(rows, want) {
		t.Errorf("report rows %q, want %q", rows, want)
	}
}

// The peer's collector configuration carries the generated OTTL unchanged,
// in the pipeline order transform, filter; the connector configuration
// exports the traces to the connector and its events to the sink.
func TestPeerAndConnectorYAML(t *testing.T) {
	catalogs, err := bench.AllSending()
	if err != nil {
		t.Fatal(err)
	}
	peer := bench.PeerRules(catalogs)
	all := pipelines([]string{"/tmp/a.yaml"}, peer)
	var cfg struct {
		Processors struct {
			Transform struct {
				TraceStatements []struct {
					Context    string   `yaml:"context"`
					Statements []string `yaml:"statements"`
				} `yaml:"trace_statements"`
			} `yaml:"transform"`
			Filter struct {
				TraceConditions []struct {
					Context    string   `yaml:"context"`
					Conditions []string `yaml:"conditions"`
				} `yaml:"trace_conditions"`
			} `yaml:"filter"`
		} `yaml:"processors"`
		Connectors map[string]any `yaml:"connectors"`
		Service    struct {
			Pipelines map[string]struct {
				Receivers  []string `yaml:"receivers"`
				Processors []string `yaml:"processors"`
				Exporters  []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(collectorYAML(all["ottl"])), &cfg); err != nil {
		t.Fatal(err)
	}
	ts, fc := cfg.Processors.Transform.TraceStatements, cfg.Processors.Filter.TraceConditions
	for _, l := range [][]string{ts[0].Statements, fc[0].Conditions} {
		for i := range l {
			l[i] = strings.ReplaceAll(l[i], "$$", "$") // as the collector reads them
		}
	}
	if len(ts) != 1 || ts[0].Context != "span" || !slices.Equal(ts[0].Statements, peer.Statements) {
		t.Errorf("transform statements differ from the peer's: %+v", ts)
	}
	if len(fc) != 1 || fc[0].Context != "span" || !slices.Equal(fc[0].Conditions, peer.Conditions) {
		t.Errorf("filter conditions differ from the peer's: %+v", fc)
	}
	if got := cfg.Service.Pipelines["traces"].Processors; !slices.Equal(got, []string{"memory_limiter", "transform", "filter", "batch"}) {
		t.Errorf("ottl pipeline %v", got)
	}

	cfg.Service.Pipelines = nil
	if err := yaml.Unmarshal([]byte(collectorYAML(all["audit-connector"])), &cfg); err != nil {
		t.Fatal(err)
	}
	traces, events := cfg.Service.Pipelines["traces"], cfg.Service.Pipelines["logs/events"]
	if !slices.Equal(traces.Exporters, []string{"otlp_http", "audit"}) || !slices.Equal(traces.Processors, []string{"memory_limiter", "audit", "batch"}) {
		t.Errorf("connector's traces pipeline %+v", traces)
	}
	if !slices.Equal(events.Receivers, []string{"audit"}) || !slices.Equal(events.Exporters, []string{"otlp_http"}) || cfg.Connectors["audit"] == nil {
		t.Errorf("connector's events pipeline %+v, connectors %v", events, cfg.Connectors)
	}

	cfg.Service.Pipelines, cfg.Connectors = nil, nil
	if err := yaml.Unmarshal([]byte(collectorYAML(all["floor-connector"])), &cfg); err != nil {
		t.Fatal(err)
	}
	traces, events = cfg.Service.Pipelines["traces"], cfg.Service.Pipelines["logs/events"]
	if !slices.Equal(traces.Exporters, []string{"otlp_http", "floor"}) || !slices.Equal(traces.Processors, []string{"memory_limiter", "floor", "batch"}) {
		t.Errorf("floor connector's traces pipeline %+v", traces)
	}
	if _, ok := cfg.Connectors["floor"]; !ok || len(cfg.Connectors) != 1 || !slices.Equal(events.Receivers, []string{"floor"}) || !slices.Equal(events.Exporters, []string{"otlp_http"}) {
		t.Errorf("floor connector's events pipeline %+v, connectors %v", events, cfg.Connectors)
	}
	if all["floor-connector"].binary != binFloor {
		t.Errorf("floor-connector runs on %s, want %s", all["floor-connector"].binary, binFloor)
	}
}
