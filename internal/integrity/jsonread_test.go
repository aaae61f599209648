package integrity

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// sampleEvent is an event record with a value of every kind.
func sampleEvent() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "stt")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(ScopeName)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetEventName(EventName)
	lr.SetTimestamp(1_700_000_000_123_456_789)
	lr.SetObservedTimestamp(1_800_000_000_000_000_000)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetTraceID(pcommon.TraceID{0xab, 15: 2})
	lr.SetSpanID(pcommon.SpanID{3, 7: 4})
	a := lr.Attributes()
	a.PutStr("audit.action", "svc.obj.delete")
	a.PutStr(AttrChainID, "c1")
	a.PutInt(AttrChainSeq, 7)
	a.PutStr(AttrChainHash, Hash{1}.String())
	b := lr.Body().SetEmptyMap()
	b.PutStr("id", "the-id")
	b.PutStr("message", "a \"quoted\" \\ line\nand é, \U0001F600")
	b.PutEmptyMap("reason").PutInt("reasonCode", -403)
	b.PutDouble("ratio", 1e21)
	b.PutDouble("nan", math.NaN())
	b.PutDouble("small", 0.000001)
	b.PutBool("dataEvent", true)
	b.PutEmptyBytes("raw").FromRaw([]byte{0xfb, 0xff})
	s := b.PutEmptySlice("list")
	s.AppendEmpty().SetInt(1)
	s.AppendEmpty().SetEmptyMap().PutStr("z", "y")
	s.AppendEmpty().SetDouble(2.5)
	b.PutStr("empty", "")
	b.PutEmpty("none")
	return ld
}

// readAll reads doc with a JSONReader and returns the flat forms of its
// records and the records' chain keys.
func readAll(t *testing.T, doc []byte) (forms []string, chains [][3]string) {
	t.Helper()
	var j JSONReader
	var e Encoder
	_, err := j.Read(doc, func(r *Record) {
		e.BeginFields()
		for _, f := range r.Fields {
			e.AddField(f.Key, f.Value)
		}
		e.FlatEvent(&r.Header)
		forms = append(forms, string(e.Bytes()))
		chains = append(chains, [3]string{r.ChainID, r.ChainSeq, r.ChainHash})
	})
	require.NoError(t, err)
	return forms, chains
}

// TestReadOTLPJSON: a record read from OTLP JSON has the flat form the
// connector wrote from pdata, every kind of value included.
func TestReadOTLPJSON(t *testing.T) {
	ld := sampleEvent()
	doc, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	var e Encoder
	e.Event(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0))
	forms, chains := readAll(t, doc)
	require.Len(t, forms, 1)
	assert.Equal(t, string(e.Bytes()), forms[0])
	assert.Equal(t, [3]string{"c1", "7", Hash{1}.String()}, chains[0])
}

// TestReadVictoriaLogsRow: the same event as VictoriaLogs returns it (a
// row of strings: the body and attributes flattened, the resource among
// them and named by _stream, the store's and the scope's fields beside)
// has the same flat form.
func TestReadVictoriaLogsRow(t *testing.T) {
	ld := sampleEvent()
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	var e Encoder
	e.Event(lr)
	want := string(e.Bytes())
	row := map[string]string{
		"_msg":            "missing _msg field; see the store's docs",
		"_stream":         `{event_name="audit.event",service.name="stt"}`,
		"_stream_id":      "00000000000000001234",
		"_time":           "2023-11-14T22:13:20.123456789Z",
		"event_name":      EventName,
		"service.name":    "stt",
		"scope.name":      ScopeName,
		"scope.version":   "unknown",
		"severity_number": "13",
		"severity_text":   "Warn",
		"trace_id":        "ab000000000000000000000000000002",
		"span_id":         "0300000000000004",
		"audit.chain.id":  "c1",
		"audit.chain.seq": "7",
	}
	for _, f := range e.Fields(lr) {
		row[f.Key] = f.Value
	}
	doc, err := json.Marshal(row)
	require.NoError(t, err)
	forms, chains := readAll(t, doc)
	require.Len(t, forms, 1)
	assert.Equal(t, want, forms[0])
	assert.Equal(t, [3]string{"c1", "7", ""}, chains[0])

	// A field the resource does not name is the event's: it changes the form.
	row["k8s.pod.name"] = "p"
	doc, err = json.Marshal(row)
	require.NoError(t, err)
	forms, _ = readAll(t, doc)
	assert.NotEqual(t, want, forms[0])
}

// TestStreamKeys: the names of a VictoriaLogs stream, whatever its quoted
// values hold; anything else is an error.
func TestStreamKeys(t *testing.T) {
	ks, err := streamKeys(`{a="x",b.c="y\",z=\"w",event_name="audit.event"}`)
	require.NoError(t, err)
	assert.Equal(t, keySet{"a", "b.c", "event_name"}, ks)
	ks, err = streamKeys(`{}`)
	require.NoError(t, err)
	assert.Empty(t, ks)
	for _, bad := range []string{`{a}`, `{a="x"`, `{a="x" b="y"}`, `a="x"`, `{a=x}`} {
		_, err := streamKeys(bad)
		assert.Error(t, err, bad)
	}
}

