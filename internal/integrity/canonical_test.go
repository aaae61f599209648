package integrity

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/gowebpki/jcs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func canonical(v pcommon.Value) string {
	var e Encoder
	e.Value(v)
	return string(e.Bytes())
}

// TestCanonicalRFC8785 checks the form against RFC 8785's own examples
// (section 3.2.2's values and 3.2.3's key order) and the choices for what
// JSON has no value for.
func TestCanonicalRFC8785(t *testing.T) {
	m := pcommon.NewValueMap()
	m.Map().PutDouble("numbers", 0) // replaced below
	nums := m.Map().PutEmptySlice("numbers")
	for _, f := range []float64{333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001} {
		nums.AppendEmpty().SetDouble(f)
	}
	m.Map().PutStr("string", "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"/")
	m.Map().PutEmptyMap("literals").PutBool("t", true)
	assert.Equal(t, `{"literals":{"t":true},"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`, canonical(m))

	// 3.2.3: keys sorted by UTF-16 code units.
	k := pcommon.NewValueMap()
	for _, key := range []string{"\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"} {
		k.Map().PutStr(key, "")
	}
	assert.Equal(t, "{\"\\r\":\"\",\"1\":\"\",\"\u0080\":\"\",\"\u00f6\":\"\",\"\u20ac\":\"\",\"\U0001f600\":\"\",\"\ufb33\":\"\"}", canonical(k))

	for _, tc := range []struct {
		v    pcommon.Value
		want string
	}{
		{pcommon.NewValueInt(math.MaxInt64), "9223372036854775807"},
		{pcommon.NewValueDouble(math.NaN()), `"NaN"`},
		{pcommon.NewValueDouble(math.Inf(-1)), `"-Infinity"`},
		{pcommon.NewValueDouble(math.Copysign(0, -1)), "0"},
		{pcommon.NewValueEmpty(), "null"},
		{pcommon.NewValueStr("a\xffb"), "\"a\ufffdb\""},
		{func() pcommon.Value { v := pcommon.NewValueBytes(); v.Bytes().FromRaw([]byte{0, 1, 255}); return v }(), `"AAH/"`},
	} {
		assert.Equal(t, tc.want, canonical(tc.v))
	}
}

// check compares the form of a value built from JSON with what the jcs
// module makes of the same JSON.
func check(t *testing.T, doc []byte) {
	var raw any
	if json.Unmarshal(doc, &raw) != nil {
		return
	}
	safe := true
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x) // pdata keeps integral numbers as ints
			}
			return x
		case string:
			for _, r := range x {
				if r == 0xfffd {
					safe = false // invalid UTF-8 in, where jcs keeps the bytes
				}
			}
			return x
		case map[string]any:
			for k, v := range x {
				walk(k)
				x[k] = walk(v)
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
			return x
		}
		return x
	}
	raw = walk(raw)
	if !safe {
		return
	}
	v := pcommon.NewValueEmpty()
	if err := v.FromRaw(raw); err != nil {
		return
	}
	want, err := jcs.Transform(doc)
	if err != nil {
		return
	}
	assert.Equal(t, string(want), canonical(v), "%s", doc)
}

// FuzzCanonical: for any JSON document, the form is what the jcs module
// (RFC 8785's reference for Go) writes for it.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		`{"b":[1,2.5,-0.001,1e21,1e-7],"a":{"\u00e9":"x","é":null}}`,
		`{"\ud83d\ude00":1,"\ufb33":2,"\u20ac":3}`,
		`[123456789012345678901234567890, 0.1, 5e-324, 1.7976931348623157e308]`,
		`"\u0001\u001f\u2028<>&"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(check)
}

// TestNumbersLikeJCS: ES6 number formatting over a sweep of magnitudes.
func TestNumbersLikeJCS(t *testing.T) {
	for e := -330; e <= 310; e++ {
		for _, m := range []float64{1, 1.5, 3.3333333333333335, 9.999999999999998} {
			f, err := strconv.ParseFloat(strconv.FormatFloat(m, 'g', -1, 64)+"e"+strconv.Itoa(e), 64)
			if err != nil || f == 0 || math.IsInf(f, 0) { // out of range
				continue
			}
			want, err := jcs.Transform([]byte(strconv.FormatFloat(f, 'g', -1, 64)))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(AppendNumber(nil, f)), "%g", f)
		}
	}
}
