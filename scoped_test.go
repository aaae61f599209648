package auditprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// scopedTraces: three services send the same two requests; speech-to-text
// is scoped to stt-*, voices (the same customization routes) to
// voices-api and tts-*, and billing is neither's.
func scopedTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for i, service := range []string{"stt-api", "voices-api", "billing"} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for j, req := range [][3]string{
			{"POST", "http.route", "/v1/customizations"},
			{"DELETE", "url.path", "/v1/customizations/c-1"},
		} {
			s := spans.AppendEmpty()
			s.SetTraceID(pcommon.TraceID{0x5c, 15: byte(i*2 + j + 1)})
			s.SetSpanID(pcommon.SpanID{0x5c, 7: byte(i*2 + j + 1)})
			s.SetKind(ptrace.SpanKindServer)
			s.SetName(req[0])
			s.SetEndTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
			s.Attributes().PutStr("http.request.method", req[0])
			s.Attributes().PutStr(req[1], req[2])
			s.Attributes().PutInt("http.response.status_code", 200)
		}
	}
	return td
}

// TestGoldenScoped: each service's records get its own catalog's actions,
// a third service's records neither; the golden file holds the output.
func TestGoldenScoped(t *testing.T) {
	cfg, err := loadConfig(t, "config.yaml", component.NewIDWithName(metadata.Type, "scoped"))
	require.NoError(t, err)
	r := audittest.Start(t, NewFactory(), "traces", cfg)
	out := r.Consume(t, scopedTraces()).(ptrace.Traces)

	want := map[string]string{ // span id: audit.action ("" none)
		"5c00000000000001": "speech-to-text.custom-language-model.create",
		"5c00000000000002": "speech-to-text.custom-language-model.delete",
		"5c00000000000003": "voices.custom-model.create",
		"5c00000000000004": "voices.custom-model.delete",
		"5c00000000000005": "",
		"5c00000000000006": "",
	}
	records := audittest.AttrsByID(out)
	require.Len(t, records, len(want))
	for id, action := range want {
		got := ""
		if v, ok := records[id].Get("audit.action"); ok {
			got = v.Str()
		}
		assert.Equal(t, action, got, id)
	}
	assert.Equal(t, int64(2), r.Counter(t, "records_unselected", "traces"), "billing's two records")
	assert.Equal(t, int64(2), r.Counter(t, "records_unmatched", "traces"))
	assert.Equal(t, int64(4), r.Counter(t, "records_matched", "traces"))

	audittest.CheckGolden(t, filepath.Join("testdata", "scoped_expected.yaml"), out)
}
