package auditconnector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
)

// Every map of an event is made with room for exactly what it holds: an
// optional entry costs the allocations of its own value, never a larger
// copy of the map it goes into (the body's entries are 40 bytes each).
// Each row adds one entry to an event whose maps are otherwise the same.
func TestEventMapsSized(t *testing.T) {
	span := func(attrs map[string]string) ptrace.Traces {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "stt-api")
		rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		s.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
		s.SetKind(ptrace.SpanKindServer)
		s.SetName("POST /v1/customizations")
		s.SetEndTimestamp(1_700_000_000_250_000_000)
		s.Attributes().PutStr("http.request.method", "POST")
		s.Attributes().PutStr("http.route", "/v1/customizations")
		s.Attributes().PutInt("http.response.status_code", 201)
		s.Attributes().PutStr("client.address", "192.0.2.1")
		for k, v := range attrs {
			s.Attributes().PutStr(k, v)
		}
		return td
	}
	allocs := func(cfg *Config, td ptrace.Traces) float64 {
		sink := new(consumertest.LogsSink)
		c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, sink)
		require.NoError(t, err)
		require.NoError(t, c.ConsumeTraces(context.Background(), td))
		require.Equal(t, 1, sink.LogRecordCount(), "one event")
		c.next = consumertest.NewNop()
		return testing.AllocsPerRun(200, func() { _ = c.ConsumeTraces(context.Background(), td) })
	}
	base := allocs(testConfig(), span(nil))
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		attrs map[string]string
		want  float64 // the allocations of the entry's value
	}{
		{"body: logSourceCRN (a string)", func(c *Config) { c.Event.LogSourceCRN = "crn:v1:bluemix:public:logs" }, nil, 1},
		{"body: saveServiceCopy (a bool)", func(c *Config) { save := true; c.Event.SaveServiceCopy = &save }, nil, 1},
		{"target: id beside typeURI (a string)", func(c *Config) { c.Event.TargetID = []string{"target.id"} }, map[string]string{"target.id": "t-1"}, 1},
		{"target: name beside typeURI (a string)", func(c *Config) { c.Event.TargetName = []string{"target.name"} }, map[string]string{"target.name": "n-1"}, 1},
		{"host: agent beside address (a string)", nil, map[string]string{"user_agent.original": "curl/8"}, 1},
		// and audit.initiator.id among the attributes
		{"initiator: id beside host (a string)", nil, map[string]string{"enduser.id": "IBMid-1"}, 2},
	} {
		cfg := testConfig()
		if tc.cfg != nil {
			tc.cfg(cfg)
		}
		assert.Equal(t, tc.want, allocs(cfg, span(tc.attrs))-base, tc.name)
	}
}
