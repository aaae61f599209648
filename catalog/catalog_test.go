package catalog

import (
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func builtins(t testing.TB) []*Catalog {
	t.Helper()
	var cs []*Catalog
	for _, name := range BuiltinNames() {
		c, err := Builtin(name)
		require.NoError(t, err)
		cs = append(cs, c)
	}
	return cs
}

// routed yields every event of cats that has a route, with the route
// parsed as written.
func routed(t testing.TB, cats []*Catalog) iter.Seq2[*Event, pattern] {
	return func(yield func(*Event, pattern) bool) {
		for _, c := range cats {
			for i := range c.Events {
				ev := &c.Events[i]
				if !ev.HasRoute() {
					continue
				}
				p, err := parseRoute(ev.Route, ev.RouteIsRegex)
				require.NoError(t, err)
				if !yield(ev, p) {
					return
				}
			}
		}
	}
}

func TestBuiltinNames(t *testing.T) {
	assert.Equal(t, []string{"backup-recovery", "speech-to-text"}, BuiltinNames())
	_, err := Builtin("nope")
	assert.ErrorIs(t, err, ErrUnknownBuiltin)
	assert.EqualError(t, err, `unknown built-in catalog "nope" (built in: backup-recovery, speech-to-text)`)
}

type row struct{ action, method, route string }

func events(c *Catalog) (api []row, other []string) {
	for _, e := range c.Events {
		if e.HasRoute() {
			api = append(api, row{e.Action, e.Method, e.Route})
		} else {
			other = append(other, e.Action)
		}
	}
	return api, other
}

func sendingRegions(c *Catalog) (yes, no []string) {
	for _, r := range c.Regions {
		if r.SendsEvents {
			yes = append(yes, r.ID)
		} else {
			no = append(no, r.ID)
		}
	}
	return yes, no
}

var allRegions = []string{"us-south", "us-east", "ca-tor", "br-sao", "jp-tok", "au-syd", "jp-osa", "in-che", "eu-de", "eu-gb", "eu-es"}

// TestBuiltinSpeechToText counts the rows and checks one row of each table
// of the Speech to Text page by hand.
func TestBuiltinSpeechToText(t *testing.T) {
	c, err := Builtin("speech-to-text")
	require.NoError(t, err)
	assert.Equal(t, "speech-to-text", c.Service)
	assert.Equal(t, "Speech to Text", c.DisplayName)
	api, other := events(c)
	assert.Len(t, api, 38)
	assert.Empty(t, other)
	yes, no := sendingRegions(c)
	assert.Equal(t, []string{"eu-de"}, yes)
	assert.Len(t, no, 10)
	assert.ElementsMatch(t, allRegions, append(yes, no...))
	for _, want := range []row{
		{"speech-to-text.custom-language-model-grammar.create", "POST", "/v1/customizations/{customization_id}/grammars/{grammar_name}"},
		{"speech-to-text.custom-language-model-corpus-list.read", "GET", "/v1/customizations/{customization_id}/corpora"},
		{"speech-to-text.custom-language-model-word.delete", "DELETE", "/v1/customizations/{customization_id}/words/{word_name}"},
		{"speech-to-text.custom-language-model.train", "POST", "/v1/customizations/{customization_id}/train"},
		{"speech-to-text.custom-language-model.reset", "POST", "/v1/customizations/{customization_id}/reset"},
		{"speech-to-text.custom-language-model.upgrade", "POST", "/v1/customizations/{customization_id}/upgrade_model"},
		{"speech-to-text.custom-acoustic-model-audio.create", "POST", "/v1/acoustic_customizations/{customization_id}/audio/{audio_name}"},
		{"speech-to-text.custom-acoustic-model-audio-list.read", "GET", "/v1/acoustic_customizations/{customization_id}/audio"},
		{"speech-to-text.custom-acoustic-model.delete", "DELETE", "/v1/acoustic_customizations/{customization_id}"},
		{"speech-to-text.custom-acoustic-model.train", "POST", "/v1/acoustic_customizations/{customization_id}/train"},
		{"speech-to-text.custom-acoustic-model.reset", "POST", "/v1/acoustic_customizations/{customization_id}/reset"},
		{"speech-to-text.custom-acoustic-model.upgrade", "POST", "/v1/acoustic_customizations/{customization_id}/upgrade_model"},
		{"speech-to-text.async-recognition-notification-url.create", "POST", "/v1/register_callback"},
		{"speech-to-text.async-recognition-job-list.read", "GET", "/v1/recognitions"},
		{"speech-to-text.async-recognition-notification-url.delete", "POST", "/v1/unregister_callback"},
		{"speech-to-text.gdpr-user-data.delete", "DELETE", "/v1/user_data"},
	} {
		assert.Contains(t, api, want)
	}
}

// TestBuiltinBackupRecovery counts the rows and checks one row of each table
// of the Backup and Recovery page by hand.
func TestBuiltinBackupRecovery(t *testing.T) {
	c, err := Builtin("backup-recovery")
	require.NoError(t, err)
	api, other := events(c)
	assert.Len(t, api, 28)
	assert.Len(t, other, 7)
	yes, no := sendingRegions(c)
	assert.Empty(t, yes)
	assert.Equal(t, allRegions, no)
	assert.Contains(t, other, "backup-recovery.instance.schedule_reclaim")
	assert.Contains(t, other, "backup-recovery.key.delete")
	for _, want := range []row{
		{"backup-recovery.agent-upgrade-task.update", "POST", "/v2/data-protect/agents/upgrade-tasks/actions"},
		{"backup-recovery.protection-group-run-action.update", "POST", `/v2/data-protect/protection-groups/.+/runs/actions[/]?$`},
		{"backup-recovery.recover-task.restore", "POST", "/v2/data-protect/recoveries"},
		{"backup-recovery.recover-task.restore", "POST", "/v2/data-protect/recoveries/download-files-folders"},
		{"backup-recovery.recover-task.download", "GET", `/v2/data-protect/recoveries/.+/download-files[/]?$`},
		{"backup-recovery.recover-task.download", "GET", `/v2/data-protect/snapshots/.+/download-file[/]?$`},
		{"backup-recovery.protection-source.deregister", "DELETE", `/v2/data-protect/sources/registrations/\d+[/]?$`},
		{"backup-recovery.data-source-connector.delete", "DELETE", "/v2/data-source-connectors/.+"},
	} {
		assert.Contains(t, api, want)
	}
	for _, e := range c.Events {
		if !e.HasRoute() {
			assert.Contains(t, []string{KindPlatform, KindServiceCredentials}, e.Kind, e.Action)
		}
	}
}

// seedPage reads a docs page from ../shared/seeds, beside the checkout.
func seedPage(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "seeds", name))
	if os.IsNotExist(err) && os.Getenv("CI") == "" {
		t.Skipf("%s is not beside the checkout", name)
	}
	require.NoError(t, err)
	return string(data)
}

