package integrity

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// JSONReader turns JSON documents into Records for a Verifier, decoding
// only what the flat form needs (no pdata in between): an OTLP JSON logs
// document (the file exporter's line, or an export), or a row as
// VictoriaLogs' LogsQL query API returns it (one JSON object of strings,
// the body and attributes flattened to dotted keys). It is not safe for
// concurrent use; the Records it hands out are valid during the call only.
type JSONReader struct {
	p     fastjson.Parser
	enc   Encoder
	r     Record
	arena []byte // formatted keys and values of the record being read
	key   []byte // the dotted key being built
}

// Read parses one document and hands each record in it to add. It tells
// which form it was; an error says what is wrong with the document (the
// records before it were handed on).
func (j *JSONReader) Read(doc []byte, add func(*Record)) (form string, err error) {
	v, err := j.p.ParseBytes(doc)
	if err != nil {
		return "", err
	}
	o, err := v.Object()
	if err != nil {
		return "", errors.New("not a JSON object")
	}
	if rls := o.Get("resourceLogs"); rls != nil {
		return "otlp", j.otlp(rls, add)
	}
	if o.Get("_time") != nil || o.Get("_stream") != nil {
		return "victorialogs", j.victoria(o, add)
	}
	if o.Len() == 0 {
		return "otlp", nil // an empty OTLP document
	}
	return "", errors.New("neither an OTLP JSON logs document (resourceLogs) nor a VictoriaLogs row (_time)")
}

// str is the bytes of a JSON string as a string sharing the parser's
// memory (valid until the next Parse).
func str(v *fastjson.Value) (string, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := v.StringBytes()
	return unsafeString(b), true
}

// keep copies b's bytes into the record's arena and returns them as a
// string (valid until the next record).
func (j *JSONReader) keep(b []byte) string {
	a0 := len(j.arena)
	j.arena = append(j.arena, b...)
	return unsafeString(j.arena[a0:])
}

func (j *JSONReader) otlp(rls *fastjson.Value, add func(*Record)) error {
	rlsA, err := rls.Array()
	if err != nil {
		return errors.New("resourceLogs is not a list")
	}
	for _, rl := range rlsA {
		for _, sl := range rl.GetArray("scopeLogs") {
			for _, lr := range sl.GetArray("logRecords") {
				if err := j.otlpRecord(lr); err != nil {
					return err
				}
				add(&j.r)
			}
		}
	}
	return nil
}

// otlpRecord reads one OTLP JSON log record into j.r.
func (j *JSONReader) otlpRecord(lr *fastjson.Value) error {
	o, err := lr.Object()
	if err != nil {
		return errors.New("a log record is not an object")
	}
	j.r.Reset()
	j.arena = j.arena[:0]
	var observed uint64
	var ferr error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if ferr != nil {
			return
		}
		switch string(k) {
		case "eventName", "event_name":
			j.r.EventName, _ = str(v)
		case "timeUnixNano", "time_unix_nano":
			j.r.Time, ferr = uintOf(v, "timeUnixNano")
		case "observedTimeUnixNano", "observed_time_unix_nano":
			observed, ferr = uintOf(v, "observedTimeUnixNano")
		case "severityNumber", "severity_number":
			var n uint64
			n, ferr = uintOf(v, "severityNumber")
			j.r.SeverityNumber = int64(n)
		case "severityText", "severity_text":
			j.r.SeverityText, _ = str(v)
		case "traceId", "trace_id":
			j.r.TraceID, ferr = j.hexID(v, 16, "traceId")
		case "spanId", "span_id":
			j.r.SpanID, ferr = j.hexID(v, 8, "spanId")
		case "body":
			j.key = j.key[:0]
			ferr = j.anyValue(v)
		case "attributes":
			ferr = j.keyValues(v, 0)
		}
	})
	if j.r.Time == 0 {
		j.r.Time = observed
	}
	return ferr
}

func uintOf(v *fastjson.Value, name string) (uint64, error) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Uint64(); err == nil {
			return n, nil
		}
	case fastjson.TypeString:
		s, _ := str(v)
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s is not an unsigned integer", name)
}

