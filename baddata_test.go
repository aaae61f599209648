package auditprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// result is the stated outcome of one odd record.
type result struct {
	action, outcome, region string // tagged with these ("" region: none)
	unchanged               bool   // passed through exactly as it came (forged audit.* aside)
	dropped                 bool
	matched, unmatched      int64
	malformed, refused      int64
}

func taggedAs(action, outcome, region string) result {
	return result{action: action, outcome: outcome, region: region, matched: 1}
}

var (
	passes         = result{unchanged: true}
	passMalformed  = result{unchanged: true, malformed: 1}
	passUnmatched  = result{unchanged: true, unmatched: 1}
	passRefused    = result{unchanged: true, refused: 1}
	createEU       = taggedAs("speech-to-text.custom-language-model.create", "success", "eu-de")
	mib            = strings.Repeat("a", 1<<20)
	post           = "POST"
	customizations = "/v1/customizations"
)

func withMalformed(r result) result { r.malformed = 1; return r }

var eu = map[string]any{"cloud.region": "eu-de"}

// badDataCase is one odd record and what must become of it.
type badDataCase struct {
	name     string
	resource map[string]any
	attrs    map[string]any
	spanName string // spans only
	want     result
	logs     *result // for log records, when it differs (they have no span name)
}

// badDataCases are the odd records of TestBadData (and of the agreement test).
var badDataCases = []badDataCase{
	{"int method", eu, map[string]any{"http.request.method": int64(1), "url.path": customizations}, "", passMalformed, nil},
	{"bool path", eu, map[string]any{"http.request.method": post, "url.path": true}, "", passMalformed, nil},
	{"map route", eu, map[string]any{"http.request.method": post, "http.route": map[string]any{"a": "b"}, "url.path": customizations}, "", passMalformed, nil},
	{"bytes path", eu, map[string]any{"http.request.method": post, "url.path": []byte(customizations)}, "", passMalformed, nil},
	{"slice method", eu, map[string]any{"http.request.method": []any{"POST"}, "url.path": customizations}, "", passMalformed, nil},
	{"double path", eu, map[string]any{"http.request.method": post, "url.path": 1.5}, "", passMalformed, nil},
	{"empty method", eu, map[string]any{"http.request.method": "", "url.path": customizations}, "", passMalformed, nil},
	{"empty path", eu, map[string]any{"http.request.method": post, "url.path": ""}, "", passes, nil},
	{"empty route, good path", eu, map[string]any{"http.request.method": post, "http.route": "", "url.path": customizations, "http.response.status_code": int64(200)}, "", createEU, nil},
	{"missing method", eu, map[string]any{"url.path": customizations}, "", passes, nil},
	{"missing path and route", eu, map[string]any{"http.request.method": post}, "", passes, nil},
	{"_OTHER with original", eu, map[string]any{"http.request.method": "_OTHER", "http.request.method_original": "POST", "url.path": customizations, "http.response.status_code": int64(201)}, "", createEU, nil},
	{"_OTHER with a lower-case original", eu, map[string]any{"http.request.method": "_OTHER", "http.request.method_original": "post", "url.path": customizations, "http.response.status_code": int64(201)}, "", passUnmatched, nil},
	{"_OTHER without original", eu, map[string]any{"http.request.method": "_OTHER", "url.path": customizations}, "", passMalformed, nil},
	{"_OTHER unknown method", eu, map[string]any{"http.request.method": "_OTHER", "http.request.method_original": "PURGE", "url.path": customizations}, "", passUnmatched, nil},
	// methods are case-sensitive, as ServeMux reads them
	{"lower-case method", eu, map[string]any{"http.request.method": "delete", "url.path": "/v1/user_data", "http.response.status_code": int64(204)}, "", passUnmatched, nil},
	{"mixed-case method", map[string]any{"cloud.region": "us-south"}, map[string]any{"http.request.method": "POSt", "url.path": "/v2/data-protect/agents/upgrade-tasks"}, "", passUnmatched, nil},
	{"method with a long s", eu, map[string]any{"http.request.method": "poſt", "url.path": customizations}, "", passUnmatched, nil},
	// the router refused: no handler ran
	{"405", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(405)}, "", passRefused, nil},
	{"405 with a route", eu, map[string]any{"http.request.method": "HEAD", "http.route": "/v1/customizations", "http.target": customizations, "http.status_code": int64(405)}, "", passRefused, nil},
	{"405 of an unknown path", eu, map[string]any{"http.request.method": post, "url.path": "/nowhere", "http.response.status_code": "405"}, "", passRefused, nil},
	{"404 with an empty route", eu, map[string]any{"http.request.method": "GET", "http.route": "", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(404)}, "", passRefused, nil},
	{"404 with a route", eu, map[string]any{"http.request.method": "GET", "http.route": "/v1/customizations/:id", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(404)}, "",
		taggedAs("speech-to-text.custom-language-model.read", "failure", "eu-de"), nil},
	{"404 without a route", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(404)}, "",
		taggedAs("speech-to-text.custom-language-model.read", "failure", "eu-de"), nil},
	// HEAD is the GET action only where a GET handler shows it ran
	{"HEAD with a route", eu, map[string]any{"http.request.method": "HEAD", "http.route": "/v1/customizations/{customization_id}", "http.response.status_code": int64(200)}, "",
		taggedAs("speech-to-text.custom-language-model.read", "success", "eu-de"), nil},
	{"HEAD with a route in the span name", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(500)}, "HEAD /v1/customizations/{customization_id}",
		taggedAs("speech-to-text.custom-language-model.read", "failure", "eu-de"), &passUnmatched},
	{"HEAD 200 without a route", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(200)}, "",
		taggedAs("speech-to-text.custom-language-model.read", "success", "eu-de"), nil},
	{"HEAD 304 without a route", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(304)}, "",
		taggedAs("speech-to-text.custom-language-model.read", "success", "eu-de"), nil},
	{"HEAD 404 without a route", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(404)}, "", passUnmatched, nil},
	{"HEAD without a status", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1"}, "", passUnmatched, nil},
	{"HEAD with an unusable status", eu, map[string]any{"http.request.method": "HEAD", "url.path": "/v1/customizations/c1", "http.response.status_code": "abc"}, "", passUnmatched, nil},
	{"HEAD 200 with an empty route", eu, map[string]any{"http.request.method": "HEAD", "http.route": "", "url.path": "/v1/customizations/c1", "http.response.status_code": int64(200)}, "", passUnmatched, nil},
	{"status as string", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": "201"}, "", createEU, nil},
	{"status not a number", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": "abc"}, "", withMalformed(taggedAs("speech-to-text.custom-language-model.create", "unknown", "eu-de")), nil},
	{"negative status", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(-1)}, "", withMalformed(taggedAs("speech-to-text.custom-language-model.create", "unknown", "eu-de")), nil},
	{"status 999", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(999)}, "", withMalformed(taggedAs("speech-to-text.custom-language-model.create", "unknown", "eu-de")), nil},
	{"status as double", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.status_code": 404.0}, "", taggedAs("speech-to-text.custom-language-model.create", "failure", "eu-de"), nil},
	{"status as bool", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.status_code": true}, "", withMalformed(taggedAs("speech-to-text.custom-language-model.create", "unknown", "eu-de")), nil},
	{"1 MiB id", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/customizations/" + mib, "http.response.status_code": int64(200)}, "", taggedAs("speech-to-text.custom-language-model.read", "success", "eu-de"), nil},
	{"1 MiB path", eu, map[string]any{"http.request.method": "GET", "url.path": "/" + mib}, "", passUnmatched, nil},
	{"1 MiB of segments", eu, map[string]any{"http.request.method": "PUT", "url.path": "/v2/data-protect/protection-groups" + strings.Repeat("/a", 1<<19), "http.response.status_code": int64(200)}, "", result{dropped: true, matched: 1}, nil},
	{"1 MiB method", eu, map[string]any{"http.request.method": mib, "url.path": customizations}, "", passUnmatched, nil},
	{"invalid UTF-8 id", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/recognitions/\xff\xfe", "http.response.status_code": int64(200)}, "", taggedAs("speech-to-text.async-recognition-job.read", "success", "eu-de"), nil},
	{"invalid UTF-8 method", eu, map[string]any{"http.request.method": "G\xffT", "url.path": customizations}, "", passUnmatched, nil},
	{"region as int on resource", map[string]any{"cloud.region": int64(7)}, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(201)}, "", taggedAs("speech-to-text.custom-language-model.create", "success", ""), nil},
	{"region as int on record", nil, map[string]any{"cloud.region": int64(7), "http.request.method": post, "url.path": customizations, "http.response.status_code": int64(201)}, "", taggedAs("speech-to-text.custom-language-model.create", "success", ""), nil},
	{"empty resource", nil, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(201)}, "", taggedAs("speech-to-text.custom-language-model.create", "success", ""), nil},
	{"no attributes at all", eu, map[string]any{}, "", passes, nil},
	{"invalid percent-encoding", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/a%zz"}, "", passMalformed, nil},
	{"path without leading slash", eu, map[string]any{"http.request.method": post, "url.path": "v1/customizations"}, "", passMalformed, nil},
	{"asterisk target", eu, map[string]any{"http.method": "OPTIONS", "http.target": "*"}, "", passMalformed, nil},
	{"query in target", eu, map[string]any{"http.method": post, "http.target": "/v1/customizations?a=/v1/x", "http.status_code": int64(201)}, "", createEU, nil},
	{"fragment in target", eu, map[string]any{"http.method": post, "http.target": "/v1/customizations#x", "http.status_code": int64(201)}, "", createEU, nil},
	{"absolute URL in target", eu, map[string]any{"http.method": post, "http.target": "http://evil.test/v1/customizations?x", "http.status_code": int64(201)}, "", createEU, nil},
	{"URL without path", eu, map[string]any{"http.method": "GET", "http.url": "https://stt.test"}, "", passUnmatched, nil},
	{"dot-dot segments", eu, map[string]any{"http.request.method": post, "url.path": "/v1/healthz/../customizations", "http.response.status_code": int64(201)}, "", createEU, nil},
	{"double slashes", eu, map[string]any{"http.request.method": post, "url.path": "//v1//customizations", "http.response.status_code": int64(201)}, "", createEU, nil},
	{"percent-encoded literal", eu, map[string]any{"http.request.method": post, "url.path": "/v1/%63ustomizations", "http.response.status_code": int64(201)}, "", createEU, nil},
	{"%2F inside an id", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/customizations/a%2Fb/words", "http.response.status_code": int64(200)}, "", taggedAs("speech-to-text.custom-language-model-word-list.read", "success", "eu-de"), nil},
	{"trailing slash", eu, map[string]any{"http.request.method": "GET", "url.path": "/v1/customizations/"}, "", passUnmatched, nil},
	{"double slashes and a trailing slash", eu, map[string]any{"http.request.method": post, "url.path": "//v1//customizations/"}, "", passUnmatched, nil},
	{"int route", eu, map[string]any{"http.request.method": post, "http.route": int64(3), "url.path": customizations}, "", passMalformed, nil},
	{"lower-case method in span name", eu, map[string]any{"http.request.method": post, "http.response.status_code": int64(201)}, "post /v1/customizations", createEU, &passes},
	{"span name route unknown, path known", eu, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(201)}, "POST /v1/{rest...}", createEU, nil},
	{"span name is just the method", eu, map[string]any{"http.request.method": "GET"}, "GET", passes, nil},
	{"forged int audit attribute", eu, map[string]any{"audit.action": int64(1), "http.request.method": "GET", "url.path": "/healthz"}, "", passUnmatched, nil},
	{"zone in upper case", map[string]any{"cloud.region": "EU-DE-2"}, map[string]any{"http.request.method": post, "url.path": customizations, "http.response.status_code": int64(201)}, "", createEU, nil},
	{"region with a trailing dash", map[string]any{"cloud.region": "eu-de-"}, map[string]any{"http.request.method": post, "url.path": customizations}, "", result{dropped: true, matched: 1}, nil},
	{"unsupported region", map[string]any{"cloud.region": "us-south"}, map[string]any{"http.request.method": post, "url.path": customizations}, "", result{dropped: true, matched: 1}, nil},
}

// TestBadData feeds odd records, each on its own, through spans and log
// records, and checks the stated outcome and the counters.
func TestBadData(t *testing.T) {
	for _, tc := range badDataCases {
		for _, signal := range audittest.Signals {
			t.Run(signal+"/"+tc.name, func(t *testing.T) {
				in := audittest.NewOne(t, signal, tc.resource, tc.attrs, tc.spanName)
				before := in.Attrs().AsRaw()
				r := audittest.Start(t, NewFactory(), signal, createDefaultConfig())
				o, kept := r.Run(t, in)
				w := tc.want
				if signal == "logs" && tc.logs != nil {
					w = *tc.logs
				}
				if w.dropped {
					assert.False(t, kept, "should be dropped")
				} else if assert.True(t, kept, "should be kept") {
					got := o.Attrs().AsRaw()
					if w.unchanged {
						delete(before, "audit.action")
						assert.Equal(t, before, got)
					} else {
						assert.Equal(t, w.action, got["audit.action"])
						assert.Equal(t, w.outcome, got["audit.outcome"])
						region, hasRegion := got["audit.region"]
						if w.region == "" {
							assert.False(t, hasRegion)
						} else {
							assert.Equal(t, w.region, region)
						}
					}
				}
				checkCount(t, r, "matched", signal, w.matched)
				checkCount(t, r, "unmatched", signal, w.unmatched)
				checkCount(t, r, "malformed", signal, w.malformed)
				checkCount(t, r, "refused", signal, w.refused)
			})
		}
	}
}

// checkCount checks one records_ counter of the running processor.
func checkCount(t *testing.T, r *audittest.Running, name, signal string, want int64) {
	t.Helper()
	assert.Equal(t, want, r.Counter(t, "records_"+name, signal), name)
}
