package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestWaitMetrics: WaitMetrics returns the first scrape done accepts, and
// when the context ends first, the last scrape with an error.
func TestWaitMetrics(t *testing.T) {
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "otelcol_exporter_sent_spans{exporter=\"otlp_http\"} %d\n", scrapes.Add(1))
	}))
	defer srv.Close()
	sent := func(m Metrics) float64 { return m.Sum("otelcol_exporter_sent_spans", nil) }

	m, err := WaitMetrics(t.Context(), srv.URL, func(m Metrics) bool { return sent(m) >= 3 })
	require.NoError(t, err)
	assert.Equal(t, 3.0, sent(m))

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	m, err = WaitMetrics(ctx, srv.URL, func(Metrics) bool { return false })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Greater(t, sent(m), 3.0, "the last scrape")

	srv.Close()
	ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	m, err = WaitMetrics(ctx, srv.URL, func(Metrics) bool { return true })
	assert.ErrorContains(t, err, "no scrape of "+srv.URL+" succeeded")
	assert.Nil(t, m)
}