// hexID reads a trace or span id: "" when absent or all zeros (as pdata
// has it), else lower-case hex.
func (j *JSONReader) hexID(v *fastjson.Value, size int, name string) (string, error) {
	s, ok := str(v)
	if !ok {
		return "", fmt.Errorf("%s is not a string", name)
	}
	if s == "" {
		return "", nil
	}
	var id [16]byte
	if len(s) != 2*size {
		return "", fmt.Errorf("%s is not %d bytes in hex", name, size)
	}
	if _, err := hex.Decode(id[:size], []byte(s)); err != nil {
		return "", fmt.Errorf("%s is not %d bytes in hex", name, size)
	}
	if id == ([16]byte{}) {
		return "", nil
	}
	a0 := len(j.arena)
	j.arena = hex.AppendEncode(j.arena, id[:size])
	return unsafeString(j.arena[a0:]), nil
}

// keyValues reads a list of OTLP KeyValues under the key j.key[:p0].
func (j *JSONReader) keyValues(v *fastjson.Value, p0 int) error {
	kvs, err := v.Array()
	if err != nil {
		return errors.New("a key-value list is not a list")
	}
	for _, kv := range kvs {
		k, ok := str(kv.Get("key"))
		if !ok {
			return errors.New("a key-value has no string key")
		}
		j.key = j.key[:p0]
		if p0 > 0 {
			j.key = append(j.key, '.')
		}
		j.key = append(j.key, k...)
		if val := kv.Get("value"); val != nil {
			if err := j.anyValue(val); err != nil {
				return err
			}
		}
	}
	j.key = j.key[:p0]
	return nil
}

// anyValue adds the pairs of an OTLP AnyValue under the key in j.key, as
// the flat form has them (Encoder.addValue, flat.go).
func (j *JSONReader) anyValue(v *fastjson.Value) error {
	o, err := v.Object()
	if err != nil {
		return errors.New("a value is not an object")
	}
	var val string
	var ferr error
	o.Visit(func(k []byte, x *fastjson.Value) {
		if ferr != nil {
			return
		}
		a0 := len(j.arena)
		switch string(k) {
		case "stringValue", "string_value":
			s, ok := str(x)
			if !ok {
				ferr = errors.New("stringValue is not a string")
			}
			val = s
		case "boolValue", "bool_value":
			b, err := x.Bool()
			if err != nil {
				ferr = errors.New("boolValue is not a bool")
			}
			j.arena = strconv.AppendBool(j.arena, b)
			val = unsafeString(j.arena[a0:])
		case "intValue", "int_value":
			n, err := intOf(x)
			if err != nil {
				ferr = err
			}
			j.arena = strconv.AppendInt(j.arena, n, 10)
			val = unsafeString(j.arena[a0:])
		case "doubleValue", "double_value":
			f, err := doubleOf(x)
			if err != nil {
				ferr = err
			}
			j.arena = strconv.AppendFloat(j.arena, f, 'f', -1, 64)
			val = unsafeString(j.arena[a0:])
		case "bytesValue", "bytes_value":
			s, _ := str(x)
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				ferr = errors.New("bytesValue is not base64")
			}
			j.arena = base64.StdEncoding.AppendEncode(j.arena, raw)
			val = unsafeString(j.arena[a0:])
		case "arrayValue", "array_value":
			arr := pcommon.NewValueEmpty()
			s := arr.SetEmptySlice()
			for _, e := range x.GetArray("values") {
				if ferr = toPdata(e, s.AppendEmpty(), 1); ferr != nil {
					return
				}
			}
			j.enc.Reset()
			j.enc.Value(arr)
			val = j.keep(j.enc.Bytes())
		case "kvlistValue", "kvlist_value":
			ferr = j.keyValues(x.Get("values"), len(j.key))
		}
	})
	if ferr != nil || val == "" {
		return ferr
	}
	key := MsgKey
	if len(j.key) > 0 {
		key = j.keep(j.key)
	}
	if !j.r.SetChain(key, val) && !HasChainPrefix(key) {
		j.r.Fields = append(j.r.Fields, Field{key, val})
	}
	return nil
}

