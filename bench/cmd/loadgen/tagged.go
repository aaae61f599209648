package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor"
)

// tagPayloads returns the payloads as an audit processor with the YAML
// configuration auditYAML exports them: the pre-tagged input. It fails if
// the processor drops any span, since then the two inputs would not be the
// same load.
func tagPayloads(plain *payloads, auditYAML string) (*payloads, error) {
	cfg, err := auditConfig(auditYAML)
	if err != nil {
		return nil, err
	}
	f := auditprocessor.NewFactory()
	sink := new(consumertest.TracesSink)
	proc, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		return nil, err
	}
	out := &payloads{}
	for i, b := range plain.protos {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return nil, err
		}
		if err := proc.ConsumeTraces(context.Background(), req.Traces()); err != nil {
			return nil, err
		}
		got := sink.AllTraces()[i]
		if got.SpanCount() != plain.spans[i] {
			return nil, fmt.Errorf("batch %d: the processor kept %d of %d spans", i, got.SpanCount(), plain.spans[i])
		}
		tagged := ptraceotlp.NewExportRequestFromTraces(got)
		pb, err := tagged.MarshalProto()
		if err != nil {
			return nil, err
		}
		out.reqs = append(out.reqs, tagged)
		out.protos = append(out.protos, pb)
		out.spans = append(out.spans, got.SpanCount())
	}
	return out, nil
}

// auditConfig is the processor's configuration from the YAML body a
// pipelineConfig gives it, as the collector would load it.
func auditConfig(auditYAML string) (*auditprocessor.Config, error) {
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(auditYAML), &raw); err != nil {
		return nil, err
	}
	cfg := auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// countTagged counts the spans of td and those that carry audit.action.
func countTagged(td ptrace.Traces) (spans, tagged int) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j).Spans()
			for k := 0; k < ss.Len(); k++ {
				spans++
				if _, ok := ss.At(k).Attributes().Get("audit.action"); ok {
					tagged++
				}
			}
		}
	}
	return spans, tagged
}
