package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// The event id (the body's `id`, CADF's) is derived from what identifies the
// audited request, so that the same request, redelivered after a crash or a
// refused export, gets the same id, and a backend can drop the duplicate.
// See README "Verifiable events" for the derivation; it is, with ‖ for
// concatenation and "..." for the bytes of an ASCII text:
//
//	a span, or a log record with a trace id and a span id:
//	  SHA-256("otel-audit event id v1" 0x00 "span" 0x00 ‖ trace id (16 bytes) ‖ span id (8 bytes) ‖ action)
//	any other log record (its own identity):
//	  SHA-256("otel-audit event id v1" 0x00 "log" 0x00 ‖ trace id (16 bytes, zero when absent) ‖
//	          span id (8 bytes, zero when absent) ‖ timestamp (ns, 8 bytes big-endian) ‖
//	          SHA-256(JCS(body)) ‖ SHA-256(JCS(attributes but those of the audit components)) ‖ action)
//
// where the timestamp is the record's, else its observed one, and JCS is
// the canonical form of internal/integrity. The first 16 bytes of the hash
// are written as a UUID of version 8 (RFC 9562's custom version): 122 bits
// of the hash, in the shape CADF's id takes.
const eventIDTag = "otel-audit event id v1\x00"

// encoders are the canonical-form buffers of the connector's goroutines.
var encoders = sync.Pool{New: func() any { return new(integrity.Encoder) }}

// eventID returns the id of the event of src for action.
func eventID(src *source, action string) string {
	var a [192]byte
	b := append(a[:0], eventIDTag...)
	if src.log && (src.traceID.IsEmpty() || src.spanID.IsEmpty()) {
		b = append(b, "log\x00"...)
		b = append(b, src.traceID[:]...)
		b = append(b, src.spanID[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(src.time))
		e := encoders.Get().(*integrity.Encoder)
		e.Reset()
		e.Value(src.body)
		body := sha256.Sum256(e.Bytes())
		e.Reset()
		e.Map(src.attrs, audit.Ours)
		attrs := sha256.Sum256(e.Bytes())
		encoders.Put(e)
		b = append(b, body[:]...)
		b = append(b, attrs[:]...)
	} else {
		b = append(b, "span\x00"...)
		b = append(b, src.traceID[:]...)
		b = append(b, src.spanID[:]...)
	}
	b = append(b, action...)
	return formatID(sha256.Sum256(b))
}

// formatID writes the first 16 bytes of h as a version 8 UUID.
func formatID(h [sha256.Size]byte) string {
	u := h[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // the RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return string(s[:])
}
