// Package integrity is the evidence side of the audit events: their
// canonical form (RFC 8785, JCS, written straight from pdata values), the
// hash chain that links them, and the signed checkpoints that close a chain
// segment. The audit connector writes with it and `auditcatalog verify`
// checks with it, so that both sides compute one form.
package integrity

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The canonical form of a pdata value is the RFC 8785 (JCS) serialisation of
// the JSON value it stands for:
//
//   - Str: a JSON string, escaped as JCS says (", \, \b \t \n \f \r, other
//     control characters as \u00xx, everything else as it is); invalid UTF-8
//     becomes U+FFFD per byte, as encoding/json writes it;
//   - Int: its exact decimal digits (JCS would round an int beyond ±2^53
//     through a double; pdata ints are exact, so the digits are too);
//   - Double: ECMAScript's Number::toString, as JCS says; NaN and ±Inf,
//     which JSON has no number for, are the strings "NaN", "Infinity",
//     "-Infinity" (as OTLP JSON writes them);
//   - Bool: true or false; Empty: null;
//   - Bytes: a string of its standard base64 (as OTLP JSON writes them);
//   - Map: an object, members sorted by the UTF-16 code units of their keys;
//   - Slice: an array.
//
// Encoder appends canonical forms to a buffer it reuses; it is not safe for
// concurrent use.
type Encoder struct {
	buf  []byte
	keys []member // the members of the maps being written, a stack
	f    flat     // the flat form being written (flat.go)
}

type member struct {
	k string
	v pcommon.Value
}

// Reset empties the buffer.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Bytes returns the buffer (valid until the next write).
func (e *Encoder) Bytes() []byte { return e.buf }

// Value appends the canonical form of v.
func (e *Encoder) Value(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		e.String(v.Str())
	case pcommon.ValueTypeInt:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		e.buf = AppendNumber(e.buf, v.Double())
	case pcommon.ValueTypeBool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case pcommon.ValueTypeMap:
		e.Map(v.Map(), nil)
	case pcommon.ValueTypeSlice:
		e.buf = append(e.buf, '[')
		s := v.Slice()
		for i := range s.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.Value(s.At(i))
		}
		e.buf = append(e.buf, ']')
	case pcommon.ValueTypeBytes:
		b := v.Bytes().AsRaw()
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
		e.buf = append(e.buf, '"')
	default:
		e.buf = append(e.buf, "null"...)
	}
}

// Map appends the canonical object of m, without the keys skip reports
// (nil: none).
func (e *Encoder) Map(m pcommon.Map, skip func(string) bool) {
	start := len(e.keys)
	for k, v := range m.All() {
		if skip == nil || !skip(k) {
			e.keys = append(e.keys, member{k, v})
		}
	}
	slices.SortStableFunc(e.keys[start:], func(a, b member) int { return CompareKeys(a.k, b.k) })
	e.buf = append(e.buf, '{')
	for i := start; i < len(e.keys); i++ {
		if i > start {
			e.buf = append(e.buf, ',')
		}
		e.String(e.keys[i].k)
		e.buf = append(e.buf, ':')
		e.Value(e.keys[i].v)
	}
	e.buf = append(e.buf, '}')
	clear(e.keys[start:])
	e.keys = e.keys[:start]
}

// Key appends a member's key and colon, with a comma before it unless first.
func (e *Encoder) Key(k string, first bool) {
	if !first {
		e.buf = append(e.buf, ',')
	}
	e.String(k)
	e.buf = append(e.buf, ':')
}

// Raw appends bytes as they are (a literal the caller knows is canonical).
func (e *Encoder) Raw(s string) { e.buf = append(e.buf, s...) }

// Uint appends an unsigned integer as a JSON string of its digits (a
// timestamp in nanoseconds exceeds what a JSON number holds exactly).
func (e *Encoder) Uint(u uint64) {
	e.buf = append(e.buf, '"')
	e.buf = strconv.AppendUint(e.buf, u, 10)
	e.buf = append(e.buf, '"')
}

// Int appends an integer as a JSON number.
func (e *Encoder) Int(i int64) { e.buf = strconv.AppendInt(e.buf, i, 10) }

const hexDigits = "0123456789abcdef"

// safe marks the ASCII bytes a JCS string holds as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain8 tells whether 8 bytes are all ASCII with no escape: none below
// 0x20, none '"' or '\\', none from 0x80 (the SWAR tests of "Bit Twiddling
// Hacks": a byte below n, a byte equal to n).
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - ones*0x20) & ^x & highs
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	return (x&highs)|below|hasZero(quote)|hasZero(backslash) == 0
}

// String appends s as a JCS string.
func (e *Encoder) String(s string) {
	e.buf = append(appendEscaped(append(e.buf, '"'), s), '"')
}

// appendEscaped appends the inside of s's JCS string (no quotes): runs of
// bytes that need no escape are copied at once.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\t':
				b = append(b, '\\', 't')
			case '\n':
				b = append(b, '\\', 'n')
			case '\f':
				b = append(b, '\\', 'f')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = utf8.AppendRune(b, utf8.RuneError)
			start = i + 1
		}
		i += size
	}
	return append(b, s[start:]...)
}

// CompareKeys orders object keys as JCS does: by their UTF-16 code units.
// Invalid UTF-8 compares as the U+FFFD it is written as.
func CompareKeys(a, b string) int {
	// UTF-8's byte order is the code points' order, which is UTF-16's below
	// U+E000: compare bytes up to the first difference, and decode runes
	// only when that difference is not ASCII.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b)
	}
	if a[i] < utf8.RuneSelf && b[i] < utf8.RuneSelf {
		return int(a[i]) - int(b[i])
	}
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	a, b = a[i:], b[i:]
	for a != "" && b != "" {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if a[0] != b[0] {
				return int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return ua - ub
			}
			return int(ra&0x3ff) - int(rb&0x3ff) // two supplementary runes: their low surrogates
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// firstUnit is the first UTF-16 code unit of r.
func firstUnit(r rune) int {
	if r < 0x10000 {
		return int(r)
	}
	return 0xd800 + int((r-0x10000)>>10)
}

// AppendNumber appends f as ECMAScript's Number::toString writes it (what
// JCS prescribes), NaN and ±Inf as strings.
func AppendNumber(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		return append(b, '0')
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d[.ddd]e±XX: the shortest digits
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			x, _ := strconv.Atoi(string(e[i+1:]))
			exp = x
			break
		}
	}
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	d := digits[:k]
	n := exp + 1 // f = 0.d × 10^n
	switch {
	case k <= n && n <= 21:
		b = append(b, d...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, d[:n]...)
		b = append(b, '.')
		b = append(b, d[n:]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for range -n {
			b = append(b, '0')
		}
		b = append(b, d...)
	default:
		b = append(b, d[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}
