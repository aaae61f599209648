package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otel-audit/auditprocessor/internal/audit"
)

// Config is the configuration of the audit processor. Its keys are the ones
// the audit connector shares (internal/audit declares and checks them, so
// that both read a record by one configuration); see README.md for the
// reference with examples. The struct is embedded and squashed so that the
// keys sit at the top level of the processor's configuration.
type Config struct {
	audit.Config `mapstructure:",squash"`
}

// The types of the configuration's keys, declared in internal/audit (the
// processor and the connector share them). They are named here again because
// a module outside this one cannot import an internal package: these names
// are how a Go program builds a Config (a custom distribution's tests, say).
type (
	// ServiceConfig overrides the settings of one service.
	ServiceConfig = audit.ServiceConfig
	// RegionConfig configures how a record's region is found.
	RegionConfig = audit.RegionConfig
	// AttributesConfig names the attributes read from records.
	AttributesConfig = audit.AttributesConfig
	// FieldsConfig switches each audit field beyond action, outcome and region.
	FieldsConfig = audit.FieldsConfig
	// Policy is what happens to a record: keep or drop.
	Policy = audit.Policy
	// RegionsMode says how configured regions combine with a catalog's.
	RegionsMode = audit.RegionsMode
	// SpanKind is a span kind in lower case.
	SpanKind = audit.SpanKind
)

// The values of Policy and RegionsMode.
const (
	PolicyKeep     = audit.PolicyKeep
	PolicyDrop     = audit.PolicyDrop
	RegionsAdd     = audit.RegionsAdd
	RegionsReplace = audit.RegionsReplace
)

var (
	_ confmap.Validator   = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal rejects unknown keys with their path and the key a user probably
// meant, then decodes the configuration.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	return audit.Unmarshal(conf, cfg)
}

// Validate checks each value on its own; catalogs are loaded, and service
// names and region ids checked against them, when the processor is created.
func (cfg *Config) Validate() error { return cfg.Check() }

func createDefaultConfig() component.Config {
	return &Config{Config: audit.NewDefaultConfig()}
}
