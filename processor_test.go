package auditprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/metadatatest"
)

// want is the stated outcome of one input record, by its span id.
type want struct {
	action, outcome, region string
	// the further audit fields of a tagged record (reason code 0: none)
	severity, target, message, initiator string
	code                                 int64
	dropped                              bool
	untouched                            bool // passed through exactly as it came in
}

func tagged(action, outcome, region string) want {
	return want{action: action, outcome: outcome, region: region}
}

// with states the further fields: severity, reason code, target type, message.
func (w want) with(severity string, code int64, target, message string) want {
	w.severity, w.code, w.target, w.message = severity, code, target, message
	return w
}

func (w want) by(initiator string) want { w.initiator = initiator; return w }

var (
	dropped   = want{dropped: true}
	untouched = want{untouched: true}
)

// The records of testdata/traces_input.yaml, in order, and what must become
// of each under the default configuration.
var traceWants = map[string]want{
	// route from the span name (otelhttp)
	"eee19b7ec3c1b101": tagged("speech-to-text.custom-language-model-word-list.create", "success", "eu-de").
		with("normal", 201, "speech-to-text/custom-language-model-word-list", "Speech to Text: Create a word list for a custom language model"),
	// no route: url.path; the initiator from enduser.id
	"eee19b7ec3c1b102": tagged("speech-to-text.async-recognition-job.read", "success", "eu-de").
		with("normal", 200, "speech-to-text/async-recognition-job", "Speech to Text: Read an asynchronous recognition job").by("alice@example.com"),
	// 500, list vs item: a failure other than 401/403/503/507 is a warning
	"eee19b7ec3c1b103": tagged("speech-to-text.async-recognition-job-list.read", "failure", "eu-de").
		with("warning", 500, "speech-to-text/async-recognition-job-list", "Speech to Text: Read an asynchronous recognition job list -failure"),
	// 202
	"eee19b7ec3c1b104": tagged("speech-to-text.async-recognition-job.create", "pending", "eu-de").
		with("normal", 202, "speech-to-text/async-recognition-job", "Speech to Text: Create an asynchronous recognition job"),
	"eee19b7ec3c1b105": untouched, // /healthz: unmatched, kept
	// forged audit.* replaced; a successful delete is critical
	"eee19b7ec3c1b106": tagged("speech-to-text.gdpr-user-data.delete", "success", "eu-de").
		with("critical", 204, "speech-to-text/gdpr-user-data", "Speech to Text: Delete information for a user"),
	"eee19b7ec3c1b107": {},        // INTERNAL: only the forged attribute goes
	"eee19b7ec3c1b108": untouched, // CLIENT
	"eee19b7ec3c1b109": dropped,   // us-south, Express route, old keys
	"eee19b7ec3c1b10a": untouched, // /v1/models: unmatched
	"eee19b7ec3c1b10b": dropped,   // backup-recovery sends from no region
	"eee19b7ec3c1b10c": dropped,   // idem
	// record region, url.full, no status: no reason code
	"eee19b7ec3c1b10d": tagged("speech-to-text.custom-language-model-list.read", "unknown", "eu-de").
		with("normal", 0, "speech-to-text/custom-language-model-list", "Speech to Text: Read a list of custom language models"),
	// Flask route, no region: kept
	"eee19b7ec3c1b10e": tagged("speech-to-text.custom-language-model-word.create", "success", "").
		with("normal", 200, "speech-to-text/custom-language-model-word", "Speech to Text: Create a word for a custom language model"),
	"eee19b7ec3c1b10f": untouched, // _OTHER PURGE answered 405: refused
}

var logWants = map[string]want{
	// a successful delete is critical; the initiator from an int user.id
	"fee19b7ec3c1b110": tagged("speech-to-text.custom-language-model.delete", "success", "eu-de").
		with("critical", 204, "speech-to-text/custom-language-model", "Speech to Text: Delete a custom language model").by("1042"),
	"fee19b7ec3c1b111": untouched, // not HTTP
	// status "400"
	"fee19b7ec3c1b112": tagged("speech-to-text.async-recognition-notification-url.create", "failure", "eu-de").
		with("warning", 400, "speech-to-text/async-recognition-notification-url", "Speech to Text: Create an asynchronous recognition notification URL -failure"),
	"fee19b7ec3c1b113": {},        // forged audit.action on a plain log: removed
	"fee19b7ec3c1b114": untouched, // a method, no path or route
	// http.target, 404
	"fee19b7ec3c1b115": tagged("speech-to-text.custom-acoustic-model-audio-list.read", "failure", "eu-de").
		with("warning", 404, "speech-to-text/custom-acoustic-model-audio-list", "Speech to Text: Read an audio list of a custom acoustic model -failure"),
	"fee19b7ec3c1b116": dropped, // us-south
	"fee19b7ec3c1b117": dropped, // backup-recovery
}

