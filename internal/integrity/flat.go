package integrity

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The flat form: what the hash chain and the checkpoints' signatures cover.
//
// A log store that ingests OTLP (VictoriaLogs, for one) flattens a map body
// and the attributes into top-level fields with dotted names and returns
// every value as a string. The flat form is taken over exactly what
// survives that, so that an event read back from such a store hashes as it
// did in the collector:
//
//   - the body and the attributes, flattened into (key, value) pairs of
//     strings: a map's members under "key.member" (the body's own members
//     under their names; a body that is not a map under "_msg"); a string as
//     it is, an int in decimal, a double as strconv's 'f' with the fewest
//     digits ("NaN", "+Inf", "-Inf"), a bool as true/false, bytes in
//     standard base64, a slice as its JCS text (Encoder.Value); empty
//     strings, empty bytes, empty maps and empty values give no pair (a
//     store drops empty fields); keys under "audit.chain." give none either
//     (they are the chain's own);
//   - the event name, the time (the record's timestamp, else its observed
//     one, in nanoseconds), the severity number, the severity text (its
//     name by number when empty, as stores fill it in), the trace and span
//     ids in hex ("" when absent).
//
// It is written as the RFC 8785 (JCS) text of
//
//	{"eventName":"...","fields":[["key","value"],...],"severityNumber":"N",
//	 "severityText":"...","spanId":"hex","time":"N","traceId":"hex"}
//
// with the pairs sorted by key (UTF-16 code units, as JCS sorts members),
// then by value. A checkpoint's signed form is the JCS array of the pairs
// of its body without "signature".
//
// What it gives up, knowingly: a value's type (403 and "403" are one value),
// where a dotted key came from (body {"a":{"b":1}}, body {"a.b":1} and
// attribute a.b are one pair), empty values, and the observed timestamp of
// a record that has a timestamp. None of these can turn one audited request
// into another; every value an event states is covered.

// Field is one (key, value) pair of an event's flat form.
type Field struct{ Key, Value string }

// Header is what an event's flat form holds beside its fields.
type Header struct {
	EventName      string
	Time           uint64 // nanoseconds
	SeverityNumber int64
	SeverityText   string // "" stands for the number's name
	TraceID        string // hex, "" when absent
	SpanID         string // hex, "" when absent
}

// MsgKey is the key of a body that is not a map (a store's message field).
const MsgKey = "_msg"

// pair is a field of the flat form being written: offsets into flat.kb
// (its key, as it is) and flat.vb (its value, JCS-escaped, no quotes). No
// pointers: sorting them costs no write barriers.
type pair struct{ k0, k1, v0, v1 uint32 }

// flat is the Encoder's state for flat forms. Events of one kind have the
// same keys in the same order (the connector writes them so): the sorted
// order of a key sequence, with its keys already written as JSON, is kept
// for up to maxShapes sequences and reused when an event's keys are the
// same, so that sorting and writing keys is paid once per shape.
type flat struct {
	kb, vb []byte
	pairs  []pair
	prefix []byte // the dotted key being built

	shape  []byte            // the keys, then their lengths: a key sequence, unambiguously
	orders map[string]*order // by shape
}

// order is how the pairs of one shape are written: pair order[i] follows
// keys[ends[i-1]:ends[i]] (`,["key","`).
type order struct {
	order []int32
	keys  []byte
	ends  []uint32
}

// maxShapes bounds the orders kept; past it they are dropped and made again.
const maxShapes = 64

func (f *flat) reset() {
	f.kb, f.vb, f.pairs = f.kb[:0], f.vb[:0], f.pairs[:0]
}

func (f *flat) key(i int32) string {
	p := f.pairs[i]
	return string(f.kb[p.k0:p.k1])
}

// add adds a pair whose key is f.prefix (MsgKey when empty) and whose
// value is f.vb[v0:] (escaped); an empty value or a chain key gives none.
func (f *flat) add(v0 int) {
	k := f.prefix
	if len(k) == 0 {
		k = append(k, MsgKey...)
		f.prefix = k[:0]
	}
	if len(f.vb) == v0 || (len(k) >= len(ChainPrefix) && string(k[:len(ChainPrefix)]) == ChainPrefix) {
		f.vb = f.vb[:v0]
		return
	}
	k0 := len(f.kb)
	f.kb = append(f.kb, k...)
	f.pairs = append(f.pairs, pair{uint32(k0), uint32(len(f.kb)), uint32(v0), uint32(len(f.vb))})
}