// TestBuiltinsHoldEveryPageRow reads every action row of both pages and
// checks that the catalog holds it, with the same method and route.
func TestBuiltinsHoldEveryPageRow(t *testing.T) {
	stt := seedPage(t, "speech-to-text-at-events.md")
	c, err := Builtin("speech-to-text")
	require.NoError(t, err)
	api, _ := events(c)
	var page []row
	for _, m := range regexp.MustCompile("(?m)^\\| `(speech-to-text\\.[^`]+)`.*\\(`(\\w+) ([^`]+)`\\)").FindAllStringSubmatch(stt, -1) {
		page = append(page, row{m[1], m[2], m[3]})
	}
	assert.Len(t, page, 38)
	assert.ElementsMatch(t, page, api)

	br := seedPage(t, "backup-recovery-at-events.md")
	c, err = Builtin("backup-recovery")
	require.NoError(t, err)
	api, other := events(c)
	page = nil
	for _, m := range regexp.MustCompile("(?m)^\\| `(backup-recovery\\.[^`]+)` *\\| `(\\w+) ([^`]+)`").FindAllStringSubmatch(br, -1) {
		page = append(page, row{m[1], m[2], m[3]})
	}
	assert.Len(t, page, 28)
	assert.ElementsMatch(t, page, api)
	var pageOther []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(backup-recovery\\.[^`]+)` *\\| [A-Z]").FindAllStringSubmatch(br, -1) {
		pageOther = append(pageOther, m[1])
	}
	assert.ElementsMatch(t, pageOther, other)
	// the region tables: every cell of both pages
	for page, cat := range map[string]string{stt: "speech-to-text", br: "backup-recovery"} {
		c, err := Builtin(cat)
		require.NoError(t, err)
		lines := strings.Split(page, "\n")
		for i := 0; i+2 < len(lines); i++ {
			ids := regexp.MustCompile(`\(\x60?([a-z]+-[a-z]+)\x60?\)`).FindAllStringSubmatch(lines[i], -1)
			if len(ids) == 0 || !strings.HasPrefix(lines[i], "|") {
				continue
			}
			cells := regexp.MustCompile(`\[(Yes|No)\]`).FindAllStringSubmatch(lines[i+2], -1)
			require.GreaterOrEqual(t, len(cells), len(ids), lines[i])
			for j, id := range ids {
				k := c.RegionIndex(id[1])
				require.GreaterOrEqual(t, k, 0, "%s: region %s", cat, id[1])
				assert.Equal(t, cells[j][1] == "Yes", c.Regions[k].SendsEvents, "%s: region %s", cat, id[1])
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"empty_action.yaml", "catalog testdata/empty_action.yaml: events[1] (line 8): action is empty"},
		{"unknown_method.yaml", `catalog testdata/unknown_method.yaml: events[0] (line 5, demo.thing.fetch): unknown method "FETCH" (want one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT)`},
		{"invalid_regex.yaml", "catalog testdata/invalid_regex.yaml: events[0] (line 5, demo.thing.read): route \"/v1/things/(.+\": invalid regex: error parsing regexp: missing closing ): `/v1/things/(.+`"},
		{"invalid_region.yaml", `catalog testdata/invalid_region.yaml: regions[1]: invalid region id "EU DE" (want lower case like "eu-de")`},
		{"unknown_field.yaml", "catalog testdata/unknown_field.yaml: yaml: unmarshal errors:\n  line 7: field path not found in type catalog.fileEvent"},
		{"method_without_route.yaml", "catalog testdata/method_without_route.yaml: events[0] (line 5, demo.thing.read): method GET has no route"},
		{"route_and_regex.yaml", "catalog testdata/route_and_regex.yaml: events[0] (line 5): set route or route_regex, not both"},
		{"bad_template.yaml", "catalog testdata/bad_template.yaml: events[0] (line 5, demo.thing.read): route \"/v1/things/{id}x\": bad wildcard in segment \"{id}x\": a wildcard is a whole segment"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			_, err = Parse(path, data)
			assert.EqualError(t, err, tc.want)
		})
	}
}

// TestParseWithoutRegions: a catalog may leave its regions out, or list
// none; both load as "regions not stated" (no Regions), not as a catalog
// whose regions send nothing.
func TestParseWithoutRegions(t *testing.T) {
	for name, doc := range map[string]string{
		"no key":     "service: demo\nevents:\n  - {action: demo.thing.read, method: GET, route: /v1/things}\n",
		"empty list": "service: demo\nregions: []\nevents:\n  - {action: demo.thing.read, method: GET, route: /v1/things}\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse(name, []byte(doc))
			require.NoError(t, err)
			assert.Empty(t, c.Regions)
			m, err := Compile(c)
			require.NoError(t, err)
			assert.Equal(t, "demo.thing.read", m.MatchPath("GET", "/v1/things").Action)
		})
	}
}

func TestActionParts(t *testing.T) {
	for _, tc := range []struct {
		action, service, object, verb string
		parts                         int
	}{
		{"speech-to-text.custom-language-model.create", "speech-to-text", "custom-language-model", "create", 3},
		{"svc.a.b.delete", "svc", "a.b", "delete", 4},
		{"svc.read", "svc", "", "read", 2},
		{"read", "", "", "read", 1},
	} {
		service, object, verb, parts := ActionParts(tc.action)
		assert.Equal(t, [4]any{tc.service, tc.object, tc.verb, tc.parts}, [4]any{service, object, verb, parts}, tc.action)
	}
}

func parseInline(t *testing.T, name, body string) *Catalog {
	t.Helper()
	c, err := Parse(name, []byte("service: "+name+"\nregions:\n  - {id: eu-de, sends_events: true}\nevents:\n"+body))
	require.NoError(t, err)
	return c
}
