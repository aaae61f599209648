package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// certAuthority is a CA made by the test at run time: no key is committed.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newCA(t *testing.T, dir, name string) *certAuthority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := certTemplate(t, name)
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
	return &certAuthority{cert: cert, key: key, dir: dir}
}

func certTemplate(t *testing.T, name string) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
}

func (ca *certAuthority) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue makes a certificate for name signed by ca, for a server on
// 127.0.0.1 or for a client, changed by edits, and writes it and its key
// to name.crt and name.key in the CA's directory.
func (ca *certAuthority) issue(t *testing.T, name string, usage x509.ExtKeyUsage, edits ...func(*x509.Certificate)) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := certTemplate(t, name)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	for _, edit := range edits {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	writePEM(t, filepath.Join(ca.dir, name+".crt"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(ca.dir, name+".key"), "PRIVATE KEY", keyDER)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path, blockType string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600))
}

// TestMutualTLS runs the example with its tls blocks uncommented, pointed at
// certificates made here: the collector's own, signed by the senders' CA.
// An instrumented service with a client certificate from that CA gets its
// span (OTLP/gRPC) and access log (OTLP/HTTP) audited, and an audit event.
// Clients in plaintext, without a client certificate or with one from
// another CA are refused on both protocols and for both signals, and
// nothing of theirs reaches either backend.
func TestMutualTLS(t *testing.T) {
	binary := collectorBinary(t)
	dir := t.TempDir()
	known := newCA(t, dir, "senders-ca")
	known.issue(t, "collector", x509.ExtKeyUsageServerAuth)
	sender := known.issue(t, "speech-to-text", x509.ExtKeyUsageClientAuth)
	stranger := newCA(t, dir, "other-ca").issue(t, "stranger", x509.ExtKeyUsageClientAuth)

	// The example's own tls settings, with its directory of certificates
	// replaced by the test's, whose files are named as the example's.
	const exampleDir = "/etc/otelcol-audit/tls/"
	example := withTLS(t, readExample(t))
	require.Contains(t, example, exampleDir)
	config := filepath.Join(dir, "collector.yaml")
	require.NoError(t, os.WriteFile(config, []byte(strings.ReplaceAll(example, exampleDir, dir+"/")), 0o644))
	backend := startBackend(t, "")
	events := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: config,
		ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
		Env: []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
	})

	refusedIDs := map[pcommon.TraceID]string{}
	for _, c := range []struct {
		name string
		tls  *tls.Config // nil: plaintext
		// httpRefusal is what the OTLP/HTTP refusal says; gRPC's varies
		// with timing and is checked to be UNAVAILABLE.
		httpRefusal string
	}{
		{"plaintext", nil, "Client sent an HTTP request to an HTTPS server"},
		{"no_client_certificate", &tls.Config{RootCAs: known.pool()}, "tls: certificate required"},
		// Go's client leaves out a certificate that the server's list of
		// acceptable CAs rules out: present it all the same.
		{"certificate_from_another_CA", &tls.Config{RootCAs: known.pool(),
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger, nil }},
			"tls: unknown certificate authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, send := range []struct {
				name string
				fn   func(pcommon.TraceID) error
			}{
				{"http_traces", func(id pcommon.TraceID) error {
					return harness.ExportTraces(t.Context(), httpClient(c.tls), httpBase(col, c.tls), auditedSpan(id))
				}},
				{"http_logs", func(id pcommon.TraceID) error {
					return harness.ExportLogs(t.Context(), httpClient(c.tls), httpBase(col, c.tls), auditedLog(id))
				}},
				{"grpc_traces", func(id pcommon.TraceID) error {
					return grpcExport(t, col, c.tls, func(ctx context.Context, conn *grpc.ClientConn) error {
						_, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(auditedSpan(id)))
						return err
					})
				}},
				{"grpc_logs", func(id pcommon.TraceID) error {
					return grpcExport(t, col, c.tls, func(ctx context.Context, conn *grpc.ClientConn) error {
						_, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(auditedLog(id)))
						return err
					})
				}},
			} {
				id := newTraceID()
				refusedIDs[id] = c.name + " " + send.name
				err := send.fn(id)
				require.Error(t, err, send.name)
				if strings.HasPrefix(send.name, "http_") {
					assert.ErrorContains(t, err, c.httpRefusal, send.name)
				}
				t.Logf("%s: %v", send.name, err)
			}
		})
	}

	// The known sender: the instrumented service of the end-to-end test,
	// exporting over mutual TLS.
	r := requests[0]
	require.Equal(t, auditedTags["audit.action"], r.action)
	apps := startFleet(t, []request{r}, col.GRPCEndpoint, col.HTTPEndpoint, &tls.Config{
		RootCAs: known.pool(), Certificates: []tls.Certificate{sender},
	})
	id := send(t, apps.url(r), r)
	apps.flush(t)
	waitFor(t, 30*time.Second, "the known sender's span, access log and event at the backends", func() (bool, string) {
		got := arrivals(backend)
		return got["traces"][id] > 0 && got["logs"][id] > 0 && arrivals(events)["logs"][id] > 0,
			fmt.Sprintf("%d records and %d events arrived", len(backend.Records()), len(events.Records()))
	})

	for _, rec := range append(backend.Records(), events.Records()...) {
		if what, refused := refusedIDs[rec.TraceID]; refused {
			t.Errorf("a refused client's %s record reached the backend: %s", rec.Signal, what)
			continue
		}
		assert.Equal(t, id, rec.TraceID, "a %s record nobody known sent", rec.Signal)
		attrs := auditAttrs(rec)
		for k, v := range auditedTags {
			assert.Equal(t, v, attrs[k], "%s: %s", rec.Signal, k)
		}
	}
	assert.Len(t, backend.Records(), 2, "the known sender's span and access log")
	assert.Len(t, events.Records(), 1, "the known sender's event")
	m := scrape(t, col.MetricsURL)
	assert.Equal(t, 1.0, m.Sum("otelcol_receiver_accepted_spans", map[string]string{"receiver": "otlp"}))
	assert.Equal(t, 1.0, m.Sum("otelcol_receiver_accepted_log_records", map[string]string{"receiver": "otlp"}))
}

func httpBase(col *harness.Collector, cfg *tls.Config) string {
	if cfg == nil {
		return "http://" + col.HTTPEndpoint
	}
	return "https://" + col.HTTPEndpoint
}

// grpcExport calls export on a connection to the collector's OTLP/gRPC
// receiver with cfg (plaintext when nil) and returns its error, which must
// be UNAVAILABLE: the connection failed, no server answered the call.
func grpcExport(t *testing.T, col *harness.Collector, cfg *tls.Config, export func(context.Context, *grpc.ClientConn) error) error {
	t.Helper()
	creds := insecure.NewCredentials()
	if cfg != nil {
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(col.GRPCEndpoint, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = export(ctx, conn)
	if err != nil {
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	}
	return err
}
