// Package audit is the one reading of an HTTP record that every component of
// this module shares. The audit processor, the audit connector and the
// auditcatalog command all go through it, so they cannot disagree. It owns
// six jobs, each in files named after it:
//
//   - configuration: the shared keys and their defaults (config.go), their
//     decoding, with unknown keys and enums rejected once, at decode, in one
//     spelling of key paths (config_decode.go), and the rules decoding
//     cannot check (config_check.go);
//   - the auditor: the type, and loading the configured catalogs into it
//     (auditor.go), catalog files read within limits (catalogfile*.go);
//   - reading a record: its method, route, path, status and who sent it,
//     resolved against the catalogs (record.go: the types and attribute
//     helpers; auditor_read.go: the Auditor's reading);
//   - deciding and tagging: outcome, region, drop, the audit.* attributes
//     (decision.go: the Decision; auditor_decide.go: the Auditor's
//     Decide and Tag; resource.go: what a resource decides for its records);
//   - scoping: catalogs that apply to some services only (scope.go), and the
//     bounded cache of what each service.name selects (namecache.go);
//   - live state: the catalogs in force, reloaded when a file changes
//     (live.go), one per configuration, shared by every component configured
//     alike (live_shared.go).
//
// Counting a batch's decisions is telemetry.go; the connector's mark on
// its events' context is context.go.
package audit // import "github.com/otel-audit/auditprocessor/internal/audit"

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/catalog"
)

// Config holds the keys the audit processor and the audit connector share.
// See README.md for the reference with examples. Each component's own Config
// embeds it (squashed), and calls Check from its Validate: Config itself
// has no Validate, so that confmap does not run the checks twice.
type Config struct {
	// BuiltinCatalogs names the built-in catalogs to load. Default: all of
	// them (backup-recovery, speech-to-text); an empty list loads none.
	BuiltinCatalogs []string `mapstructure:"builtin_catalogs"`
	// CatalogFiles lists catalog YAML files to load besides the built-in
	// ones. Default: none. They are read and compiled when the processor is
	// created; an error stops the collector.
	CatalogFiles []string `mapstructure:"catalog_files"`
	// Services overrides per-service settings, keyed by the catalog's
	// service name. Default: none.
	Services map[string]ServiceConfig `mapstructure:"services"`
	// SpanKinds lists the span kinds that are audited; spans of other kinds
	// pass through with only forged audit.* attributes removed.
	// Default: [server]. It may not be empty.
	SpanKinds []SpanKind `mapstructure:"span_kinds"`
	// Region says where a record's region comes from and what happens when
	// it has none.
	Region RegionConfig `mapstructure:"region"`
	// Unmatched is what happens to HTTP records that match no catalog event:
	// keep (default) passes them through, drop removes them (for audit-only
	// pipelines).
	Unmatched Policy `mapstructure:"unmatched"`
	// Attributes names the record attributes the processor reads, each as a
	// list of keys tried in order. Default: the current and the older HTTP
	// semantic-convention keys.
	Attributes AttributesConfig `mapstructure:"attributes"`
	// Fields switches the audit fields set beside audit.action, audit.outcome
	// and audit.region on matched records. Default: all on.
	Fields FieldsConfig `mapstructure:"fields"`
	// Reload says how changed catalog_files are picked up while the
	// collector runs. The built-in catalogs are part of the binary.
	Reload ReloadConfig `mapstructure:"reload"`
	// Limits bound what a catalog file or a sender can make the components
	// read and hold.
	Limits LimitsConfig `mapstructure:"limits"`
	// Sender says where a batch's authenticated sender is read from, for
	// the services' senders and the events' reporter (sender.go).
	Sender SenderConfig `mapstructure:"sender"`
}

// SenderConfig reads the authenticated sender of a batch: the identity a
// receiver's server authenticator put in the batch's client.Info.Auth.
type SenderConfig struct {
	// AuthAttribute is the client.Info.Auth attribute that holds the
	// sender's identity: subject (the default) for the mtlsauth and oidc
	// authenticators, username for basicauth. A value that is not a
	// non-empty string is no identity. It may not be empty.
	AuthAttribute string `mapstructure:"auth_attribute"`
	// OnUnauthorized is what happens to a record that a service's senders
	// do not allow: keep (default) passes it through untagged, with no
	// event; drop removes it.
	OnUnauthorized Policy `mapstructure:"on_unauthorized"`
}

// DefaultAuthAttribute is sender.auth_attribute's default.
const DefaultAuthAttribute = "subject"

// LimitsConfig bounds the memory and time that catalog files and senders'
// data can take.
type LimitsConfig struct {
	// MaxCatalogFileSize is the largest catalog file read, in bytes, at
	// start and on reload. Default: 16777216 (16 MiB). It must be positive.
	MaxCatalogFileSize int64 `mapstructure:"max_catalog_file_size"`
	// CatalogReadTimeout bounds how long reading one catalog file may take.
	// Default: 10s. It must be positive.
	CatalogReadTimeout time.Duration `mapstructure:"catalog_read_timeout"`
	// ServiceNameCacheSize bounds, in bytes, the cache of the scoped catalogs
	// each service.name selects (names, their selections and the cache's
	// own overhead). When it is full the oldest half is evicted. Default:
	// 1048576 (1 MiB); 0 turns the cache off.
	ServiceNameCacheSize int64 `mapstructure:"service_name_cache_size"`
}

