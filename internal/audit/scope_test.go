package audit

import (
	"math/rand/v2"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestGlobOverlap(t *testing.T) {
	for _, tc := range []struct {
		p, q string
		want bool
	}{
		{"stt-api", "stt-api", true},
		{"stt-api", "tts-api", false},
		{"stt-*", "stt-api", true},
		{"stt-*", "tts-api", false},
		{"stt-*", "tts-*", false},
		{"stt-*", "*-api", true},    // stt-api
		{"*-eu", "*-us", false},     // suffixes differ
		{"a*b", "a*c", false},       // suffixes differ
		{"ab*", "a*", true},         // prefixes agree
		{"[st]tt-*", "stt-*", true}, // in doubt: a class is not literal
		{"\\*x", "*x", true},        // an escaped star is a literal: "*x" matches it
		{"\\*x", "ax", false},
		{"?", "ab", false}, // exact: a literal against a pattern
		{"*", "", true},
	} {
		assert.Equal(t, tc.want, globOverlap(tc.p, tc.q), "%q %q", tc.p, tc.q)
		assert.Equal(t, tc.want, globOverlap(tc.q, tc.p), "%q %q (swapped)", tc.q, tc.p)
	}
}

// TestGlobOverlapIsSound: whenever some string matches two random patterns,
// globOverlap says they overlap (it may say so when none does: in doubt).
func TestGlobOverlapIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	parts := []string{"a", "b", "-", "*", "?", "[ab]", "[^a]", "\\*", "*"}
	pattern := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	var strs []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		strs = append(strs, prefix)
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "b", "-", "*"} {
			gen(prefix+c, n-1)
		}
	}
	gen("", 5)
	checked, overlapping := 0, 0
	for range 3000 {
		p, q := pattern(), pattern()
		common := ""
		found := false
		for _, s := range strs {
			okP, _ := path.Match(p, s)
			okQ, _ := path.Match(q, s)
			if okP && okQ {
				common, found = s, true
				break
			}
		}
		checked++
		if found {
			overlapping++
			require.True(t, globOverlap(p, q), "%q and %q both match %q", p, q, common)
		}
	}
	t.Logf("%d pairs, %d with a common string", checked, overlapping)
	assert.Greater(t, overlapping, 300)
	assert.Less(t, overlapping, checked-300)
}

// scopedConfig loads speech-to-text (built in) and voices (a catalog with
// the same customization routes), each scoped by the given service_names.
func scopedConfig(stt, voices []string) Config {
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = []string{"speech-to-text"}
	cfg.CatalogFiles = []string{"../../testdata/catalogs/voices.yaml"}
	cfg.Services = map[string]ServiceConfig{
		"speech-to-text": {ServiceNames: stt},
		"voices":         {ServiceNames: voices},
	}
	return cfg
}

// decideFor decides one request of a service (and host) in eu-de.
func decideFor(t *testing.T, a *Auditor, service, host, method, urlPath string) Decision {
	t.Helper()
	res := pcommon.NewMap()
	res.PutStr("cloud.region", "eu-de")
	if service != "" {
		res.PutStr("service.name", service)
	}
	attrs := pcommon.NewMap()
	attrs.PutStr("http.request.method", method)
	attrs.PutStr("url.path", urlPath)
	if host != "" {
		attrs.PutStr("server.address", host)
	}
	r := a.NewResource(res)
	lr := plog.NewLogRecord()
	attrs.MoveTo(lr.Attributes())
	v := LogView(lr)
	return a.Decide(&v, &r)
}

func actionOf(d Decision) string {
	if d.Result != Matched {
		return ""
	}
	return d.Event.Action
}

func TestScopedCatalogs(t *testing.T) {
	cfg := scopedConfig([]string{"stt-*"}, []string{"voices-api", "tts-*"})
	a, err := Load(&cfg)
	require.NoError(t, err)
	for _, tc := range []struct {
		service, method, path, want string
		unselected                  bool
	}{
		{"stt-api", "POST", "/v1/customizations", "speech-to-text.custom-language-model.create", false},
		{"stt-api", "DELETE", "/v1/customizations/c1", "speech-to-text.custom-language-model.delete", false},
		{"voices-api", "POST", "/v1/customizations", "voices.custom-model.create", false},
		{"tts-eu", "DELETE", "/v1/customizations/c1", "voices.custom-model.delete", false},
		{"tts-eu", "GET", "/v1/recognitions", "", false}, // a speech-to-text route, not voices'
		{"orders", "POST", "/v1/customizations", "", true},
		{"", "POST", "/v1/customizations", "", true},
	} {
		d := decideFor(t, a, tc.service, "", tc.method, tc.path)
		assert.Equal(t, tc.want, actionOf(d), "%s %s %s", tc.service, tc.method, tc.path)
		assert.Equal(t, tc.unselected, d.Unselected, "%s unselected", tc.service)
	}
	var c Counts
	d := decideFor(t, a, "", "", "POST", "/v1/customizations")
	c.Add(&d)
	assert.Equal(t, int64(1), c.Unselected)

	// the same catalogs without selectors conflict
	cfg.Services = nil
	_, err = Load(&cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "duplicate route")
}

