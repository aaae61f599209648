package integrity

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestLinkFormula recomputes a link by the README's formula with the
// standard library.
func TestLinkFormula(t *testing.T) {
	var prev, digest Hash
	for i := range prev {
		prev[i], digest[i] = byte(i), byte(255-i)
	}
	in := []byte("otel-audit chain v1\x00chain-1\x00")
	in = binary.BigEndian.AppendUint64(in, 7)
	in = append(in, prev[:]...)
	in = append(in, digest[:]...)
	assert.Equal(t, Hash(sha256.Sum256(in)), Link("chain-1", 7, &prev, &digest))
}

// TestEventForm: the canonical form of an event record, literally; the
// integrity attributes are left out, everything the README lists is in.
func TestEventForm(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetEventName(EventName)
	lr.SetTimestamp(1_700_000_000_123_456_789)
	lr.SetObservedTimestamp(1_800_000_000_000_000_000)
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("critical")
	lr.SetTraceID(pcommon.TraceID{1, 15: 2})
	lr.SetSpanID(pcommon.SpanID{3, 7: 4})
	lr.Attributes().PutStr("audit.action", "svc.obj.delete")
	lr.Attributes().PutInt("audit.reason.code", 403)
	lr.Attributes().PutStr(AttrChainID, "c")
	lr.Attributes().PutInt(AttrChainSeq, 9)
	lr.Attributes().PutStr(AttrChainHash, "h")
	body := lr.Body().SetEmptyMap()
	body.PutStr("outcome", "failure")
	body.PutEmptyMap("reason").PutInt("reasonCode", 403)
	body.PutBool("dataEvent", false)
	var e Encoder
	e.Event(lr)
	assert.Equal(t, `{"attributes":{"audit.action":"svc.obj.delete","audit.reason.code":403},`+
		`"body":{"dataEvent":false,"outcome":"failure","reason":{"reasonCode":403}},"eventName":"audit.event",`+
		`"observedTimeUnixNano":"1800000000000000000","severityNumber":17,"severityText":"critical",`+
		`"spanId":"0300000000000004","timeUnixNano":"1700000000123456789","traceId":"01000000000000000000000000000002"}`, string(e.Bytes()))
	lr.SetTraceID(pcommon.TraceID{})
	lr.SetSpanID(pcommon.SpanID{})
	e.Reset()
	e.Event(lr)
	assert.Contains(t, string(e.Bytes()), `"spanId":"","timeUnixNano"`)
	assert.Contains(t, string(e.Bytes()), `"traceId":""}`)
}
