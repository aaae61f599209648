package integrity

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// JSONReader turns JSON documents into Records for a Verifier: an OTLP JSON
// logs document (the file exporter's line, or an export), or a row as
// VictoriaLogs' LogsQL query API returns it (one JSON object of strings,
// the body and attributes flattened to dotted keys). It reads each
// document in one pass, decoding only what the flat form needs (no pdata,
// no tree of the document: the resource and the scope are skipped), with
// the strings of a record sharing the document's memory. It is not safe
// for concurrent use; the Records it hands out are valid during the call
// only.
type JSONReader struct {
	s     scanner
	enc   Encoder // arrays' JCS text
	flat  Encoder // the pairs of the OTLP record being read (Record.flat)
	r     Record
	arena []byte // formatted keys and values of the record being read
	key   []byte // the dotted key being built
}

// Read parses one document and hands each record in it to add. It tells
// which form it was; an error says what is wrong with the document and
// where (the records before it were handed on).
func (j *JSONReader) Read(doc []byte, add func(*Record)) (form string, err error) {
	s := &j.s
	*s = scanner{b: doc}
	j.r.Reset()
	j.arena = j.arena[:0]
	if s.peek() != '{' {
		return "", errors.New("not a JSON object")
	}
	// The first member tells the form: an OTLP document starts with
	// resourceLogs (pdata and the file exporter write nothing before it),
	// a VictoriaLogs row with one of its fields.
	otlp := false
	rows := false
	for ok := s.obj(); ok; ok = s.more('}') {
		switch k := s.key(); {
		case k == "resourceLogs" || k == "resource_logs":
			otlp = true
			for ok := s.list(); ok; ok = s.more(']') {
				j.resourceLogs(add)
			}
		case !otlp:
			rows = true
			j.rowField(k)
		default:
			s.skip()
		}
	}
	if s.err == nil && !s.end() {
		s.fail("more after the document")
	}
	if s.err != nil {
		return "", s.err
	}
	switch {
	case otlp && rows:
		return "", errors.New("a VictoriaLogs row with a resourceLogs field")
	case rows:
		return "victorialogs", j.endRow(add)
	}
	return "otlp", nil
}

func (j *JSONReader) resourceLogs(add func(*Record)) {
	s := &j.s
	for ok := s.obj(); ok; ok = s.more('}') {
		if k := s.key(); k != "scopeLogs" && k != "scope_logs" {
			s.skip()
			continue
		}
		for ok := s.list(); ok; ok = s.more(']') {
			for ok := s.obj(); ok; ok = s.more('}') {
				if k := s.key(); k != "logRecords" && k != "log_records" {
					s.skip()
					continue
				}
				for ok := s.list(); ok; ok = s.more(']') {
					j.r.Reset()
					j.arena = j.arena[:0]
					j.flat.BeginFields()
					j.r.flat = &j.flat
					if j.logRecord() {
						add(&j.r)
					}
				}
			}
		}
	}
}

// logRecord reads one OTLP JSON log record into j.r.
func (j *JSONReader) logRecord() bool {
	s := &j.s
	var observed uint64
	for ok := s.obj(); ok; ok = s.more('}') {
		switch s.key() {
		case "eventName", "event_name":
			j.r.EventName = s.str()
		case "timeUnixNano", "time_unix_nano":
			j.r.Time = s.uint("timeUnixNano")
		case "observedTimeUnixNano", "observed_time_unix_nano":
			observed = s.uint("observedTimeUnixNano")
		case "severityNumber", "severity_number":
			j.r.SeverityNumber = int64(s.uint("severityNumber"))
		case "severityText", "severity_text":
			j.r.SeverityText = s.str()
		case "traceId", "trace_id":
			j.r.TraceID = j.hexID(s.str(), 16, "traceId")
		case "spanId", "span_id":
			j.r.SpanID = j.hexID(s.str(), 8, "spanId")
		case "body":
			j.key = j.key[:0]
			j.anyValue()
		case "attributes":
			j.key = j.key[:0]
			j.keyValues()
		default:
			s.skip()
		}
	}
	if j.r.Time == 0 {
		j.r.Time = observed
	}
	return s.err == nil
}

