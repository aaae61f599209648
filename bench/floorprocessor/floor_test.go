package floorprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// The floor writes its three attributes on an HTTP SERVER span, through a
// processor made by the factory, and leaves other spans alone.
func TestFloorTagsHTTPServerSpans(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	http := spans.AppendEmpty()
	http.SetKind(ptrace.SpanKindServer)
	http.Attributes().PutStr("http.request.method", "GET")
	http.Attributes().PutStr("url.path", "/v1/things")
	http.Attributes().PutInt("http.response.status_code", 404)
	plain := spans.AppendEmpty()
	plain.SetKind(ptrace.SpanKindServer)
	client := spans.AppendEmpty()
	client.SetKind(ptrace.SpanKindClient)
	client.Attributes().PutStr("http.request.method", "GET")

	f := NewFactory()
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	got := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	want := map[string]string{"audit.action": "floor.request.handle", "audit.outcome": "failure", "audit.region": "eu-de"}
	attrs := got.At(0).Attributes()
	for k, v := range want {
		if g, ok := attrs.Get(k); !ok || g.Str() != v {
			t.Errorf("%s = %v, want %q", k, g.AsRaw(), v)
		}
	}
	if n := got.At(1).Attributes().Len(); n != 0 {
		t.Errorf("a span without a method got %d attributes", n)
	}
	if n := got.At(2).Attributes().Len(); n != 1 {
		t.Errorf("a CLIENT span has %d attributes, want its 1", n)
	}
}