// checkRecord compares one record before and after against its stated outcome.
func checkRecord(t *testing.T, id string, w want, in pcommon.Map, out pcommon.Map, found bool) {
	t.Helper()
	if w.dropped {
		assert.False(t, found, "%s should be dropped", id)
		return
	}
	if !assert.True(t, found, "%s should be kept", id) {
		return
	}
	if w.untouched {
		assert.Equal(t, in.AsRaw(), out.AsRaw(), "%s should pass through untouched", id)
		return
	}
	// every attribute that is not audit.* is as it came in
	assert.Equal(t, audittest.AuditOnly(in, true), audittest.AuditOnly(out, true), id)
	audit := audittest.AuditOnly(out, false)
	expect := map[string]any{}
	if w.action != "" {
		expect["audit.action"] = w.action
		expect["audit.outcome"] = w.outcome
		expect["audit.severity"] = w.severity
		expect["audit.target.type"] = w.target
		expect["audit.message"] = w.message
	}
	if w.code != 0 {
		expect["audit.reason.code"] = w.code
	}
	if w.initiator != "" {
		expect["audit.initiator.id"] = w.initiator
	}
	if w.region != "" {
		expect["audit.region"] = w.region
	}
	assert.Equal(t, expect, audit, id)
}

// checkRecords compares each record of in and out, by span id, with its
// stated outcome; in holds exactly the records wants states.
func checkRecords(t *testing.T, wants map[string]want, in, out any) {
	t.Helper()
	before, after := audittest.AttrsByID(in), audittest.AttrsByID(out)
	require.Len(t, before, len(wants))
	for id, w := range wants {
		got, found := after[id]
		checkRecord(t, id, w, before[id], got, found)
	}
}

// TestGolden runs each signal's golden input through the processor with
// the default configuration: the output is the golden file's, each record
// is as its want says, and the counters say what happened.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		signal                      string
		wants                       map[string]want
		matched, unmatched, dropped int64
		refused, removed            int64
		shape                       func(t *testing.T, out any)
	}{
		{"traces", traceWants, 10, 2, 3, 1, 3, func(t *testing.T, out any) {
			// the us-south resource keeps its unmatched span, the backup
			// resource is emptied and removed, the empty scope that came in stays
			rss := out.(ptrace.Traces).ResourceSpans()
			assert.Equal(t, 3, rss.Len())
			assert.Equal(t, 2, rss.At(0).ScopeSpans().Len())
			assert.Equal(t, 0, rss.At(0).ScopeSpans().At(1).Spans().Len())
		}},
		{"logs", logWants, 5, 0, 2, 0, 1, func(t *testing.T, out any) {
			assert.Equal(t, 1, out.(plog.Logs).ResourceLogs().Len())
		}},
	} {
		t.Run(tc.signal, func(t *testing.T) {
			in := audittest.ReadBatch(t, tc.signal, filepath.Join("testdata", tc.signal+"_input.yaml"))
			r := audittest.Start(t, NewFactory(), tc.signal, createDefaultConfig())
			out := r.Consume(t, audittest.ReadBatch(t, tc.signal, filepath.Join("testdata", tc.signal+"_input.yaml")))
			audittest.CheckGolden(t, filepath.Join("testdata", tc.signal+"_expected.yaml"), out)
			checkRecords(t, tc.wants, in, out)
			tc.shape(t, out)
			checkCount(t, r, "matched", tc.signal, tc.matched)
			checkCount(t, r, "unmatched", tc.signal, tc.unmatched)
			checkCount(t, r, "dropped", tc.signal, tc.dropped)
			checkCount(t, r, "refused", tc.signal, tc.refused)
			assert.Equal(t, tc.removed, r.Counter(t, "attributes_removed", tc.signal), "attributes removed")
			metadatatest.AssertEqualProcessorAuditRecordsDropped(t, r.Tel, audittest.Drops(tc.signal, tc.dropped, "unsupported_region"), metricdatatest.IgnoreTimestamp())
		})
	}
}