func intOf(x *fastjson.Value) (int64, error) {
	switch x.Type() {
	case fastjson.TypeNumber:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case fastjson.TypeString:
		s, _ := str(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errors.New("intValue is not an integer")
}

func doubleOf(x *fastjson.Value) (float64, error) {
	switch x.Type() {
	case fastjson.TypeNumber:
		return x.Float64()
	case fastjson.TypeString:
		s, _ := str(x)
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return 0, errors.New("doubleValue is not a number")
}

// maxDepth bounds the nesting of an array value read into pdata.
const maxDepth = 64

// toPdata reads an OTLP JSON AnyValue into dst (arrays are written by their
// typed JCS text, so they are read whole).
func toPdata(v *fastjson.Value, dst pcommon.Value, depth int) error {
	if depth > maxDepth {
		return errors.New("a value nests too deep")
	}
	o, err := v.Object()
	if err != nil {
		return errors.New("a value is not an object")
	}
	var ferr error
	o.Visit(func(k []byte, x *fastjson.Value) {
		if ferr != nil {
			return
		}
		switch string(k) {
		case "stringValue", "string_value":
			s, _ := str(x)
			dst.SetStr(strings.Clone(s))
		case "boolValue", "bool_value":
			b, err := x.Bool()
			ferr = err
			dst.SetBool(b)
		case "intValue", "int_value":
			n, err := intOf(x)
			ferr = err
			dst.SetInt(n)
		case "doubleValue", "double_value":
			f, err := doubleOf(x)
			ferr = err
			dst.SetDouble(f)
		case "bytesValue", "bytes_value":
			s, _ := str(x)
			raw, err := base64.StdEncoding.DecodeString(s)
			ferr = err
			dst.SetEmptyBytes().FromRaw(raw)
		case "arrayValue", "array_value":
			s := dst.SetEmptySlice()
			for _, e := range x.GetArray("values") {
				if ferr = toPdata(e, s.AppendEmpty(), depth+1); ferr != nil {
					return
				}
			}
		case "kvlistValue", "kvlist_value":
			m := dst.SetEmptyMap()
			for _, kv := range x.GetArray("values") {
				key, _ := str(kv.Get("key"))
				val := m.PutEmpty(strings.Clone(key))
				if e := kv.Get("value"); e != nil {
					if ferr = toPdata(e, val, depth+1); ferr != nil {
						return
					}
				}
			}
		}
	})
	return ferr
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

// victoria reads a VictoriaLogs row: the resource's attributes are the
// stream's fields (its _stream names them), the rest is the event's.
func (j *JSONReader) victoria(o *fastjson.Object, add func(*Record)) error {
	j.r.Reset()
	j.arena = j.arena[:0]
	stream, _ := str(o.Get(vlStream))
	streamKeys, err := streamKeys(stream)
	if err != nil {
		return err
	}
	var ferr error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if ferr != nil {
			return
		}
		s, ok := str(v)
		if !ok {
			ferr = fmt.Errorf("field %q is not a string", k)
			return
		}
		key := unsafeString(k)
		switch key {
		case vlTime:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				ferr = fmt.Errorf("_time %q is not an RFC 3339 time", s)
				return
			}
			j.r.Time = uint64(t.UnixNano())
		case vlStream, vlStreamID, vlScopeName, vlScopeVer:
		case vlEventName:
			j.r.EventName = s
		case vlTraceID:
			j.r.TraceID = s
		case vlSpanID:
			j.r.SpanID = s
		case vlSevNumber:
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				ferr = fmt.Errorf("severity_number %q is not a number", s)
			}
			j.r.SeverityNumber = n
		case vlSevText:
			j.r.SeverityText = s
		case vlMsg:
			if !strings.HasPrefix(s, vlDefaultMsg) {
				j.r.Fields = append(j.r.Fields, Field{MsgKey, s})
			}
		default:
			if strings.HasPrefix(key, vlScopeAttrs) || streamKeys.has(key) {
				return
			}
			if !j.r.SetChain(key, s) && !HasChainPrefix(key) {
				j.r.Fields = append(j.r.Fields, Field{key, s})
			}
		}
	})
	if ferr != nil {
		return ferr
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
