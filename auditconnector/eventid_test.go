package auditconnector

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// spanEventID is the id of TestEventBody's event: trace id 0102...10, span
// id 0101...01, action speech-to-text.custom-language-model.delete.
const spanEventID = "fd8f9a3b-2529-87f6-b2b8-3083d63d5bd8"

// uuid8 writes the README's UUID: the first 16 bytes of a SHA-256, version
// 8, RFC 9562 variant.
func uuid8(input []byte) string {
	h := sha256.Sum256(input)
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// TestEventIDDerivation recomputes ids by the formula the README states,
// with the standard library only, for a span and for a log record without
// ids.
func TestEventIDDerivation(t *testing.T) {
	trace := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	span := pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1}
	action := "speech-to-text.custom-language-model.delete"
	in := append([]byte("otel-audit event id v1\x00span\x00"), trace[:]...)
	in = append(in, span[:]...)
	in = append(in, action...)
	assert.Equal(t, spanEventID, uuid8(in))
	assert.Equal(t, spanEventID, eventID(&source{traceID: trace, spanID: span}, action))

	// A log record without ids: timestamp, JCS(body), JCS(attributes but ours).
	attrs := pcommon.NewMap()
	attrs.PutStr("url.path", "/v1/x")
	attrs.PutStr("http.request.method", "GET")
	attrs.PutStr("audit.action", "tagged by the processor: not part of the identity")
	attrs.PutStr("audit.integrity.signature", "a sender's: part of it")
	body := pcommon.NewValueStr("GET /v1/x 200")
	ts := pcommon.Timestamp(1_700_000_000_123_456_789)
	src := &source{attrs: attrs, body: body, time: ts, log: true}
	in = append([]byte("otel-audit event id v1\x00log\x00"), make([]byte, 24)...)
	in = binary.BigEndian.AppendUint64(in, uint64(ts))
	b := sha256.Sum256([]byte(`"GET /v1/x 200"`))
	a := sha256.Sum256([]byte(`{"audit.integrity.signature":"a sender's: part of it","http.request.method":"GET","url.path":"/v1/x"}`))
	in = append(in, b[:]...)
	in = append(in, a[:]...)
	in = append(in, "speech-to-text.x.read"...)
	assert.Equal(t, uuid8(in), eventID(src, "speech-to-text.x.read"))

	// Redelivery: the same record (a copy) gives the same id; the processor's
	// tags do not change it.
	attrs2 := pcommon.NewMap()
	attrs.CopyTo(attrs2)
	attrs2.PutStr("audit.action", "another catalog's action")
	assert.Equal(t, eventID(src, "speech-to-text.x.read"), eventID(&source{attrs: attrs2, body: body, time: ts, log: true}, "speech-to-text.x.read"))
	// A log record with both ids is identified by them, like its span.
	assert.Equal(t, spanEventID, eventID(&source{attrs: attrs, body: body, time: ts, log: true, traceID: trace, spanID: span}, action))
}

// TestEventIDsDistinct: a million distinct requests (span ids, and log
// records differing in one field) give a million ids; each input gives its
// id again.
func TestEventIDsDistinct(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	seen := make(map[string]int, n+3*1000)
	add := func(id string, i int) {
		prev, dup := seen[id]
		require.False(t, dup, "id %s of request %d already given to request %d", id, i, prev)
		seen[id] = i
	}
	var trace pcommon.TraceID
	var span pcommon.SpanID
	for i := range n {
		binary.BigEndian.PutUint64(trace[8:], uint64(i/4)) // four spans per trace
		binary.BigEndian.PutUint64(span[:], uint64(i))
		add(eventID(&source{traceID: trace, spanID: span}, "svc.object.read"), i)
	}
	// The same span with another action is another event.
	add(eventID(&source{traceID: trace, spanID: span}, "svc.object.delete"), n)
	// Log records: each differs from the first in one field.
	attrs, body := pcommon.NewMap(), pcommon.NewValueStr("line")
	for i := range 1000 {
		a := pcommon.NewMap()
		attrs.CopyTo(a)
		a.PutInt("n", int64(i))
		add(eventID(&source{attrs: a, body: body, time: 1, log: true}, "svc.object.read"), n+1+i)
		add(eventID(&source{attrs: attrs, body: pcommon.NewValueInt(int64(i)), time: 1, log: true}, "svc.object.read"), n+1001+i)
		add(eventID(&source{attrs: attrs, body: body, time: pcommon.Timestamp(1000 + i), log: true}, "svc.object.read"), n+2001+i)
	}
	// Redelivered: the same inputs give the same ids.
	binary.BigEndian.PutUint64(trace[8:], 0)
	binary.BigEndian.PutUint64(span[:], 0)
	assert.Equal(t, 0, seen[eventID(&source{traceID: trace, spanID: span}, "svc.object.read")])
}
