//go:generate sh ../../internal/tools/generate.sh extension/mtlsauthextension

// Package mtlsauthextension is a server authenticator that names the sender
// of a request after its verified TLS client certificate: a URI SAN (a
// SPIFFE ID), else a DNS SAN, else the subject CN, as configured. It puts
// the name in client.Info.Auth ("subject"), where the audit processor and
// connector read a batch's sender (services.NAME.senders). Over OTLP/gRPC
// it is the receiver's authenticator (auth); the collector's HTTP server
// gives an authenticator no TLS state, so over OTLP/HTTP it runs as the
// receiver's middleware instead (see README.md).
package mtlsauthextension // import "github.com/otel-audit/auditprocessor/extension/mtlsauthextension"