// hexID reads a trace or span id: "" when absent or all zeros (as pdata
// has it), else lower-case hex.
func (j *JSONReader) hexID(v string, size int, name string) string {
	if v == "" || j.s.err != nil {
		return ""
	}
	var id [16]byte
	if len(v) != 2*size {
		j.s.fail(fmt.Sprintf("%s is not %d bytes in hex", name, size))
		return ""
	}
	if zero, ok := lowerHex(v); ok { // as pdata writes it: the id as it is
		if zero {
			return ""
		}
		return v
	}
	if _, err := hex.Decode(id[:size], []byte(v)); err != nil {
		j.s.fail(fmt.Sprintf("%s is not %d bytes in hex", name, size))
		return ""
	}
	if id == ([16]byte{}) {
		return ""
	}
	a0 := len(j.arena)
	j.arena = hex.AppendEncode(j.arena, id[:size])
	return unsafeString(j.arena[a0:])
}

// lowerHex tells whether v is in lower-case hex, and if so whether it is
// all zeros.
func lowerHex(v string) (zero, ok bool) {
	var nonzero byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false, false
		}
		nonzero |= c ^ '0'
	}
	return nonzero == 0, true
}

// keyValues reads a list of OTLP KeyValues under the key in j.key.
func (j *JSONReader) keyValues() {
	s := &j.s
	p0 := len(j.key)
	for ok := s.list(); ok; ok = s.more(']') {
		if j.plainKeyValue(p0) {
			continue
		}
		key, haveKey, val := "", false, -1
		more := false
		if s.objWith(`{"key":`) { // pdata's order: the key first, then the value
			key, haveKey = s.str(), true
			if s.lit(`,"value":`) {
				j.member(p0, key)
				j.anyValue()
			}
			more = s.more('}')
		} else {
			more = s.obj()
		}
		for ; more; more = s.more('}') {
			switch s.key() {
			case "key":
				key, haveKey = s.str(), true
			case "value":
				if !haveKey {
					val = s.i // the value came first: read it after the key
					s.skip()
					continue
				}
				j.member(p0, key)
				j.anyValue()
			default:
				s.skip()
			}
		}
		if s.err != nil {
			break
		}
		if val >= 0 { // (a key-value without a key has the empty key: OTLP JSON leaves defaults out)
			end := s.i
			s.i = val
			j.member(p0, key)
			j.anyValue()
			if s.err == nil {
				s.i = end
			}
		}
	}
	j.key = j.key[:p0]
}

// member sets j.key to the key at p0 and its member k.
func (j *JSONReader) member(p0 int, k string) {
	j.key = j.key[:p0]
	if p0 > 0 {
		j.key = append(j.key, '.')
	}
	j.key = append(j.key, k...)
}

// anyValue adds the pairs of an OTLP AnyValue under the key in j.key, as
// the flat form has them (Encoder.addValue, flat.go).
func (j *JSONReader) anyValue() {
	s := &j.s
	var val string
	a0 := len(j.arena)
	more := false
	switch {
	case s.objWith(`{"stringValue":`): // most values
		val = s.str()
		more = s.more('}')
	case s.objWith(`{"kvlistValue":`):
		j.kvlist()
		more = s.more('}')
	default:
		more = s.obj()
	}
	for ; more; more = s.more('}') {
		switch s.key() {
		case "stringValue", "string_value":
			val = s.str()
		case "boolValue", "bool_value":
			j.arena = strconv.AppendBool(j.arena, s.bool())
			val = unsafeString(j.arena[a0:])
		case "intValue", "int_value":
			j.arena = strconv.AppendInt(j.arena, s.int(), 10)
			val = unsafeString(j.arena[a0:])
		case "doubleValue", "double_value":
			j.arena = strconv.AppendFloat(j.arena, s.double(), 'f', -1, 64)
			val = unsafeString(j.arena[a0:])
		case "bytesValue", "bytes_value":
			j.arena = base64.StdEncoding.AppendEncode(j.arena, s.bytes())
			val = unsafeString(j.arena[a0:])
		case "arrayValue", "array_value":
			arr := pcommon.NewValueEmpty()
			s.pdataArray(arr.SetEmptySlice())
			j.enc.Reset()
			j.enc.Value(arr)
			val = j.keep(j.enc.Bytes())
		case "kvlistValue", "kvlist_value":
			j.kvlist()
		default:
			s.skip()
		}
	}
	if s.err != nil || val == "" {
		return
	}
	key := MsgKey
	if len(j.key) > 0 {
		key = j.keep(j.key)
	}
	j.field(key, val, false)
}

