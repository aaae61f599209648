package integrity

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// scanner reads one JSON document in a single pass for JSONReader: the
// caller walks the structure it expects (obj, list, str, ...) and skips
// the rest. The first error stops it and says where: it empties the
// document, so that every method then sees its end and reads nothing.
// Nothing it is given can make it panic, and nesting is bounded
// (maxDepth).
type scanner struct {
	b     []byte
	i     int
	depth int
	err   error
}

// maxDepth bounds the nesting of objects and lists.
const maxDepth = 128

func (s *scanner) fail(msg string) {
	if s.err == nil {
		s.err = fmt.Errorf("offset %d: %s", s.i, msg)
		s.b, s.i = nil, 0 // the end, for whatever is read next
	}
}

// peek reads white space and returns the next byte (0 at the end or
// after an error). It is small enough to be inlined.
func (s *scanner) peek() byte {
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
		s.i++
	}
	return 0
}

// end tells whether only white space is left.
func (s *scanner) end() bool {
	return s.peek() == 0 && s.i == len(s.b)
}

func (s *scanner) expect(c byte) bool {
	if s.peek() != c {
		s.fail(fmt.Sprintf("expected %q", c))
		return false
	}
	s.i++
	return true
}

// obj reads the start of an object and tells whether a member follows:
// read its key (key), its value, then call more('}') for the next one.
//
//	for ok := s.obj(); ok; ok = s.more('}') {
//		switch s.key() { ... }
//	}
func (s *scanner) obj() bool { return s.open('{', '}') }

// list reads the start of a list and tells whether an element follows:
// read it, then call more(']') for the next one.
func (s *scanner) list() bool { return s.open('[', ']') }

func (s *scanner) open(open, close byte) bool {
	if !s.expect(open) {
		return false
	}
	if s.depth++; s.depth > maxDepth {
		s.fail("nested too deep")
		return false
	}
	if s.peek() == close {
		s.i++
		s.depth--
		return false
	}
	return true
}

// objWith is obj for an object whose first member has the key of member
// (written `{"key":`, as pdata writes it): when it starts so, it reads that
// at once and tells true, ready for the member's value; else it reads
// nothing and tells false.
func (s *scanner) objWith(member string) bool {
	if !s.lit(member) {
		return false
	}
	if s.depth++; s.depth > maxDepth {
		s.fail("nested too deep")
		return false
	}
	return true
}

// lit reads p when the document goes on with it (no white space between),
// and tells whether it did.
func (s *scanner) lit(p string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(p)) {
		return false
	}
	s.i += len(p)
	return true
}

// more reads what follows a member or an element: a comma (another
// follows) or close (the end).
func (s *scanner) more(close byte) bool {
	switch s.peek() {
	case ',':
		s.i++
		return true
	case close:
		s.i++
		s.depth--
		return false
	}
	s.fail(fmt.Sprintf("expected , or %c", close))
	return false
}

// key reads a member's key and the colon after it.
func (s *scanner) key() string {
	k := s.str()
	if s.i < len(s.b) && s.b[s.i] == ':' {
		s.i++ // the common case: no white space
		return k
	}
	s.expect(':')
	return k
}

// str reads a string. Without escapes it shares the document's memory;
// with them it is decoded as encoding/json decodes it.
func (s *scanner) str() string {
	if s.peek() != '"' {
		s.fail("expected a string")
		return ""
	}
	start := s.i
	s.i++
	b := s.b
	if end := plainEnd(b, s.i); end >= 0 { // no escape: the document's bytes
		s.i = end + 1
		return unsafeString(b[start+1 : end])
	}
	// An escape: find the end past each escaped character, then decode.
	i := s.i
	for {
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			s.i = len(b)
			s.fail("a string does not end")
			return ""
		}
		if b[i] == '"' {
			break
		}
		i += 2 // the backslash and what it escapes
	}
	s.i = i + 1
	raw := s.b[start:s.i]
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		s.fail("a string is not JSON: " + err.Error())
		return ""
	}
	return out
}

// plainEnd is the index of the quote that ends the string whose text
// starts at b[i], when the string has no escape; else -1.
func plainEnd(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 { // 8 bytes at a time
		if m := quoteOrBackslash8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			if i += bits.TrailingZeros64(m) >> 3; b[i] == '"' {
				return i
			}
			return -1
		}
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			return -1
		}
	}
	return -1
}

// plainEndASCII is plainEnd that also tells whether the string's bytes are
// all printable ASCII (JCS writes such a string without an escape).
func plainEndASCII(b []byte, i int) (end int, ascii bool) {
	var other uint64 // not 0 once a control or non-ASCII byte is seen
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		c := controlOrHigh8(x)
		if m := quoteOrBackslash8(x); m != 0 {
			n := bits.TrailingZeros64(m) // the high bit of the first '"' or '\\'
			if i += n >> 3; b[i] != '"' {
				return -1, false
			}
			return i, other|c&(1<<(n&^7)-1) == 0 // the bytes before it
		}
		other |= c
	}
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i, other == 0
		case c == '\\':
			return -1, false
		case c < 0x20 || c >= utf8.RuneSelf:
			other = 1
		}
	}
	return -1, false
}

