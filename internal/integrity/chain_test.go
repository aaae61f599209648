package integrity

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestEventForm: the flat form of an event record, literally; the
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
	body.PutDouble("ratio", 0.25)
	body.PutEmptyBytes("raw").FromRaw([]byte{0xff, 0})
	s := body.PutEmptySlice("list")
	s.AppendEmpty().SetInt(1)
	s.AppendEmpty().SetStr("a\"b")
	body.PutStr("empty", "")
	body.PutEmpty("nothing")
	body.PutEmptyMap("none")
	body.PutEmptyMap("audit").PutStr("chain.seq", "from the body: the chain's key all the same")
	var e Encoder
	e.Event(lr)
	assert.Equal(t, `{"eventName":"audit.event","fields":[["audit.action","svc.obj.delete"],["audit.reason.code","403"],`+
		`["dataEvent","false"],["list","[1,\"a\\\"b\"]"],["outcome","failure"],["ratio","0.25"],["raw","/wA="],["reason.reasonCode","403"]],`+
		`"severityNumber":"17","severityText":"critical","spanId":"0300000000000004","time":"1700000000123456789",`+
		`"traceId":"01000000000000000000000000000002"}`, string(e.Bytes()))
	lr.SetTraceID(pcommon.TraceID{})
	lr.SetSpanID(pcommon.SpanID{})
	lr.SetTimestamp(0)
	lr.SetSeverityText("")
	lr.Body().SetStr("a message")
	e.Reset()
	e.Event(lr)
	assert.Equal(t, `{"eventName":"audit.event","fields":[["_msg","a message"],["audit.action","svc.obj.delete"],["audit.reason.code","403"]],`+
		`"severityNumber":"17","severityText":"Error","spanId":"","time":"1800000000000000000","traceId":""}`, string(e.Bytes()))
}

// TestFlatFromFields: the same event as a store gives it back (its fields
// as strings, in another order, beside the chain's keys) has the same flat
// form.
func TestFlatFromFields(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetEventName(EventName)
	lr.SetTimestamp(1_700_000_000_123_456_789)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetTraceID(pcommon.TraceID{1, 15: 2})
	body := lr.Body().SetEmptyMap()
	body.PutStr("id", "x")
	body.PutEmptyMap("reason").PutInt("reasonCode", 403)
	body.PutStr("é", "non-ASCII key")
	body.PutStr("\U0001F600", "a key beyond the BMP")
	lr.Attributes().PutStr(AttrChainSeq, "1")
	var e Encoder
	e.Event(lr)
	want := string(e.Bytes())
	fields := e.Fields(lr)
	require.Len(t, fields, 4)
	slices.Reverse(fields)
	e.BeginFields()
	e.AddField(AttrChainSeq, "1")
	for _, f := range fields {
		e.AddField(f.Key, f.Value)
	}
	e.FlatEvent(&Header{EventName: EventName, Time: 1_700_000_000_123_456_789, SeverityNumber: 9, TraceID: "01000000000000000000000000000002"})
	assert.Equal(t, want, string(e.Bytes()))
}

// TestFlatOrderCache: an event with the keys of the one before reuses its
// order; with other keys, or the same bytes cut otherwise, it does not.
func TestFlatOrderCache(t *testing.T) {
	form := func(e *Encoder, kv ...string) string {
		e.BeginFields()
		for i := 0; i < len(kv); i += 2 {
			e.AddField(kv[i], kv[i+1])
		}
		e.FlatEvent(&Header{})
		return string(e.Bytes())
	}
	var warm Encoder
	for _, kv := range [][]string{
		{"b", "1", "a", "2", "c", "3"},
		{"b", "4", "a", "5", "c", "6"},
		{"ba", "1", "c", "2", "a", "3"},
		{"b", "1", "ac", "2", "a", "3"},
		{"x", "2", "x", "1", "a", "0"},
		{"x", "1", "x", "2", "a", "0"},
	} {
		var fresh Encoder
		assert.Equal(t, form(&fresh, kv...), form(&warm, kv...), "%v", kv)
	}
}
