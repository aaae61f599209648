package mtlsauthextension // import "github.com/otel-audit/auditprocessor/extension/mtlsauthextension"

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// errNoCertificate: the connection carries no verified client certificate.
var errNoCertificate = errors.New("no verified client certificate: the receiver's tls must set client_ca_file (which requires and verifies one)")

// identity names the sender of a verified client certificate: the value of
// the first source in from that the certificate has. A certificate with
// none of them, or several values of the first one it has, names nobody.
func identity(cert *x509.Certificate, from []Source) (string, Source, error) {
	for _, src := range from {
		var values []string
		switch src {
		case SourceURISAN:
			for _, u := range cert.URIs {
				values = append(values, u.String())
			}
		case SourceDNSSAN:
			values = cert.DNSNames
		case SourceSubjectCN:
			if cn := cert.Subject.CommonName; cn != "" {
				values = []string{cn}
			}
		}
		switch len(values) {
		case 0:
			continue
		case 1:
			return values[0], src, nil
		default:
			return "", src, fmt.Errorf("client certificate has %d values of %s (%s): the sender is ambiguous", len(values), src, strings.Join(values, ", "))
		}
	}
	names := make([]string, len(from))
	for i, s := range from {
		names[i] = string(s)
	}
	return "", "", fmt.Errorf("client certificate has no %s to name the sender", strings.Join(names, " nor "))
}

// leaf is the verified client certificate of a connection's verified
// chains (crypto/tls fills them only when it verified the certificate
// against the client CAs).
func leaf(verified [][]*x509.Certificate) (*x509.Certificate, error) {
	if len(verified) == 0 || len(verified[0]) == 0 {
		return nil, errNoCertificate
	}
	return verified[0][0], nil
}