// TestReadErrors: what is not a document, or not one of the two forms,
// is an error that says so; nothing panics.
func TestReadErrors(t *testing.T) {
	var j JSONReader
	for doc, want := range map[string]string{
		`[1]`:                                    "not a JSON object",
		`{"a":"x"}`:                              "a VictoriaLogs row without _time",
		`{"_time":"x"}`:                          `offset 12: _time "x" is not an RFC 3339 time`,
		`{"_time":"2023-11-14T22:13:20Z","a":1}`: `offset 36: field "a" is not a string`,
		`{"_time":"2023-11-14T22:13:20Z"} {}`:    "offset 33: more after the document",
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]}`:       "offset 66: timeUnixNano is not an unsigned integer",
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abcd"}]}]}]}`:          "offset 63: traceId is not 16 bytes in hex",
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"x"}}]}]}]}`:   "offset 69: intValue is not an integer",
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x}}]}]}]}`: "offset 79: a string does not end",
		`{"resourceLogs":[],"x":` + strings.Repeat("[", 200):                              "offset 151: nested too deep",
	} {
		_, err := j.Read([]byte(doc), func(*Record) {})
		assert.EqualError(t, err, want, doc)
	}
}

// TestReadZeroIDs: an all-zero or empty id is an absent one, as pdata has
// it; hex comes out in lower case.
func TestReadZeroIDs(t *testing.T) {
	var j JSONReader
	doc := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"00000000000000000000000000000000","spanId":""},{"traceId":"AB000000000000000000000000000002"}]}]}]}`
	var got [][2]string
	_, err := j.Read([]byte(doc), func(r *Record) { got = append(got, [2]string{r.TraceID, r.SpanID}) })
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"", ""}, {"ab000000000000000000000000000002", ""}}, got)
}

// TestReadValueBeforeKey: a key-value whose value comes before its key (JSON
// members have no order) reads as the one written key first.
func TestReadValueBeforeKey(t *testing.T) {
	keyFirst := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"kvlistValue":{"values":[{"key":"b","value":{"intValue":"1"}}]}}}]}]}]}]}`
	valueFirst := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"kvlistValue":{"values":[{"value":{"intValue":"1"},"key":"b"}]}},"key":"a"}]}]}]}]}`
	want, _ := readAll(t, []byte(keyFirst))
	got, _ := readAll(t, []byte(valueFirst))
	assert.Equal(t, want, got)
	assert.Contains(t, got[0], `["a.b","1"]`)
}

// FuzzReaderAgrees: for any log records pdata reads from the input, what
// pdata writes of them as OTLP JSON reads back, with JSONReader, to the
// flat form the connector computes from pdata.
func FuzzReaderAgrees(f *testing.F) {
	doc, err := (&plog.JSONMarshaler{}).MarshalLogs(sampleEvent())
	require.NoError(f, err)
	f.Add(doc)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\u0000\ud800x"},"attributes":[{"key":"a.b","value":{"doubleValue":-0}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(data)
		if err != nil {
			return
		}
		doc, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		var want []string
		var e Encoder
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					e.Reset()
					e.Event(lr)
					want = append(want, string(e.Bytes()))
				}
			}
		}
		got, _ := readAll(t, doc)
		assert.Equal(t, want, got, "%s", doc)
	})
}

// readView is what JSONReader hands on of one record, and its flat form
// written both ways: from the pairs the reader added as it read (what the
// verifier hashes) and from its Fields (AddField).
type readView struct {
	Header
	Fields                       []Field
	ChainID, ChainSeq, ChainHash string
	Flat, FromFields             string
}

func readViews(doc []byte) ([]readView, error) {
	var j JSONReader
	var e Encoder
	var out []readView
	_, err := j.Read(doc, func(r *Record) {
		v := readView{Header: r.Header, ChainID: r.ChainID, ChainSeq: r.ChainSeq, ChainHash: r.ChainHash}
		for _, f := range r.Fields {
			v.Fields = append(v.Fields, Field{strings.Clone(f.Key), strings.Clone(f.Value)})
		}
		v.Header.EventName, v.Header.SeverityText = strings.Clone(v.EventName), strings.Clone(v.SeverityText)
		v.Header.TraceID, v.Header.SpanID = strings.Clone(v.TraceID), strings.Clone(v.SpanID)
		v.ChainID, v.ChainSeq, v.ChainHash = strings.Clone(v.ChainID), strings.Clone(v.ChainSeq), strings.Clone(v.ChainHash)
		if r.flat != nil {
			r.flatForm(nil)
			v.Flat = string(r.flatForm(nil)) // the same form, written again
		}
		e.BeginFields()
		for _, f := range r.Fields {
			e.AddField(f.Key, f.Value)
		}
		e.FlatEvent(&r.Header)
		v.FromFields = string(e.Bytes())
		out = append(out, v)
	})
	return out, err
}

// plainLaneDocs are OTLP JSON documents for TestReadPlainLane: pdata's
// own output, and key-values that look like what the plain lane reads
// but are not quite (ints not as AppendInt writes them, escapes, members
// after or before the value, other kinds), with strings of every length
// around 8 bytes holding, at every position, a byte that needs care.
func plainLaneDocs(t *testing.T) [][]byte {
	doc, err := (&plog.JSONMarshaler{}).MarshalLogs(sampleEvent())
	require.NoError(t, err)
	docs := [][]byte{doc}
	kvs := []string{
		`{"key":"a","value":{"intValue":"007"}}`,
		`{"key":"a","value":{"intValue":"-0"}}`,
		`{"key":"a","value":{"intValue":"-012"}}`,
		`{"key":"a","value":{"intValue":"0"}}`,
		`{"key":"a","value":{"intValue":"-9223372036854775808"}}`,
		`{"key":"a","value":{"intValue":"9223372036854775807"}}`,
		`{"key":"a","value":{"intValue":"123456789012345678"}}`,
		`{"key":"a","value":{"intValue":"999999999999999999"}}`,
		`{"key":"a","value":{"intValue":"9999999999999999999"}}`,
		`{"key":"a","value":{"intValue":"+5"}}`,
		`{"key":"a","value":{"intValue":""}}`,
		`{"key":"a","value":{"intValue":5}}`,
		`{"key":"a","value":{"boolValue":true}}`,
		`{"key":"a","value":{"boolValue":false}}`,
		`{"key":"a","value":{"boolValue":"true"}}`,
		`{"key":"a","value":{"stringValue":""}}`,
		`{"key":"","value":{"stringValue":"x"}}`,
		`{"key":"a","value":{"stringValue":"x","intValue":"3"}}`,
		`{"key":"a","value":{"stringValue":"x"},"key":"b"}`,
		`{"key":"a","value":{"stringValue":"x"},"value":{"stringValue":"y"}}`,
		`{"value":{"stringValue":"x"},"key":"a"}`,
		`{"key":"a\u002eb","value":{"stringValue":"x\"y"}}`,
		`{"key":"a","value":{"doubleValue":1.5}}`,
		`{"key":"a","value":{"kvlistValue":{"values":[{"key":"b","value":{"stringValue":"x"}}],"values":[{"key":"c","value":{"intValue":"1"}}]}}}`,
		`{"key":"a","value":{"kvlistValue":{"other":1,"values":[{"key":"b","value":{"stringValue":"x"}}]},"stringValue":"y"}}`,
		`{"key":"audit.chain.seq","value":{"intValue":"42"}}`,
		`{"key":"audit.chain.other","value":{"stringValue":"x"}}`,
	}
	for n := range 18 {
		for i := range n {
			for _, c := range []string{"é", "\xff", "\x7f", "~", " ", `\"`, `\\`, `\u0041`, `\n`} {
				s := strings.Repeat("a", i) + c + strings.Repeat("b", n-i)
				kvs = append(kvs, `{"key":"k`+s+`","value":{"stringValue":"`+s+`"}}`)
			}
		}
	}
	for _, kv := range kvs {
		for _, where := range []string{
			`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[` + kv + `]}]}]}]}`,
			`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"m","value":{"kvlistValue":{"values":[` + kv + `,` + kv + `]}}}]}}}]}]}]}`,
		} {
			docs = append(docs, []byte(where))
		}
	}
	return docs
}

// TestReadPlainLane: what the plain lane reads (key-values written as
// pdata writes them, no white space) it reads as the general way does:
// each document reads as the same document indented (which the plain lane
// never takes); and the flat form of the pairs the reader added as it read
// is the one written from the record's fields.
func TestReadPlainLane(t *testing.T) {
	docs := plainLaneDocs(t)
	// Control characters: not JSON (json.Indent refuses them), but read.
	for _, c := range []string{"\x01", "\x1f", "\t"} {
		docs = append(docs, []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"k","value":{"stringValue":"abcdefgh`+c+`ijk"}},{"key":"k","value":{"stringValue":"ab`+c+`"}}]}]}]}]}`))
	}
	for _, doc := range docs {
		got, err := readViews(doc)
		for _, v := range got {
			assert.Equal(t, v.FromFields, v.Flat, "%s", doc)
		}
		var indented bytes.Buffer
		if json.Indent(&indented, doc, "", " ") != nil {
			assert.NoError(t, err, "%s", doc)
			continue
		}
		want, werr := readViews(indented.Bytes())
		assert.Equal(t, werr != nil, err != nil, "%s: %v, indented: %v", doc, err, werr)
		assert.Equal(t, want, got, "%s", doc)
	}
}