// AddField adds a pair as a store returned it.
func (e *Encoder) AddField(k, v string) { e.addField(k, v, false) }

// addValue adds the pairs of v under the key in f.prefix.
func (e *Encoder) addValue(v pcommon.Value) {
	f := &e.f
	v0 := len(f.vb)
	switch v.Type() {
	case pcommon.ValueTypeStr:
		f.vb = appendEscaped(f.vb, v.Str())
	case pcommon.ValueTypeInt:
		f.vb = strconv.AppendInt(f.vb, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f.vb = strconv.AppendFloat(f.vb, v.Double(), 'f', -1, 64)
	case pcommon.ValueTypeBool:
		f.vb = strconv.AppendBool(f.vb, v.Bool())
	case pcommon.ValueTypeBytes:
		f.vb = base64.StdEncoding.AppendEncode(f.vb, v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		b0 := len(e.buf)
		e.Value(v)
		f.vb = appendEscaped(f.vb, unsafeString(e.buf[b0:]))
		e.buf = e.buf[:b0]
	case pcommon.ValueTypeMap:
		e.addMap(v.Map(), nil)
		return
	default:
		return
	}
	f.add(v0)
}

// addMap adds the pairs of m's members (but those skip reports) under the
// key in f.prefix.
func (e *Encoder) addMap(m pcommon.Map, skip func(string) bool) {
	f := &e.f
	p0 := len(f.prefix)
	for k, v := range m.All() {
		if skip != nil && skip(k) {
			continue
		}
		if p0 > 0 {
			f.prefix = append(f.prefix, '.')
		}
		f.prefix = append(f.prefix, k...)
		e.addValue(v)
		f.prefix = f.prefix[:p0]
	}
}

// sort returns how to write the pairs: the kept order when an event of
// the same keys was written before.
func (e *Encoder) sort() *order {
	f := &e.f
	f.shape = append(f.shape[:0], f.kb...)
	for _, p := range f.pairs {
		f.shape = binary.AppendUvarint(f.shape, uint64(p.k1-p.k0))
	}
	if o, ok := f.orders[string(f.shape)]; ok {
		return o
	}
	o := &order{order: make([]int32, len(f.pairs))}
	for i := range o.order {
		o.order[i] = int32(i)
	}
	ties := false
	slices.SortFunc(o.order, func(a, b int32) int {
		if c := CompareKeys(f.key(a), f.key(b)); c != 0 {
			return c
		}
		// Equal keys (a body member and an attribute, or a dotted key and
		// a map) sort by their escaped values, bytewise.
		ties = true
		pa, pb := f.pairs[a], f.pairs[b]
		if c := bytes.Compare(f.vb[pa.v0:pa.v1], f.vb[pb.v0:pb.v1]); c != 0 {
			return c
		}
		return int(a - b)
	})
	for i, j := range o.order {
		if i > 0 {
			o.keys = append(o.keys, ',')
		}
		p := f.pairs[j]
		o.keys = append(o.keys, '[', '"')
		o.keys = appendEscaped(o.keys, unsafeString(f.kb[p.k0:p.k1]))
		o.keys = append(o.keys, '"', ',', '"')
		o.ends = append(o.ends, uint32(len(o.keys)))
	}
	if ties {
		return o // its order is not the keys' alone: not kept
	}
	if f.orders == nil || len(f.orders) >= maxShapes {
		f.orders = map[string]*order{}
	}
	f.orders[string(f.shape)] = o
	return o
}

// pairsJSON appends the JCS array of the pairs, sorted.
func (e *Encoder) pairsJSON() {
	o := e.sort()
	b := append(e.buf, '[')
	k0 := uint32(0)
	for i, j := range o.order {
		p := e.f.pairs[j]
		b = append(b, o.keys[k0:o.ends[i]]...)
		b = append(b, e.f.vb[p.v0:p.v1]...)
		b = append(b, '"', ']')
		k0 = o.ends[i]
	}
	e.buf = append(b, ']')
}

// flatObject appends the flat form of an event whose pairs are added.
func (e *Encoder) flatObject(h *Header, traceID, spanID []byte) {
	e.Raw(`{"eventName":`)
	e.String(h.EventName)
	e.Raw(`,"fields":`)
	e.pairsJSON()
	e.Raw(`,"severityNumber":"`)
	e.buf = strconv.AppendInt(e.buf, h.SeverityNumber, 10)
	e.Raw(`","severityText":`)
	if h.SeverityText != "" {
		e.String(h.SeverityText)
	} else {
		e.String(SeverityName(h.SeverityNumber))
	}
	e.Raw(`,"spanId":"`)
	e.buf = append(e.buf, spanID...)
	e.Raw(`","time":`)
	e.Uint(h.Time)
	e.Raw(`,"traceId":"`)
	e.buf = append(e.buf, traceID...)
	e.Raw(`"}`)
}

// SeverityName is the name of a severity number, as OTLP names it
// (plog.SeverityNumber); "Unspecified" out of range.
func SeverityName(n int64) string {
	if n < int64(plog.SeverityNumberUnspecified) || n > int64(plog.SeverityNumberFatal4) {
		return plog.SeverityNumberUnspecified.String()
	}
	return plog.SeverityNumber(n).String()
}

// Event appends the flat form of an event record (see above).
func (e *Encoder) Event(lr plog.LogRecord) {
	e.f.reset()
	e.f.prefix = e.f.prefix[:0]
	e.addValue(lr.Body())
	e.addMap(lr.Attributes(), nil)
	h := Header{
		EventName:      lr.EventName(),
		Time:           uint64(lr.Timestamp()),
		SeverityNumber: int64(lr.SeverityNumber()),
		SeverityText:   lr.SeverityText(),
	}
	if h.Time == 0 {
		h.Time = uint64(lr.ObservedTimestamp())
	}
	var t [32]byte
	var s [16]byte
	var tid, sid []byte
	if id := lr.TraceID(); !id.IsEmpty() {
		tid = hex.AppendEncode(t[:0], id[:])
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		sid = hex.AppendEncode(s[:0], id[:])
	}
	e.flatObject(&h, tid, sid)
}

// BeginFields starts the flat form of an event read from a store: add its
// fields with AddField, then call FlatEvent or FlatDigest.
func (e *Encoder) BeginFields() {
	e.f.reset()
	e.Reset()
}

// FlatEvent appends the flat form of the event whose fields were added
// (BeginFields, AddField).
func (e *Encoder) FlatEvent(h *Header) {
	var t [32]byte
	var s [16]byte
	e.flatObject(h, append(t[:0], h.TraceID...), append(s[:0], h.SpanID...))
}

// Fields returns the pairs of lr's body and attributes, as the flat form
// has them (unsorted), integrity keys left out.
func (e *Encoder) Fields(lr plog.LogRecord) []Field {
	e.f.reset()
	e.f.prefix = e.f.prefix[:0]
	e.addValue(lr.Body())
	e.addMap(lr.Attributes(), nil)
	out := make([]Field, len(e.f.pairs))
	for i := range e.f.pairs {
		p := e.f.pairs[i]
		out[i] = Field{e.f.key(int32(i)), unescape(e.f.vb[p.v0:p.v1])}
	}
	return out
}

// unescape is the string whose JCS inside (appendEscaped) esc is.
func unescape(esc []byte) string {
	if bytes.IndexByte(esc, '\\') < 0 {
		return string(esc)
	}
	var s string
	q := make([]byte, 0, len(esc)+2)
	q = append(append(append(q, '"'), esc...), '"')
	if json.Unmarshal(q, &s) != nil {
		return string(esc) // not reached: appendEscaped writes JSON
	}
	return s
}

// unsafeString is b as a string, sharing its memory: for a call that
// reads it and keeps nothing.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// isSignature tells the member of a checkpoint's body its signed form
// leaves out.
func isSignature(k string) bool { return k == cpSignature }

// HasChainPrefix tells whether a flat key is the chain's own.
func HasChainPrefix(k string) bool { return strings.HasPrefix(k, ChainPrefix) }

// addField is AddField; plain says that v needs no escape in a JCS string
// (printable ASCII, no '"' or '\\'), which the caller has checked.
func (e *Encoder) addField(k, v string, plain bool) {
	e.f.prefix = append(e.f.prefix[:0], k...)
	v0 := len(e.f.vb)
	if plain {
		e.f.vb = append(e.f.vb, v...)
	} else {
		e.f.vb = appendEscaped(e.f.vb, v)
	}
	e.f.add(v0)
}