// kvlist reads an OTLP KeyValueList ({"values": [KeyValue...]}) under the
// key in j.key.
func (j *JSONReader) kvlist() {
	s := &j.s
	more := false
	if s.objWith(`{"values":`) { // as pdata writes it
		j.keyValues()
		more = s.more('}')
	} else {
		more = s.obj()
	}
	for ; more; more = s.more('}') {
		if s.key() == "values" {
			j.keyValues()
		} else {
			s.skip()
		}
	}
}

// field adds a pair to the record (and to its flat form, when it has
// one), or takes it as a chain key. plain says that val needs no escape in
// a JCS string (Encoder.addField).
func (j *JSONReader) field(key, val string, plain bool) {
	if j.r.SetChain(key, val) || HasChainPrefix(key) {
		return
	}
	j.r.Fields = append(j.r.Fields, Field{key, val})
	if j.r.flat != nil {
		j.r.flat.addField(key, val, plain)
	}
}

// plainKeyValue reads a key-value of a scalar written as pdata writes it,
// with no white space and no escape in its strings:
//
//	{"key":"k","value":{"stringValue":"v"}}  (or "intValue":"-12", "boolValue":true)
//
// and adds its pair under the key at p0; it tells whether it did. Anything
// else (another kind of value, another order, white space, an escape, an
// int not written as AppendInt writes it) it leaves unread, for keyValues
// to read the general way. What it reads, it reads as the general way does.
func (j *JSONReader) plainKeyValue(p0 int) bool {
	s := &j.s
	b, i := s.b, s.i
	if len(b)-i < 8 || string(b[i:i+8]) != `{"key":"` || s.depth+2 > maxDepth {
		return false
	}
	k0 := i + 8
	k1 := plainEnd(b, k0)
	if k1 < 0 {
		return false
	}
	i = k1 + 1
	if len(b)-i < 11 || string(b[i:i+11]) != `,"value":{"` {
		return false
	}
	i += 11
	var val string
	plain := true // digits, true, false
	switch {
	case len(b)-i >= 14 && string(b[i:i+14]) == `stringValue":"`:
		v0 := i + 14
		v1, ascii := plainEndASCII(b, v0)
		if v1 < 0 {
			return false
		}
		val, i, plain = unsafeString(b[v0:v1]), v1+1, ascii
	case len(b)-i >= 11 && string(b[i:i+11]) == `intValue":"`:
		v0 := i + 11
		v1 := v0
		for v1 < len(b) && v1-v0 < 19 && (b[v1] >= '0' && b[v1] <= '9' || v1 == v0 && b[v1] == '-') {
			v1++
		}
		// As strconv.AppendInt writes it: no leading zero, no "-0", no
		// more digits than an int64 surely holds.
		n := b[v0:v1]
		if v1 >= len(b) || b[v1] != '"' || len(n) == 0 || n[0] == '-' && (len(n) == 1 || n[1] == '0') ||
			n[0] == '0' && len(n) > 1 || len(n) > 18 {
			return false
		}
		val, i = unsafeString(n), v1+1
	case len(b)-i >= 15 && string(b[i:i+15]) == `boolValue":true`:
		val, i = "true", i+15
	case len(b)-i >= 16 && string(b[i:i+16]) == `boolValue":false`:
		val, i = "false", i+16
	default:
		return false
	}
	if len(b)-i < 2 || b[i] != '}' || b[i+1] != '}' {
		return false
	}
	s.i = i + 2
	if val == "" {
		return true
	}
	key := unsafeString(b[k0:k1])
	switch {
	case p0 > 0:
		a0 := len(j.arena)
		j.arena = append(append(append(j.arena, j.key[:p0]...), '.'), key...)
		key = unsafeString(j.arena[a0:])
	case key == "":
		key = MsgKey
	}
	j.field(key, val, plain)
	return true
}

