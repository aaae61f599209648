package auditconnector

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// TestConfig: the connector takes the processor's keys (the same checks)
// and its event options, each checked with the key it came from.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  map[string]any
		err  string
	}{
		{"defaults", map[string]any{}, ""},
		{"processor keys and events", map[string]any{
			"services":  map[string]any{"backup-recovery": map[string]any{"regions": []any{"us-south"}}},
			"unmatched": "drop",
			"event":     map[string]any{"observer_name": "Observer", "target_id": []any{"app.crn"}, "save_service_copy": true},
		}, ""},
		{"a processor key's value", map[string]any{"unmatched": "kepp"}, `unmatched: must be keep or drop, got "kepp"`},
		{"a processor key's check", map[string]any{"span_kinds": []any{}}, "span_kinds is empty: no span would be audited"},
		{"empty observer", map[string]any{"event": map[string]any{"observer_name": " "}}, "event::observer_name is empty"},
		{"audit. target key", map[string]any{"event": map[string]any{"target_name": []any{"audit.name"}}}, `event::target_name[0]: "audit.name" is in the audit. namespace`},
		{"empty target key", map[string]any{"event": map[string]any{"target_id": []any{""}}}, "event::target_id[0] is empty"},
		{"resource attributes", map[string]any{"event": map[string]any{"resource_attributes": []any{"service.*", "app.team", "k8s.*"}}}, ""},
		{"resource attribute under a body field", map[string]any{"event": map[string]any{"resource_attributes": []any{"initiator.id"}}}, `event::resource_attributes[0]: "initiator.id" can collide with the body's initiator in a store that flattens the body`},
		{"resource prefix over a body field", map[string]any{"event": map[string]any{"resource_attributes": []any{"service.*", "target.*"}}}, `event::resource_attributes[1]: "target.*" can collide with the body's target in a store that flattens the body`},
		{"resource attribute that is a body field", map[string]any{"event": map[string]any{"resource_attributes": []any{"outcome"}}}, `event::resource_attributes[0]: "outcome" can collide with the body's outcome in a store that flattens the body`},
		{"resource attribute in the audit namespace", map[string]any{"event": map[string]any{"resource_attributes": []any{"audit.*"}}}, `event::resource_attributes[0]: "audit.*" is in the audit. namespace, which the audit components own`},
		{"every resource attribute", map[string]any{"event": map[string]any{"resource_attributes": []any{"*"}}}, `event::resource_attributes[0]: "*" is not a key or a prefix ending in .*`},
		{"integrity", map[string]any{"integrity": map[string]any{"private_key_file": "/keys/audit.pem", "checkpoint_interval": "5s", "checkpoint_events": 100}}, ""},
		{"integrity without key", map[string]any{"integrity": map[string]any{"checkpoint_events": 100}}, "integrity::private_key_file is empty: name the PEM file of the checkpoints' signing key"},
		{"negative checkpoint interval", map[string]any{"integrity": map[string]any{"private_key_file": "k", "checkpoint_interval": "-1s"}}, "integrity::checkpoint_interval is negative (-1s)"},
		{"negative checkpoint events", map[string]any{"integrity": map[string]any{"private_key_file": "k", "checkpoint_events": -1}}, "integrity::checkpoint_events is negative (-1)"},
		{"unknown integrity key", map[string]any{"integrity": map[string]any{"private_key": "k"}}, "integrity::private_key: unknown key"},
		{"ocsf format", map[string]any{"event": map[string]any{"format": "ocsf"}}, ""},
		{"provider format", map[string]any{"event": map[string]any{"format": "provider"}}, ""},
		{"unknown format", map[string]any{"event": map[string]any{"format": "cef"}}, `event::format: must be provider or ocsf, got "cef"`},
		{"unknown event key", map[string]any{"event": map[string]any{"observer_nane": "x"}}, "event::observer_nane: unknown key (did you mean observer_name?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			err := confmap.NewFromStringMap(tc.raw).Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, 1, strings.Count(err.Error(), tc.err), "once: %v", err)
		})
	}
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"event": map[string]any{"log_source_crn": "crn:x"}}).Unmarshal(cfg))
	assert.Equal(t, DefaultObserverName, cfg.Event.ObserverName, "a default kept beside a set key")
	assert.Equal(t, "crn:x", cfg.Event.LogSourceCRN)
	assert.Equal(t, []string{"enduser.id", "user.id"}, cfg.Attributes.Initiator, "the processor's defaults")
	assert.Nil(t, cfg.Integrity, "no chain unless configured")
	assert.Equal(t, FormatProvider, cfg.Event.Format, "the provider's body by default")

	cfg = createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"integrity": map[string]any{"private_key_file": "/keys/audit.pem", "checkpoint_interval": "5s"}}).Unmarshal(cfg))
	assert.Equal(t, &IntegrityConfig{PrivateKeyFile: "/keys/audit.pem", CheckpointInterval: 5 * time.Second}, cfg.Integrity)

	// A storage extension's ID, and one that does not parse, naming the key.
	cfg = createDefaultConfig().(*Config)
	require.NoError(t, cfg.Unmarshal(confmap.NewFromStringMap(map[string]any{"integrity": map[string]any{"private_key_file": "/k.pem", "storage": "file_storage/chain"}})))
	assert.Equal(t, component.MustNewIDWithName("file_storage", "chain"), *cfg.Integrity.Storage)
	cfg = createDefaultConfig().(*Config)
	err := cfg.Unmarshal(confmap.NewFromStringMap(map[string]any{"integrity": map[string]any{"private_key_file": "/k.pem", "storage": "file storage"}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "integrity::storage")
}

// TestReadmeIntegrity decodes the README example's commented integrity keys
// as a user who uncomments them would: they validate, with the defaults
// they name.
func TestReadmeIntegrity(t *testing.T) {
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var block []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "    # integrity:") || (len(block) > 0 && strings.HasPrefix(line, "    #   ")) {
			block = append(block, strings.Replace(line, "# ", "", 1))
		} else if len(block) > 0 {
			break
		}
	}
	require.Len(t, block, 5, "the commented integrity keys")
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(strings.Join(block, "\n")), &raw))
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	fileStorage := component.MustNewID("file_storage")
	assert.Equal(t, &IntegrityConfig{PrivateKeyFile: "/etc/otelcol/audit-key/key.pem", CheckpointInterval: DefaultCheckpointInterval, CheckpointEvents: DefaultCheckpointEvents, Storage: &fileStorage}, cfg.Integrity)
}
