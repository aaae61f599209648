package httppath

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromTarget(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/v1/customizations", "/v1/customizations", true},
		{"/v1/customizations?x=1", "/v1/customizations", true},
		{"/v1/customizations#frag", "/v1/customizations", true},
		{"/v1/a?b=/c#d", "/v1/a", true},
		{"/", "/", true},
		{"http://example.test/v1/x?y", "/v1/x", true},
		{"https://example.test:8443/v1/x", "/v1/x", true},
		{"https://example.test", "/", true},
		{"https://example.test?q=1", "/", true},
		{"*", "", false},
		{"", "", false},
		{"v1/x", "", false},
		{"://nohost/x", "", false},
		{"https://", "", false},
		{"a:/v1/x?q", "/v1/x", true},       // Go's server routes this to /v1/x
		{"svc+h.2-x:/v1/x", "/v1/x", true}, // scheme characters
		{"http:///v1/x", "/v1/x", true},    // empty authority
		{"a:b/v1/x", "", false},            // opaque: no path
		{"a:A:/v1/x", "", false},           // opaque
		{"1a:/v1/x", "", false},            // a scheme starts with a letter
		{"a b:/v1/x", "", false},           // nor holds a space
		{"A:0/v2/data-protect", "", false}, // opaque
	} {
		got, ok := FromTarget(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/v1/customizations", "/v1/customizations", true},
		{"/v1/customizations/", "/v1/customizations/", true},
		{"/", "/", true},
		{"//v1//customizations", "/v1/customizations", true},
		{"//v1/customizations/", "/v1/customizations/", true}, // cleaned, the trailing slash kept (ServeMux: 404, not POST /v1/customizations)
		{"/v1/x/../customizations/", "/v1/customizations/", true},
		{"/v1/%63ustomizations/", "/v1/customizations/", true},
		{"//", "/", true},
		{"/v1/./customizations", "/v1/customizations", true},
		{"/v1/x/../customizations", "/v1/customizations", true},
		{"/v1/customizations/.", "/v1/customizations", true},
		{"/v1/customizations/x/..", "/v1/customizations", true},
		{"/../../v1/customizations", "/v1/customizations", true},
		{"/..", "/", true},
		{"/v1/%63ustomizations", "/v1/customizations", true},
		{"/v1/customizations/a%2Fb/words", "/v1/customizations/a%2Fb/words", true},
		{"/v1/customizations/a%2fb/words", "/v1/customizations/a%2Fb/words", true},
		{"/v1/customizations/%2E%2E/words", "/v1/customizations/../words", true}, // escaped dots are not dot segments
		{"/v1/a%20b", "/v1/a b", true},
		{"/v1/a%252F", "/v1/a%2F", true},
		{"/v1/a%zz", "", false},
		{"/v1/a%2", "", false},
		{"/v1/\xff\xfe", "/v1/\xff\xfe", true},
		{"v1/customizations", "", false},
		{"", "", false},
	} {
		got, ok := Canonical(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestCanonicalDoesNotAllocateForCleanPaths(t *testing.T) {
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		Canonical("/v2/data-protect/protection-groups/7/runs/")
		FromTarget("/v1/customizations/abc/words?x=1")
	}))
}

// BenchmarkCanonical: paths as the processor sees them when a record has no
// route: most need no change, some have dots in a segment.
func BenchmarkCanonical(b *testing.B) {
	paths := []string{
		"/v1/customizations/4f7c1a2e-9b3d-4c8e-a1f0-6d2b9e8c7a51/words",
		"/v2/data-protect/agents/upgrade-tasks/actions",
		"/v1/recognitions/8812",
		"/v1/customizations/4f7c1a2e-9b3d-4c8e-a1f0-6d2b9e8c7a51/audio/meeting.wav",
		"/v2/data-protect/protection-groups/7731:1:42",
		"/healthz",
		"/v1/models/en-US_BroadbandModel",
	}
	n := 0
	for i := 0; b.Loop(); i++ {
		p, _ := Canonical(paths[i%len(paths)])
		n += len(p)
	}
	if n == 0 {
		b.Fatal("no path")
	}
}

// BenchmarkFromTarget: request targets as old-style instrumentations report
// them, most with a query.
func BenchmarkFromTarget(b *testing.B) {
	targets := []string{
		"/v1/customizations/4f7c1a2e-9b3d-4c8e-a1f0-6d2b9e8c7a51/words?customization_weight=0.3",
		"/v2/data-protect/agents/upgrade-tasks/actions",
		"/v1/recognitions/8812?inactivity_timeout=30&model=en-US_BroadbandModel",
		"/v2/data-protect/protection-groups/7731:1:42#runs",
	}
	n := 0
	for i := 0; b.Loop(); i++ {
		p, _ := FromTarget(targets[i%len(targets)])
		n += len(p)
	}
	if n == 0 {
		b.Fatal("no path")
	}
}

// TestCutQueryFirstOfEither: the path ends at the first "?" or "#",
// whichever comes first.
func TestCutQueryFirstOfEither(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/a#b?c":  "/v1/a",
		"/v1/a?b#c":  "/v1/a",
		"/v1/a?#":    "/v1/a",
		"/v1/a#?":    "/v1/a",
		"/v1/a/b/c/": "/v1/a/b/c/",
	} {
		got, ok := FromTarget(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
}