// keep copies b into the record's arena and returns it as a string (valid
// until the next record).
func (j *JSONReader) keep(b []byte) string {
	a0 := len(j.arena)
	j.arena = append(j.arena, b...)
	return unsafeString(j.arena[a0:])
}

// The fields of a VictoriaLogs row that are not the event's body or
// attributes: the store's own, the scope's, and the log record's header
// (which the Header takes).
const (
	vlTime       = "_time"
	vlStream     = "_stream"
	vlStreamID   = "_stream_id"
	vlMsg        = "_msg"
	vlEventName  = "event_name"
	vlTraceID    = "trace_id"
	vlSpanID     = "span_id"
	vlSevNumber  = "severity_number"
	vlSevText    = "severity_text"
	vlScopeName  = "scope.name"
	vlScopeVer   = "scope.version"
	vlScopeAttrs = "scope.attributes."
	// vlDefaultMsg starts the _msg VictoriaLogs gives a row without one
	// (its -defaultMsgValue).
	vlDefaultMsg = "missing _msg field"
)

// rowField reads one field of a VictoriaLogs row into j.r; endRow takes
// out the resource's (the stream's) once the row is read.
func (j *JSONReader) rowField(key string) {
	s := &j.s
	if s.peek() != '"' {
		s.fail(fmt.Sprintf("field %q is not a string", key))
		return
	}
	v := s.str()
	switch key {
	case vlTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(fmt.Sprintf("_time %q is not an RFC 3339 time", v))
			return
		}
		j.r.Time = uint64(t.UnixNano())
	case vlStream:
		j.r.stream = v
	case vlStreamID, vlScopeName, vlScopeVer:
	case vlEventName:
		j.r.EventName = v
	case vlTraceID:
		j.r.TraceID = v
	case vlSpanID:
		j.r.SpanID = v
	case vlSevNumber:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			s.fail(fmt.Sprintf("severity_number %q is not a number", v))
		}
		j.r.SeverityNumber = n
	case vlSevText:
		j.r.SeverityText = v
	case vlMsg:
		if !strings.HasPrefix(v, vlDefaultMsg) {
			j.r.Fields = append(j.r.Fields, Field{MsgKey, v})
		}
	default:
		if strings.HasPrefix(key, vlScopeAttrs) {
			return
		}
		if !j.r.SetChain(key, v) && !HasChainPrefix(key) {
			j.r.Fields = append(j.r.Fields, Field{key, v})
		}
	}
}

// endRow leaves out the fields the row's _stream names (the resource's:
// VictoriaLogs makes the resource attributes the stream) and hands the
// record on.
func (j *JSONReader) endRow(add func(*Record)) error {
	ks, err := streamKeys(j.r.stream)
	if err != nil {
		return err
	}
	if len(ks) > 0 {
		j.r.Fields = slices.DeleteFunc(j.r.Fields, func(f Field) bool { return ks.has(f.Key) })
	}
	if j.r.Time == 0 {
		return errors.New("a VictoriaLogs row without _time")
	}
	add(&j.r)
	return nil
}

// keySet is a few keys.
type keySet []string

func (ks keySet) has(k string) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// streamKeys reads the field names of a VictoriaLogs stream,
// {name="quoted value",...}.
func streamKeys(s string) (keySet, error) {
	if s == "" {
		return nil, nil
	}
	bad := fmt.Errorf("_stream %q is not {name=\"value\",...}", s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, bad
	}
	s = s[1 : len(s)-1]
	var ks keySet
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, bad
		}
		ks = append(ks, s[:eq])
		q, err := strconv.QuotedPrefix(s[eq+1:])
		if err != nil {
			return nil, bad
		}
		s = s[eq+1+len(q):]
		if s != "" {
			if s[0] != ',' {
				return nil, bad
			}
			s = s[1:]
		}
	}
	return ks, nil
}
