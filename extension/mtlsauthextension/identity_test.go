package mtlsauthextension

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/otel-audit/auditprocessor/extension/mtlsauthextension/internal/metadata"
)

// names are what a test certificate carries.
type names struct {
	uris []string
	dns  []string
	cn   string
}

// certificate makes a self-signed certificate with names, parsed back as
// crypto/tls hands a verified one to the server.
func certificate(t *testing.T, n names) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: n.cn, Organization: []string{"Example"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     n.dns,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, u := range n.uris {
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

const spiffeA = "spiffe://example.org/ns/a/sa/api"

func TestIdentity(t *testing.T) {
	all := []Source{SourceURISAN, SourceDNSSAN, SourceSubjectCN}
	for _, tc := range []struct {
		name    string
		cert    names
		from    []Source
		want    string
		source  Source
		wantErr string
	}{
		{"URI SAN first", names{uris: []string{spiffeA}, dns: []string{"a.example"}, cn: "a"}, all, spiffeA, SourceURISAN, ""},
		{"else DNS SAN", names{dns: []string{"a.example"}, cn: "a"}, all, "a.example", SourceDNSSAN, ""},
		{"else subject CN", names{cn: "a"}, all, "a", SourceSubjectCN, ""},
		{"configured order", names{uris: []string{spiffeA}, dns: []string{"a.example"}, cn: "a"}, []Source{SourceSubjectCN, SourceURISAN}, "a", SourceSubjectCN, ""},
		{"only the configured source", names{dns: []string{"a.example"}, cn: "a"}, []Source{SourceURISAN}, "", "", "client certificate has no uri_san to name the sender"},
		{"none", names{}, all, "", "", "client certificate has no uri_san nor dns_san nor subject_cn to name the sender"},
		{"several URI SANs", names{uris: []string{spiffeA, "spiffe://example.org/ns/b/sa/api"}, cn: "a"}, all, "", SourceURISAN,
			"client certificate has 2 values of uri_san (spiffe://example.org/ns/a/sa/api, spiffe://example.org/ns/b/sa/api): the sender is ambiguous"},
		{"several DNS SANs", names{dns: []string{"a.example", "b.example"}}, all, "", SourceDNSSAN,
			"client certificate has 2 values of dns_san (a.example, b.example): the sender is ambiguous"},
		{"several DNS SANs after a URI SAN", names{uris: []string{spiffeA}, dns: []string{"a.example", "b.example"}}, all, spiffeA, SourceURISAN, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, src, err := identity(certificate(t, tc.cert), tc.from)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, id)
			assert.Equal(t, tc.source, src)
		})
	}
}

func newAuth(t *testing.T, from ...Source) *mtlsAuth {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if from != nil {
		cfg.IdentityFrom = from
	}
	ext, err := NewFactory().Create(t.Context(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	return ext.(*mtlsAuth)
}

// TestAuthenticateGRPC: the identity comes from the gRPC peer's verified
// chains and lands in client.Info.Auth; without TLS or a verified client
// certificate the request is refused.
func TestAuthenticateGRPC(t *testing.T) {
	m := newAuth(t)
	cert := certificate(t, names{uris: []string{spiffeA}, cn: "a"})
	withPeer := func(info any) context.Context {
		p := &peer.Peer{}
		if info != nil {
			p.AuthInfo = info.(credentials.AuthInfo)
		}
		return peer.NewContext(context.Background(), p)
	}
	verified := credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}, PeerCertificates: []*x509.Certificate{cert}}}

	ctx, err := m.Authenticate(withPeer(verified), map[string][]string{"subject": {"forged"}})
	require.NoError(t, err)
	auth := client.FromContext(ctx).Auth
	require.NotNil(t, auth)
	assert.Equal(t, spiffeA, auth.GetAttribute(AttrSubject), "the identity is the certificate's, never a header's")
	assert.Equal(t, "uri_san", auth.GetAttribute(AttrSource))
	assert.Nil(t, auth.GetAttribute("username"))
	assert.Equal(t, []string{AttrSubject, AttrSource}, auth.GetAttributeNames())

	unverified := credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}}
	for name, ctx := range map[string]context.Context{
		"no peer":                      context.Background(),
		"not TLS":                      withPeer(nil),
		"TLS, no verified certificate": withPeer(unverified),
	} {
		_, err := m.Authenticate(ctx, nil)
		assert.Error(t, err, name)
		assert.Nil(t, client.FromContext(ctx).Auth, name)
	}
	_, err = m.Authenticate(withPeer(nil), nil)
	assert.ErrorIs(t, err, errNotTLS)
	_, err = m.Authenticate(withPeer(unverified), nil)
	assert.ErrorIs(t, err, errNoCertificate)
}

// TestMiddlewareHTTP: as an HTTP server middleware the extension reads the
// request's TLS state; a request without a verified certificate gets 401
// and never reaches the receiver.
func TestMiddlewareHTTP(t *testing.T) {
	m := newAuth(t, SourceDNSSAN)
	wrap, err := m.GetHTTPHandler(t.Context())
	require.NoError(t, err)
	var got any
	reached := false
	h, err := wrap(t.Context(), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		reached = true
		if auth := client.FromContext(r.Context()).Auth; auth != nil {
			got = auth.GetAttribute(AttrSubject)
		}
	}))
	require.NoError(t, err)
	cert := certificate(t, names{dns: []string{"a.example"}, cn: "a"})
	for _, tc := range []struct {
		name   string
		state  *tls.ConnectionState
		status int
		want   any
	}{
		{"verified", &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}, http.StatusOK, "a.example"},
		{"plain HTTP", nil, http.StatusUnauthorized, nil},
		{"TLS without a client certificate", &tls.ConnectionState{}, http.StatusUnauthorized, nil},
	} {
		got, reached = nil, false
		r := httptest.NewRequest(http.MethodPost, "/v1/traces", nil)
		r.TLS = tc.state
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, tc.status, w.Code, tc.name)
		assert.Equal(t, tc.status == http.StatusOK, reached, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

func TestConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, []Source{"uri_san", "dns_san", "subject_cn"}, cfg.IdentityFrom)
	require.NoError(t, cfg.Validate())

	err := confmap.NewFromStringMap(map[string]any{"identity_from": []any{"uri_san", "spiffe_id"}}).Unmarshal(cfg)
	assert.ErrorContains(t, err, `unknown identity source "spiffe_id": must be uri_san, dns_san or subject_cn`)

	cfg = createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"identity_from": []any{"dns_san"}}).Unmarshal(cfg))
	assert.Equal(t, []Source{SourceDNSSAN}, cfg.IdentityFrom)

	assert.EqualError(t, (&Config{}).Validate(), "identity_from is empty: list at least one of uri_san, dns_san, subject_cn")
	assert.EqualError(t, (&Config{IdentityFrom: []Source{"dns_san", "uri_san", "dns_san"}}).Validate(), `identity_from[2]: "dns_san" is listed twice`)
}
