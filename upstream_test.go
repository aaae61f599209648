package auditprocessor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// upstreamSignature is what an application's signer (the OpenTelemetry
// Audit Logging proposal's) puts on a record: HMAC-SHA256 over the RFC 8785
// form of the body and the attributes other than audit.integrity.*,
// computed here with the jcs module, apart from this project's encoder.
func upstreamSignature(t *testing.T, key []byte, lr plog.LogRecord) string {
	attrs := map[string]any{}
	for k, v := range lr.Attributes().All() {
		if !strings.HasPrefix(k, "audit.integrity.") {
			attrs[k] = v.AsRaw()
		}
	}
	doc, err := json.Marshal(map[string]any{"body": lr.Body().AsRaw(), "attributes": attrs})
	require.NoError(t, err)
	canonical, err := jcs.Transform(doc)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write(canonical)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TestUpstreamSignedRecord: a record signed upstream keeps its
// audit.integrity.* attributes and the other audit.* keys of its sender
// through the processor, and its signature still verifies; this project's
// own keys on it are removed.
func TestUpstreamSignedRecord(t *testing.T) {
	key := []byte("shared secret of the application and the auditor")
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("user alice exported the ledger")
	a := lr.Attributes()
	a.PutStr("audit.actor.id", "alice")
	a.PutStr("audit.operation", "export")
	a.PutInt("audit.sequence", 42)
	a.PutStr("app.tenant", "t-1")
	a.PutStr("audit.integrity.algorithm", "HMAC-SHA256")
	a.PutStr("audit.integrity.signature", upstreamSignature(t, key, lr))
	a.PutStr("audit.action", "forged.by.the.sender") // this project's key: never the sender's

	r := audittest.Start(t, NewFactory(), "logs", createDefaultConfig())
	out := r.Consume(t, ld).(plog.Logs)
	got := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, map[string]any{
		"audit.actor.id": "alice", "audit.operation": "export", "audit.sequence": int64(42), "app.tenant": "t-1",
		"audit.integrity.algorithm": "HMAC-SHA256", "audit.integrity.signature": got.Attributes().AsRaw()["audit.integrity.signature"],
	}, got.Attributes().AsRaw())
	sig, ok := got.Attributes().Get("audit.integrity.signature")
	require.True(t, ok, "the upstream signature is kept")
	assert.Equal(t, upstreamSignature(t, key, got), sig.Str(), "and it still verifies")
}

// TestLookAlikeEvents: a record built like the connector's event loses its
// event name and the connector's scope name in the processor, unless the
// batch comes from the connector (marked in its context).
func TestLookAlikeEvents(t *testing.T) {
	build := func() plog.Logs {
		ld := plog.NewLogs()
		sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
		sl.Scope().SetName(integrity.ScopeName)
		for _, name := range []string{integrity.EventName, integrity.CheckpointEventName, "app.login"} {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetEventName(name)
			lr.Body().SetEmptyMap().PutStr("action", "speech-to-text.custom-language-model.delete")
		}
		return ld
	}
	names := func(ld plog.Logs) (scope string, events []string) {
		sl := ld.ResourceLogs().At(0).ScopeLogs().At(0)
		for _, lr := range sl.LogRecords().All() {
			events = append(events, lr.EventName())
		}
		return sl.Scope().Name(), events
	}
	r := audittest.Start(t, NewFactory(), "logs", createDefaultConfig())
	scope, events := names(r.Consume(t, build()).(plog.Logs))
	assert.Empty(t, scope)
	assert.Equal(t, []string{"", "", "app.login"}, events)

	r.LogsSink.Reset()
	require.NoError(t, r.Logs.ConsumeLogs(audit.WithEvents(t.Context()), build()))
	scope, events = names(r.LogsSink.AllLogs()[0])
	assert.Equal(t, integrity.ScopeName, scope)
	assert.Equal(t, []string{integrity.EventName, integrity.CheckpointEventName, "app.login"}, events)
}