// controlOrHigh8 has the high bit of each of the 8 bytes that is below
// 0x20 or from 0x80 set, and maybe of bytes after the first such one, but
// of none before it (as quoteOrBackslash8).
func controlOrHigh8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (x-ones*0x20)&^x&highs | x&highs
}

// quoteOrBackslash8 has the high bit of each of the 8 bytes (little
// endian) that is a '"' or a '\\' set, and maybe of bytes after the first
// such one, but of none before it (the SWAR test of a zero byte, as plain8
// in canonical.go): its lowest set bit is the first such byte's.
func quoteOrBackslash8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	return hasZero(x^(ones*'"')) | hasZero(x^(ones*'\\'))
}

// literal reads a number, true, false or null, as its text.
func (s *scanner) literal() string {
	s.peek()
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			s.i++
			continue
		}
		break
	}
	if s.i == start {
		s.fail("expected a value")
		return ""
	}
	return unsafeString(s.b[start:s.i])
}

// skip reads a value of any kind and forgets it.
func (s *scanner) skip() {
	switch s.peek() {
	case '"':
		s.str()
	case '{':
		for ok := s.obj(); ok; ok = s.more('}') {
			s.key()
			s.skip()
		}
	case '[':
		for ok := s.list(); ok; ok = s.more(']') {
			s.skip()
		}
	default:
		switch l := s.literal(); l {
		case "true", "false", "null", "":
		default:
			if !json.Valid([]byte(l)) {
				s.fail(fmt.Sprintf("%q is not a JSON value", l))
			}
		}
	}
}

// numText is a number's text, from a JSON number or string (OTLP JSON
// writes 64-bit integers as strings).
func (s *scanner) numText() string {
	if s.peek() == '"' {
		return s.str()
	}
	return s.literal()
}

func (s *scanner) uint(name string) uint64 {
	t := s.numText()
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		s.fail(name + " is not an unsigned integer")
	}
	return n
}

func (s *scanner) int() int64 {
	t := s.numText()
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		s.fail("intValue is not an integer")
	}
	return n
}

func (s *scanner) double() float64 {
	t := s.numText()
	switch t {
	case "NaN":
		return math.NaN()
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		s.fail("doubleValue is not a number")
	}
	return f
}

func (s *scanner) bool() bool {
	switch s.literal() {
	case "true":
		return true
	case "false":
		return false
	}
	s.fail("boolValue is not a bool")
	return false
}

func (s *scanner) bytes() []byte {
	b, err := base64.StdEncoding.DecodeString(s.str())
	if err != nil {
		s.fail("bytesValue is not base64")
	}
	return b
}

// pdataArray reads an OTLP ArrayValue ({"values": [AnyValue...]}) into
// dst: a list's flat form is its typed JCS text, so it is read whole.
func (s *scanner) pdataArray(dst pcommon.Slice) {
	for ok := s.obj(); ok; ok = s.more('}') {
		if s.key() != "values" {
			s.skip()
			continue
		}
		for ok := s.list(); ok; ok = s.more(']') {
			s.pdataValue(dst.AppendEmpty())
		}
	}
}

// pdataValue reads an OTLP AnyValue into dst.
func (s *scanner) pdataValue(dst pcommon.Value) {
	for ok := s.obj(); ok; ok = s.more('}') {
		switch s.key() {
		case "stringValue", "string_value":
			dst.SetStr(string([]byte(s.str())))
		case "boolValue", "bool_value":
			dst.SetBool(s.bool())
		case "intValue", "int_value":
			dst.SetInt(s.int())
		case "doubleValue", "double_value":
			dst.SetDouble(s.double())
		case "bytesValue", "bytes_value":
			dst.SetEmptyBytes().FromRaw(s.bytes())
		case "arrayValue", "array_value":
			s.pdataArray(dst.SetEmptySlice())
		case "kvlistValue", "kvlist_value":
			m := dst.SetEmptyMap()
			for ok := s.obj(); ok; ok = s.more('}') {
				if s.key() != "values" {
					s.skip()
					continue
				}
				for ok := s.list(); ok; ok = s.more(']') {
					key, val := "", pcommon.NewValueEmpty()
					for ok := s.obj(); ok; ok = s.more('}') {
						switch s.key() {
						case "key":
							key = string([]byte(s.str()))
						case "value":
							s.pdataValue(val)
						default:
							s.skip()
						}
					}
					val.CopyTo(m.PutEmpty(key))
				}
			}
		default:
			s.skip()
		}
	}
}
