package ocsfcheck

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valid is an API Activity event that uses every kind of check: scalars,
// objects, an array of objects, enums with siblings, both profiles.
const valid = `{
 "activity_id": 4, "activity_name": "Delete",
 "category_uid": 6, "category_name": "Application Activity",
 "class_uid": 6003, "class_name": "API Activity",
 "type_uid": 600304, "type_name": "API Activity: Delete",
 "time": 1572817253946,
 "severity_id": 4, "severity": "High",
 "status_id": 2, "status": "Failure", "status_code": "403", "status_detail": "Forbidden",
 "message": "Speech to Text: Delete a custom language model -failure",
 "metadata": {"version": "1.8.0", "profiles": ["cloud", "trace"],
  "product": {"name": "otelcol", "vendor_name": "otel-audit", "version": "1.0.0"},
  "uid": "fd8f9a3b-2529-87f6-b2b8-3083d63d5bd8", "correlation_uid": "0102030405060708090a0b0c0d0e0f10",
  "reporter": {"uid": "spiffe://example.org/ns/stt/sa/api"}},
 "api": {"operation": "speech-to-text.custom-language-model.delete", "service": {"name": "speech-to-text"},
  "request": {"uid": "0101010101010101"}, "response": {"code": 403}},
 "actor": {"user": {"uid": "IBMid-120000QUJ0"}},
 "src_endpoint": {"ip": "169.62.30.22"},
 "http_request": {"http_method": "DELETE", "url": {"path": "/v1/customizations/{customization_id}"}, "user_agent": "curl/8.0"},
 "http_response": {"code": 403},
 "cloud": {"provider": "ibm_cloud", "region": "eu-de"},
 "resources": [{"type": "speech-to-text/custom-language-model", "uid": "crn:v1:x", "name": "models"}],
 "trace": {"uid": "0102030405060708090a0b0c0d0e0f10"},
 "unmapped": {"dataEvent": false}
}`

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestFacts(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "1.8.0", s.Tag)
	assert.Equal(t, "api_activity", s.Class.Name)
	assert.Equal(t, 6003, s.Class.UID)
	assert.Equal(t, 6, s.Class.CategoryUID)
	assert.Equal(t, "required", s.Class.Attributes["actor"].Requirement, "the class makes actor required")
	assert.Equal(t, "cloud", s.Class.Attributes["cloud"].Profile)
	assert.Equal(t, "Delete", s.Class.Attributes["activity_id"].Enum["4"])
	assert.Equal(t, "long_t", s.Types["timestamp_t"])
}

func TestValid(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	require.NoError(t, s.CheckJSON([]byte(valid)))
	require.NoError(t, s.Check(decode(t, valid)), "float64 numbers, as encoding/json gives them")
	// 99 (Other) with a name of the source's own
	m := decode(t, valid)
	m["activity_id"], m["activity_name"], m["type_uid"], m["type_name"] = 99, "download", 600399, "API Activity: Other"
	require.NoError(t, s.Check(m))
}

// TestMutations: each change of the valid event fails the check, with a
// message naming the attribute.
func TestMutations(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
		err    string
	}{
		{"a required attribute dropped", func(m map[string]any) { delete(m, "time") }, "time: is required and missing"},
		{"a required object dropped", func(m map[string]any) { delete(m, "src_endpoint") }, "src_endpoint: is required and missing"},
		{"a nested required attribute dropped", func(m map[string]any) { delete(m["api"].(map[string]any), "operation") }, "api.operation: is required and missing"},
		{"a profile's required attribute dropped", func(m map[string]any) { delete(m["cloud"].(map[string]any), "provider") }, "cloud.provider: is required and missing"},
		{"a wrong enum id", func(m map[string]any) { m["activity_id"], m["type_uid"] = 7, 600307 }, "activity_id: is 7, not an id the schema lists"},
		{"a wrong class", func(m map[string]any) { m["class_uid"], m["type_uid"] = 6002, 600204 }, "class_uid: is 6002, not an id the schema lists"},
		{"a wrong type_uid", func(m map[string]any) { m["type_uid"] = 600302 }, "type_uid: is 600302, not class_uid * 100 + activity_id (600304)"},
		{"a wrong string enum", func(m map[string]any) { m["http_request"].(map[string]any)["http_method"] = "PURGE" }, "http_request.http_method: is PURGE, not an id the schema lists"},
		{"a sibling that is not the caption", func(m map[string]any) { m["severity"] = "Critical" }, `severity: is Critical, not "High", the caption of severity_id 4`},
		{"Other without its name", func(m map[string]any) {
			m["activity_id"], m["type_uid"] = 99, 600399
			delete(m, "activity_name")
		}, "activity_name: is required beside activity_id 99 (Other)"},
		{"time in seconds as text", func(m map[string]any) { m["time"] = "1572817253" }, "time: is string 1572817253, not timestamp_t"},
		{"time not whole", func(m map[string]any) { m["time"] = 1.5 }, "time: is float64 1.5, not timestamp_t"},
		{"status_code as a number", func(m map[string]any) { m["status_code"] = 403 }, "status_code: is int 403, not string_t"},
		{"an integer beyond 32 bits", func(m map[string]any) { m["http_response"].(map[string]any)["code"] = int64(1) << 40 }, "http_response.code: is int64 1099511627776, not integer_t"},
		{"an object as a string", func(m map[string]any) { m["actor"] = "bob" }, "actor: is string, not the object actor"},
		{"an array as an object", func(m map[string]any) { m["resources"] = map[string]any{"type": "x"} }, "resources: is map[string]interface {}, not an array"},
		{"an attribute the class does not define", func(m map[string]any) { m["correlationId"] = "x" }, "correlationId: is not an attribute of class api_activity"},
		{"an attribute an object does not define", func(m map[string]any) { m["actor"].(map[string]any)["user"].(map[string]any)["id"] = "x" }, "actor.user.id: is not an attribute of its object"},
		{"in an array element", func(m map[string]any) { m["resources"].([]any)[0].(map[string]any)["typeURI"] = "x" }, "resources[0].typeURI: is not an attribute of its object"},
		{"a profile not listed", func(m map[string]any) {
			m["metadata"].(map[string]any)["profiles"] = []any{"cloud"}
		}, "trace: belongs to profile trace, which metadata.profiles does not list"},
		{"another version", func(m map[string]any) { m["metadata"].(map[string]any)["version"] = "1.7.0" }, "metadata.version: is 1.7.0, the facts are of 1.8.0"},
		{"an object the facts do not hold", func(m map[string]any) { m["dst_endpoint"] = map[string]any{"ip": "10.0.0.1"} }, ""},
		{"an unknown object", func(m map[string]any) { m["enrichments"] = []any{map[string]any{}} }, "enrichments[0]: is object enrichment, of which the facts hold nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := decode(t, valid)
			tc.mutate(m)
			err := s.Check(m)
			if tc.err == "" {
				assert.NoError(t, err, "network_endpoint is in the facts")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

func TestCheckJSON(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	assert.ErrorContains(t, s.CheckJSON([]byte(`[1]`)), "not a JSON object")
	assert.ErrorContains(t, s.CheckJSON([]byte(valid+valid)), "more than one JSON value")
	assert.ErrorContains(t, s.CheckJSON([]byte(`{"time": 1.0e3}`)), "activity_id: is required and missing")
}
