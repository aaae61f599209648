package auditprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// sendersConfig: speech-to-text takes records from stt-* senders only;
// backup-recovery lists no senders.
func sendersConfig(t *testing.T, onUnauthorized Policy) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Services = audittest.EveryRegion(t)
	stt := cfg.Services["speech-to-text"]
	stt.Senders = []string{"stt-*"}
	cfg.Services["speech-to-text"] = stt
	cfg.Sender.OnUnauthorized = onUnauthorized
	require.NoError(t, cfg.Validate())
	return cfg
}

// senderSpans: a speech-to-text create and a backup-recovery request, each
// with a forged audit.sender.
func senderSpans() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("cloud.region", "eu-de")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i, req := range [][2]string{{"POST", "/v1/customizations"}, {"POST", "/v2/data-protect/agents/download"}} {
		s := spans.AppendEmpty()
		s.SetSpanID(pcommon.SpanID{7: byte(i + 1)})
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("http.request.method", req[0])
		s.Attributes().PutStr("http.route", req[1])
		s.Attributes().PutInt("http.response.status_code", 200)
		s.Attributes().PutStr(audit.AttrSender, "forged")
	}
	return td
}

// TestSenders: a speech-to-text record is tagged only when its batch's
// sender is an stt-* sender, and names it; otherwise it passes untagged
// (or is dropped) and is counted unauthorized. backup-recovery lists no
// senders and is tagged whoever sent it. A forged audit.sender never
// survives.
func TestSenders(t *testing.T) {
	for _, tc := range []struct {
		name, sender string
		policy       Policy
		// sttTagged: the speech-to-text span is tagged; sttDropped: it is
		// dropped; unauthorized: records_unauthorized.
		sttTagged, sttDropped bool
		unauthorized          int64
	}{
		{"own sender", "stt-api", PolicyKeep, true, false, 0},
		{"another sender", "backup-api", PolicyKeep, false, false, 1},
		{"no sender", "", PolicyKeep, false, false, 1},
		{"another sender, drop", "backup-api", PolicyDrop, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := audittest.Start(t, NewFactory(), "traces", sendersConfig(t, tc.policy))
			require.NoError(t, r.Traces.ConsumeTraces(audittest.SentBy(tc.sender), senderSpans()))
			require.Len(t, r.TracesSink.AllTraces(), 1)
			got := audittest.AttrsByID(r.TracesSink.AllTraces()[0])

			stt, ok := got[pcommon.SpanID{7: 1}.String()]
			assert.Equal(t, !tc.sttDropped, ok)
			if ok {
				want := map[string]any{}
				if tc.sttTagged {
					want = map[string]any{audit.AttrAction: "speech-to-text.custom-language-model.create", audit.AttrSender: tc.sender}
				}
				assert.Equal(t, want, pick(audittest.AuditOnly(stt, false), audit.AttrAction, audit.AttrSender))
			}
			backup := audittest.AuditOnly(got[pcommon.SpanID{7: 2}.String()], false)
			assert.NotEmpty(t, backup[audit.AttrAction])
			if tc.sender == "" {
				assert.NotContains(t, backup, audit.AttrSender)
			} else {
				assert.Equal(t, tc.sender, backup[audit.AttrSender])
			}
			assert.Equal(t, tc.unauthorized, r.Counter(t, "records_unauthorized", "traces"))
			assert.Equal(t, 2-tc.unauthorized, r.Counter(t, "records_matched", "traces"))
		})
	}
}

// pick is the keys of m that are present among keys.
func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}
