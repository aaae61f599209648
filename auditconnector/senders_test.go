package auditconnector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// TestEventReporter: an event names its batch's authenticated sender in
// reporter.id and audit.sender; a batch whose sender may not speak for
// speech-to-text (services.speech-to-text.senders) gives no event for it,
// and the record is counted unauthorized, not matched.
func TestEventReporter(t *testing.T) {
	cfg := testConfig()
	cfg.Services["speech-to-text"] = audit.ServiceConfig{Senders: []string{"stt-*"}}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.SetSpanID(pcommon.SpanID{7: 1})
	s.Attributes().PutStr("http.request.method", "POST")
	s.Attributes().PutStr("http.route", "/v1/customizations")
	s.Attributes().PutInt("http.response.status_code", 201)

	for _, tc := range []struct {
		sender string
		emits  bool
	}{{"stt-api", true}, {"backup-api", false}, {"", false}} {
		h := newHarness(t, cfg)
		ctx := context.Background()
		if tc.sender != "" {
			ctx = client.NewContext(ctx, client.Info{Auth: audittest.Subject(tc.sender)})
		}
		require.NoError(t, h.c.ConsumeTraces(ctx, td))
		events := h.events()
		unauthorized := audittest.Counter(t, h.tel, "records_unauthorized", "traces")
		if !tc.emits {
			assert.Empty(t, events, tc.sender)
			assert.Equal(t, int64(1), unauthorized, tc.sender)
			continue
		}
		require.Len(t, events, 1)
		ev := events[pcommon.SpanID{7: 1}.String()]
		reporter, ok := ev.Body().Map().Get("reporter")
		require.True(t, ok)
		assert.Equal(t, map[string]any{"id": tc.sender}, reporter.Map().AsRaw())
		sender, _ := ev.Attributes().Get(audit.AttrSender)
		assert.Equal(t, tc.sender, sender.AsString())
		assert.Equal(t, int64(0), unauthorized)
		assert.Equal(t, int64(1), audittest.Counter(t, h.tel, "records_matched", "traces"))
	}
}