// The defaults of limits.
const (
	DefaultMaxCatalogFileSize   = 16 << 20
	DefaultCatalogReadTimeout   = 10 * time.Second
	DefaultServiceNameCacheSize = 1 << 20
)

// ReloadConfig configures live catalogs.
type ReloadConfig struct {
	// Enabled watches catalog_files (their directories, to see an editor's
	// rename and a Kubernetes ConfigMap's ..data swap) and swaps a changed
	// catalog in once it loads. Default: true.
	Enabled bool `mapstructure:"enabled"`
	// PollInterval also checks the files this often, for filesystems that
	// send no change notifications. Default: 10s; 0 turns polling off.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// FieldsConfig switches each audit field beyond action, outcome and region.
type FieldsConfig struct {
	// Severity sets audit.severity: normal, warning or critical.
	Severity bool `mapstructure:"severity"`
	// ReasonCode sets audit.reason.code: the HTTP status code.
	ReasonCode bool `mapstructure:"reason_code"`
	// TargetType sets audit.target.type: "service/object" from the action.
	TargetType bool `mapstructure:"target_type"`
	// Message sets audit.message: "<display name>: <description>", with
	// " -failure" appended on failure.
	Message bool `mapstructure:"message"`
	// InitiatorID sets audit.initiator.id from attributes.initiator.
	InitiatorID bool `mapstructure:"initiator_id"`
}

// ServiceConfig overrides the settings of one service.
type ServiceConfig struct {
	// Regions lists region ids of the service's catalog where the service
	// sends audit events. Default: none (the catalog's table stands).
	Regions []string `mapstructure:"regions"`
	// RegionsMode says whether Regions adds to the regions of the catalog
	// that send events (add, the default) or replaces them (replace; with an
	// empty Regions, no region sends events).
	RegionsMode RegionsMode `mapstructure:"regions_mode"`
	// CaseInsensitive matches the service's routes in any ASCII letter case,
	// for servers that route that way (Express does by default). Default:
	// false, paths are compared case-sensitively as ServeMux does.
	CaseInsensitive bool `mapstructure:"case_insensitive"`
	// ServiceNames lists glob patterns (path.Match syntax) matched against
	// the resource's service.name (attributes.service_name): the catalog
	// applies only to records of the services they match. Default: none, any
	// service. An empty list is refused.
	ServiceNames []string `mapstructure:"service_names"`
	// Hosts lists glob patterns matched against the server's host
	// (attributes.server_address, else the host of attributes.url, else
	// attributes.host_header; the port cut): the catalog applies only to
	// records of those hosts. Default: none, any host. With both, a record
	// must match both. An empty list is refused.
	Hosts []string `mapstructure:"hosts"`
	// Senders lists glob patterns (path.Match syntax: * does not cross a
	// /) matched against the batch's authenticated sender (sender): a
	// record of the service's catalog is tagged, and gives an event, only
	// when its sender matches one of them. Default: none, any sender or
	// none at all, as before senders existed. An empty list is refused.
	Senders []string `mapstructure:"senders"`
}

// Scoped tells whether the service's catalog applies to some records only.
func (s ServiceConfig) Scoped() bool { return s.ServiceNames != nil || s.Hosts != nil }

// RegionConfig configures how a record's region is found.
type RegionConfig struct {
	// Default is the region of records that carry none (no cloud.region on
	// the resource or the record). Default: "" (none).
	Default string `mapstructure:"default"`
	// OnMissing is what happens to matched records with no region and no
	// default: keep (default) tags them without audit.region; drop removes them.
	OnMissing Policy `mapstructure:"on_missing"`
}

// AttributesConfig names the attributes read from records. Each field is a
// list of keys tried in order; the first present wins.
type AttributesConfig struct {
	// Method holds the HTTP method. Default: [http.request.method, http.method].
	Method []string `mapstructure:"method"`
	// MethodOriginal holds the method when Method is "_OTHER".
	// Default: [http.request.method_original].
	MethodOriginal []string `mapstructure:"method_original"`
	// Route holds the server's route template. Default: [http.route].
	Route []string `mapstructure:"route"`
	// Path holds the request path without query. Default: [url.path].
	Path []string `mapstructure:"path"`
	// Target holds the request target, path and query. Default: [http.target].
	Target []string `mapstructure:"target"`
	// URL holds the full request URL. Default: [url.full, http.url].
	URL []string `mapstructure:"url"`
	// StatusCode holds the response status code, an int or a numeric string.
	// Default: [http.response.status_code, http.status_code].
	StatusCode []string `mapstructure:"status_code"`
	// Region holds the region, on the resource first, then on the record.
	// Default: [cloud.region].
	Region []string `mapstructure:"region"`
	// Initiator holds who made the request, for audit.initiator.id.
	// Default: [enduser.id, user.id].
	Initiator []string `mapstructure:"initiator"`
	// ClientAddress holds the caller's address, for the connector's
	// initiator.host.address; of a forwarded-for list the first hop is used.
	// Default: [client.address, http.request.header.x-forwarded-for,
	// http.client_ip, net.sock.peer.addr, net.peer.ip].
	ClientAddress []string `mapstructure:"client_address"`
	// UserAgent holds the caller's user agent, for the connector's
	// initiator.host.agent. Default: [user_agent.original, http.user_agent].
	UserAgent []string `mapstructure:"user_agent"`
	// ServiceName holds the service's name, on the resource, for the
	// services' service_names. Default: [service.name].
	ServiceName []string `mapstructure:"service_name"`
	// ServerAddress holds the server's host, for the services' hosts; then
	// the host of URL, then HostHeader. Default: [server.address].
	ServerAddress []string `mapstructure:"server_address"`
	// HostHeader holds the request's Host header. Default: [http.host].
	HostHeader []string `mapstructure:"host_header"`
}

// Policy is what happens to a record: keep or drop.
type Policy string

// The policies.
const (
	PolicyKeep Policy = "keep"
	PolicyDrop Policy = "drop"
)

// UnmarshalText rejects anything but keep and drop.
func (p *Policy) UnmarshalText(text []byte) error { return OneOf(p, text, PolicyKeep, PolicyDrop) }

// RegionsMode says how configured regions combine with a catalog's.
type RegionsMode string

// The regions modes.
const (
	RegionsAdd     RegionsMode = "add"
	RegionsReplace RegionsMode = "replace"
)

// UnmarshalText rejects anything but add and replace.
func (m *RegionsMode) UnmarshalText(text []byte) error {
	return OneOf(m, text, RegionsAdd, RegionsReplace)
}

// OneOf sets v to text when text is one of values (the key's whole
// vocabulary, named in the error otherwise).
func OneOf[T ~string](v *T, text []byte, values ...T) error {
	if i := slices.Index(values, T(text)); i >= 0 {
		*v = values[i]
		return nil
	}
	names := make([]string, len(values))
	for i, value := range values {
		names[i] = string(value)
	}
	return fmt.Errorf("must be %s or %s, got %q", strings.Join(names[:len(names)-1], ", "), names[len(names)-1], string(text))
}

// SpanKind is a span kind in lower case: server, client, internal, producer, consumer.
type SpanKind string

// SpanKinds maps each configurable span kind to pdata's.
var SpanKinds = map[SpanKind]ptrace.SpanKind{
	"server":   ptrace.SpanKindServer,
	"client":   ptrace.SpanKindClient,
	"internal": ptrace.SpanKindInternal,
	"producer": ptrace.SpanKindProducer,
	"consumer": ptrace.SpanKindConsumer,
}

// UnmarshalText rejects unknown span kinds.
func (k *SpanKind) UnmarshalText(text []byte) error {
	if _, ok := SpanKinds[SpanKind(text)]; !ok {
		return fmt.Errorf("must be one of client, consumer, internal, producer, server, got %q", string(text))
	}
	*k = SpanKind(text)
	return nil
}

// NewDefaultConfig returns the defaults of every shared key.
func NewDefaultConfig() Config {
	return Config{
		BuiltinCatalogs: catalog.BuiltinNames(),
		SpanKinds:       []SpanKind{"server"},
		Region:          RegionConfig{OnMissing: PolicyKeep},
		Unmatched:       PolicyKeep,
		Attributes: AttributesConfig{
			Method:         []string{"http.request.method", "http.method"},
			MethodOriginal: []string{"http.request.method_original"},
			Route:          []string{"http.route"},
			Path:           []string{"url.path"},
			Target:         []string{"http.target"},
			URL:            []string{"url.full", "http.url"},
			StatusCode:     []string{"http.response.status_code", "http.status_code"},
			Region:         []string{"cloud.region"},
			Initiator:      []string{"enduser.id", "user.id"},
			ClientAddress:  []string{"client.address", "http.request.header.x-forwarded-for", "http.client_ip", "net.sock.peer.addr", "net.peer.ip"},
			UserAgent:      []string{"user_agent.original", "http.user_agent"},
			ServiceName:    []string{"service.name"},
			ServerAddress:  []string{"server.address"},
			HostHeader:     []string{"http.host"},
		},
		Sender: SenderConfig{AuthAttribute: DefaultAuthAttribute, OnUnauthorized: PolicyKeep},
		Fields: FieldsConfig{Severity: true, ReasonCode: true, TargetType: true, Message: true, InitiatorID: true},
		Reload: ReloadConfig{Enabled: true, PollInterval: 10 * time.Second},
		Limits: LimitsConfig{
			MaxCatalogFileSize:   DefaultMaxCatalogFileSize,
			CatalogReadTimeout:   DefaultCatalogReadTimeout,
			ServiceNameCacheSize: DefaultServiceNameCacheSize,
		},
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
