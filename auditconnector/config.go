package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otel-audit/auditprocessor/internal/audit"
)

// Config is the configuration of the audit connector: the audit
// processor's keys (the same keys, defaults and checks: internal/audit
// declares them once), squashed to the top level, plus the event options.
type Config struct {
	audit.Config `mapstructure:",squash"`
	// Event configures the event records. Default: see EventConfig.
	Event EventConfig `mapstructure:"event"`
	// Integrity puts the events into a hash chain closed by signed
	// checkpoints (README "Verifiable events"). Default: unset (no chain).
	Integrity *IntegrityConfig `mapstructure:"integrity"`
}

// IntegrityConfig configures the hash chain and its signed checkpoints.
type IntegrityConfig struct {
	// PrivateKeyFile is the PEM file of the key that signs the checkpoints:
	// Ed25519 or ECDSA P-256, PKCS #8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE
	// KEY"). Required. It is read at start (a missing, unreadable or
	// wrong-type key fails the start) and again at each checkpoint, so a
	// replaced file is picked up; an unusable replacement keeps the last key.
	PrivateKeyFile string `mapstructure:"private_key_file"`
	// CheckpointInterval is the longest time between a chained event and
	// the checkpoint that covers it. Default (and zero): 10s.
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"`
	// CheckpointEvents is the most events a checkpoint covers: one is made
	// as soon as that many are chained since the last. Default (and zero): 1000.
	CheckpointEvents int `mapstructure:"checkpoint_events"`
	// Storage names a storage extension (file_storage, file_storage/NAME)
	// that keeps the chain's state (its id, sequence number, head and last
	// checkpoint) across restarts: written before events leave the
	// connector, and once the pipeline accepted them. A restarted collector
	// then closes the chain it ends with a signed checkpoint that names the
	// new chain, and the new chain's checkpoints name the one it follows
	// (README "Restarts"). An extension that is not configured, or that is
	// not a storage extension, fails the start. Default: unset (each start
	// begins a chain that names none).
	Storage *component.ID `mapstructure:"storage"`
}

// The checkpoint defaults: at most 10 s or 1000 events unsigned.
const (
	DefaultCheckpointInterval = 10 * time.Second
	DefaultCheckpointEvents   = 1000
)

// EventConfig configures the fields of the event records that do not come
// from the catalog or the source record's HTTP attributes.
type EventConfig struct {
	// Format is the body's event model: provider (the provider's
	// CADF-based model) or ocsf (an OCSF API Activity event, ocsf.go).
	// Default: provider; zero ("") means provider.
	Format Format `mapstructure:"format"`
	// ObserverName is the body's observer.name. Default: ActivityTracker,
	// the provider's value. It may not be empty.
	ObserverName string `mapstructure:"observer_name"`
	// TargetID lists attribute keys, tried in order on the source record,
	// then on its resource, for the body's target.id (the resource acted on,
	// a CRN at the provider). Default: none; target.id is left out.
	TargetID []string `mapstructure:"target_id"`
	// TargetName lists attribute keys, tried like TargetID, for the body's
	// target.name (a readable name, no personal data). Default: none.
	TargetName []string `mapstructure:"target_name"`
	// LogSourceCRN is the body's logSourceCRN: the instance that emits the
	// events. Default: "" (left out).
	LogSourceCRN string `mapstructure:"log_source_crn"`
	// SaveServiceCopy is the body's saveServiceCopy. Default: unset (left out).
	SaveServiceCopy *bool `mapstructure:"save_service_copy"`
	// ResourceAttributes lists the source resource's attributes an event
	// keeps: keys, or prefixes ending in ".*" (resource.go). None may be, or
	// be under, a body field or in the audit namespace. Default:
	// DefaultResourceAttributes; an empty list keeps none.
	ResourceAttributes []string `mapstructure:"resource_attributes"`
}

// Format is an event body's model.
type Format string

// The event formats.
const (
	FormatProvider Format = "provider"
	FormatOCSF     Format = "ocsf"
)

// UnmarshalText rejects anything but provider and ocsf.
func (f *Format) UnmarshalText(text []byte) error {
	return audit.OneOf(f, text, FormatProvider, FormatOCSF)
}

// DefaultObserverName is the provider's observer.name.
const DefaultObserverName = "ActivityTracker"

var (
	_ confmap.Validator   = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal rejects unknown keys with their path and the key a user probably
// meant, then decodes the configuration.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	return audit.Unmarshal(conf, cfg)
}

// Validate runs the shared checks and checks the event options.
func (cfg *Config) Validate() error {
	errs := []error{cfg.Check()}
	if strings.TrimSpace(cfg.Event.ObserverName) == "" {
		errs = append(errs, errors.New("event::observer_name is empty"))
	}
	for _, l := range []struct {
		name string
		keys []string
	}{{"target_id", cfg.Event.TargetID}, {"target_name", cfg.Event.TargetName}} {
		for i, k := range l.keys {
			switch {
			case strings.TrimSpace(k) == "":
				errs = append(errs, fmt.Errorf("event::%s[%d] is empty", l.name, i))
			case audit.Owned(k):
				errs = append(errs, fmt.Errorf("event::%s[%d]: %q is in the audit. namespace, which the audit components own", l.name, i, k))
			}
		}
	}
	for i, e := range cfg.Event.ResourceAttributes {
		if msg := checkResourceAttribute(e); msg != "" {
			errs = append(errs, fmt.Errorf("event::resource_attributes[%d]: %q %s", i, e, msg))
		}
	}
	if in := cfg.Integrity; in != nil {
		if strings.TrimSpace(in.PrivateKeyFile) == "" {
			errs = append(errs, errors.New("integrity::private_key_file is empty: name the PEM file of the checkpoints' signing key"))
		}
		if in.CheckpointInterval < 0 {
			errs = append(errs, fmt.Errorf("integrity::checkpoint_interval is negative (%s)", in.CheckpointInterval))
		}
		if in.CheckpointEvents < 0 {
			errs = append(errs, fmt.Errorf("integrity::checkpoint_events is negative (%d)", in.CheckpointEvents))
		}
	}
	return errors.Join(errs...)
}

func createDefaultConfig() component.Config {
	return &Config{Config: audit.NewDefaultConfig(), Event: EventConfig{
		Format:             FormatProvider,
		ObserverName:       DefaultObserverName,
		ResourceAttributes: append([]string(nil), DefaultResourceAttributes...),
	}}
}