func TestScopedConflicts(t *testing.T) {
	cfg := scopedConfig([]string{"stt-*"}, []string{"*-api"})
	_, err := Load(&cfg)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`services::speech-to-text (builtin:speech-to-text, service_names ["stt-*"])`,
		`services::voices (../../testdata/catalogs/voices.yaml, service_names ["*-api"])`,
		"can select the same records: duplicate route: builtin:speech-to-text:",
		"../../testdata/catalogs/voices.yaml:9 (voices.custom-model.create POST /v1/customizations)",
		"e.g. POST /v1/customizations",
	} {
		assert.Contains(t, msg, want)
	}
	// a selector left out matches anything: it overlaps
	cfg = scopedConfig([]string{"stt-*"}, nil)
	cfg.Services["voices"] = ServiceConfig{Hosts: []string{"voices.example"}}
	_, err = Load(&cfg)
	assert.ErrorContains(t, err, "can select the same records")
	// hosts keep them apart when both name hosts
	cfg.Services["speech-to-text"] = ServiceConfig{Hosts: []string{"stt.example", "*.stt.example"}}
	_, err = Load(&cfg)
	assert.NoError(t, err)
}

// TestScopedBeforeUnscoped: a scoped catalog and an unscoped one may hold
// the same route; for a record the scoped one applies to, it wins; for any
// other, the unscoped one decides.
func TestScopedBeforeUnscoped(t *testing.T) {
	cfg := scopedConfig(nil, []string{"voices-*"})
	delete(cfg.Services, "speech-to-text") // unscoped
	a, err := Load(&cfg)
	require.NoError(t, err)
	assert.Equal(t, "voices.custom-model.create", actionOf(decideFor(t, a, "voices-api", "", "POST", "/v1/customizations")))
	assert.Equal(t, "speech-to-text.custom-language-model.create", actionOf(decideFor(t, a, "stt-api", "", "POST", "/v1/customizations")))
	// a route only the unscoped catalog has, for a record voices applies to
	assert.Equal(t, "speech-to-text.async-recognition-job-list.read", actionOf(decideFor(t, a, "voices-api", "", "GET", "/v1/recognitions")))
}

func TestScopedByHost(t *testing.T) {
	cfg := scopedConfig(nil, nil)
	cfg.Services = map[string]ServiceConfig{
		"speech-to-text": {Hosts: []string{"stt.*.example"}},
		"voices":         {Hosts: []string{"voices.example"}, ServiceNames: []string{"voices-*"}},
	}
	a, err := Load(&cfg)
	require.NoError(t, err)
	assert.Equal(t, "speech-to-text.custom-language-model.create", actionOf(decideFor(t, a, "any", "STT.eu.example", "POST", "/v1/customizations")))
	assert.Equal(t, "voices.custom-model.create", actionOf(decideFor(t, a, "voices-api", "voices.example", "POST", "/v1/customizations")))
	assert.Equal(t, "", actionOf(decideFor(t, a, "other", "voices.example", "POST", "/v1/customizations")), "both selectors must match")

	for _, tc := range []struct {
		attrs map[string]any
		want  string
	}{
		{map[string]any{"server.address": "Stt.EU.example", "url.full": "https://x.example/a"}, "stt.eu.example"},
		{map[string]any{"url.full": "https://stt.us.example:8443/v1/x"}, "stt.us.example"},
		{map[string]any{"http.url": "http://[::1]:80/v1"}, "::1"},
		{map[string]any{"http.host": "stt.eu.example:8080"}, "stt.eu.example"},
		{map[string]any{"http.host": "[::1]:8080"}, "::1"},
		{map[string]any{}, ""},
	} {
		m := pcommon.NewMap()
		require.NoError(t, m.FromRaw(tc.attrs))
		assert.Equal(t, tc.want, a.hostOf(m), "%v", tc.attrs)
	}
}

func TestSelectorChecks(t *testing.T) {
	for _, tc := range []struct {
		svc  ServiceConfig
		want string
	}{
		{ServiceConfig{ServiceNames: []string{}}, "services::voices::service_names is empty: list at least one pattern, or leave the key out to match any"},
		{ServiceConfig{Hosts: []string{}}, "services::voices::hosts is empty"},
		{ServiceConfig{ServiceNames: []string{"[a-"}}, `services::voices::service_names[0]: invalid pattern "[a-"`},
		{ServiceConfig{Hosts: []string{"ok", " "}}, "services::voices::hosts[1]: empty pattern"},
	} {
		cfg := scopedConfig(nil, nil)
		cfg.Services = map[string]ServiceConfig{"voices": tc.svc}
		assert.ErrorContains(t, cfg.Check(), tc.want)
	}
	cfg := scopedConfig(nil, nil)
	cfg.Services = map[string]ServiceConfig{"text-to-speech": {ServiceNames: []string{"tts-*"}}}
	_, err := Load(&cfg)
	assert.ErrorContains(t, err, `services::text-to-speech: no loaded catalog describes service "text-to-speech"`)
}
