package mtlsauthextension // import "github.com/otel-audit/auditprocessor/extension/mtlsauthextension"

import (
	"errors"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/component"
)

// Source is where in a client certificate the identity is read.
type Source string

// The identity sources.
const (
	// SourceURISAN is the certificate's URI subject alternative name (a
	// SPIFFE ID such as spiffe://example.org/ns/a/sa/b).
	SourceURISAN Source = "uri_san"
	// SourceDNSSAN is its DNS subject alternative name.
	SourceDNSSAN Source = "dns_san"
	// SourceSubjectCN is its subject's common name.
	SourceSubjectCN Source = "subject_cn"
)

var sources = []Source{SourceURISAN, SourceDNSSAN, SourceSubjectCN}

// UnmarshalText rejects an unknown identity source.
func (s *Source) UnmarshalText(text []byte) error {
	if i := slices.Index(sources, Source(text)); i >= 0 {
		*s = sources[i]
		return nil
	}
	return fmt.Errorf("unknown identity source %q: must be uri_san, dns_san or subject_cn", string(text))
}

// Config is the configuration of the mtlsauth extension.
type Config struct {
	// IdentityFrom lists where a client certificate's identity is read,
	// tried in order: the first source the certificate has names the
	// sender. Default: [uri_san, dns_san, subject_cn]. A certificate with
	// several values of the first source it has (two URI SANs) is refused:
	// its identity would be ambiguous. It may not be empty.
	IdentityFrom []Source `mapstructure:"identity_from"`
}

var _ component.Config = (*Config)(nil)

// Validate rejects an empty or repeated identity_from.
func (cfg *Config) Validate() error {
	if len(cfg.IdentityFrom) == 0 {
		return errors.New("identity_from is empty: list at least one of uri_san, dns_san, subject_cn")
	}
	for i, s := range cfg.IdentityFrom {
		if slices.Index(cfg.IdentityFrom, s) < i {
			return fmt.Errorf("identity_from[%d]: %q is listed twice", i, s)
		}
	}
	return nil
}

func createDefaultConfig() component.Config {
	return &Config{IdentityFrom: slices.Clone(sources)}
}
