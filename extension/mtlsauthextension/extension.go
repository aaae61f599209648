package mtlsauthextension // import "github.com/otel-audit/auditprocessor/extension/mtlsauthextension"

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// The client.Info.Auth attributes the extension sets.
const (
	// AttrSubject is the sender's identity (the audit components'
	// sender.auth_attribute default).
	AttrSubject = "subject"
	// AttrSource is the identity source it came from: uri_san, dns_san or
	// subject_cn.
	AttrSource = "source"
)

// errNotTLS: a gRPC connection without TLS.
var errNotTLS = errors.New("the connection is not TLS: the receiver's tls must set client_ca_file")

type mtlsAuth struct {
	component.StartFunc
	component.ShutdownFunc
	from []Source
}

var (
	_ extensionauth.Server           = (*mtlsAuth)(nil)
	_ extensionmiddleware.HTTPServer = (*mtlsAuth)(nil)
	_ extension.Extension            = (*mtlsAuth)(nil)
	_ client.AuthData                = authData{}
)

// Authenticate names the sender of a gRPC request after the verified
// client certificate of its connection (the peer's TLS state); the
// headers are not read. It refuses a request without one.
func (m *mtlsAuth) Authenticate(ctx context.Context, _ map[string][]string) (context.Context, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ctx, errNotTLS
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ctx, errNotTLS
	}
	return m.authenticate(ctx, info.State.VerifiedChains)
}

func (m *mtlsAuth) authenticate(ctx context.Context, verified [][]*x509.Certificate) (context.Context, error) {
	cert, err := leaf(verified)
	if err != nil {
		return ctx, err
	}
	id, src, err := identity(cert, m.from)
	if err != nil {
		return ctx, err
	}
	cl := client.FromContext(ctx)
	cl.Auth = authData{subject: id, source: src}
	return client.NewContext(ctx, cl), nil
}

// GetHTTPHandler makes the extension an HTTP server middleware: the
// collector's HTTP server hands a middleware the request, whose TLS state
// an authenticator never sees (README.md, "Over HTTP").
func (m *mtlsAuth) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return m.wrap, nil
}

func (m *mtlsAuth) wrap(_ context.Context, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var verified [][]*x509.Certificate
		if r.TLS != nil {
			verified = r.TLS.VerifiedChains
		}
		ctx, err := m.authenticate(r.Context(), verified)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	}), nil
}

// authData is the client.Info.Auth of an authenticated request.
type authData struct {
	subject string
	source  Source
}

func (a authData) GetAttribute(name string) any {
	switch name {
	case AttrSubject:
		return a.subject
	case AttrSource:
		return string(a.source)
	}
	return nil
}

func (authData) GetAttributeNames() []string { return []string{AttrSubject, AttrSource} }
