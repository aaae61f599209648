package harness

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP otelcol_processor_audit_records_dropped Records dropped.
# TYPE otelcol_processor_audit_records_dropped counter
otelcol_processor_audit_records_dropped{reason="unsupported_region",signal="traces"} 2
otelcol_processor_audit_records_dropped{reason="unmatched",signal="traces"} 1 1700000000000
otelcol_processor_audit_records_dropped{reason="unsupported_region",signal="logs"} 3
odd_labels{a="x\"y\\z",b="line\nbreak"} 1.5e+00
otelcol_process_uptime 12.5
`
	m, err := ParseMetrics(strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, m, 5)

	assert.Equal(t, 6.0, m.Sum("otelcol_processor_audit_records_dropped", nil))
	assert.Equal(t, 3.0, m.Sum("otelcol_processor_audit_records_dropped", map[string]string{"signal": "traces"}))
	assert.Equal(t, 5.0, m.Sum("otelcol_processor_audit_records_dropped", map[string]string{"reason": "unsupported_region"}))
	assert.Equal(t, 0.0, m.Sum("otelcol_processor_audit_records_dropped", map[string]string{"reason": "missing_region"}))
	assert.Equal(t, 12.5, m.Sum("otelcol_process_uptime", nil))
	assert.Equal(t, map[string]string{"a": `x"y\z`, "b": "line\nbreak"}, m[3].Labels)
	assert.Equal(t, `odd_labels{a="x\"y\\z",b="line\nbreak"} 1.5`, m[3].String())
}

func TestParseMetricsRejectsMalformedLines(t *testing.T) {
	for _, line := range []string{
		"no_value",
		`unterminated{a="x} 1`,
		`not_a_number{a="x"} one`,
	} {
		_, err := ParseMetrics(strings.NewReader(line + "\n"))
		assert.ErrorContains(t, err, "line 1", line)
	}
}
