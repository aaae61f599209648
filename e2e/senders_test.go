package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// The senders' SPIFFE IDs, in their certificates' URI SANs.
const (
	sttSender    = "spiffe://example.org/ns/stt/sa/api"
	backupSender = "spiffe://example.org/ns/backup/sa/api"
)

// sendersOverrides turn the example (with its tls blocks on) into a
// gateway that binds each service to its senders: the mtlsauth extension
// names each sender after its client certificate's URI SAN, as the gRPC
// receiver's authenticator and the HTTP receiver's middleware.
const sendersOverrides = `
extensions:
  mtlsauth:
    identity_from: [uri_san]
receivers:
  otlp:
    protocols:
      grpc:
        auth:
          authenticator: mtlsauth
      http:
        middlewares:
          - id: mtlsauth
processors:
  audit: &senders
    services:
      speech-to-text:
        senders: ["spiffe://example.org/ns/stt/*/*"]
      backup-recovery:
        senders: ["spiffe://example.org/ns/backup/*/*"]
connectors:
  audit: *senders
service:
  extensions: [file_storage, health_check, mtlsauth]
`

// backupSpan and backupLog are a backup-recovery request the example's
// audit processor tags and keeps (us-south), with trace id id.
func backupSpan(id pcommon.TraceID) ptrace.Traces {
	td := auditedSpan(id)
	rs := td.ResourceSpans().At(0)
	asBackup(rs.Resource().Attributes(), rs.ScopeSpans().At(0).Spans().At(0).Attributes())
	rs.ScopeSpans().At(0).Spans().At(0).SetName("POST /v2/data-protect/agents/download")
	return td
}

func backupLog(id pcommon.TraceID) plog.Logs {
	ld := auditedLog(id)
	rl := ld.ResourceLogs().At(0)
	asBackup(rl.Resource().Attributes(), rl.ScopeLogs().At(0).LogRecords().At(0).Attributes())
	return ld
}

func asBackup(resource, attrs pcommon.Map) {
	resource.PutStr("service.name", "backup-recovery")
	resource.PutStr("cloud.region", "us-south")
	attrs.PutStr("url.path", "/v2/data-protect/agents/download")
	attrs.PutStr("http.route", "/v2/data-protect/agents/download")
	attrs.PutInt("http.response.status_code", 200)
}

// TestSenders: two senders, each with a client certificate of its own made
// here, send through the distribution, spans over OTLP/gRPC and access logs
// over OTLP/HTTP. The speech-to-text sender's own records are audited and
// name it; the records it sends claiming backup-recovery pass through
// untagged, give no event and are counted unauthorized; the backup sender's
// own are audited. Certificates the binding cannot use are refused before
// anything arrives: expired (by TLS), none (by TLS), without a URI SAN and
// with two (by the extension).
func TestSenders(t *testing.T) {
	binary := collectorBinary(t)
	dir := t.TempDir()
	ca := newCA(t, dir, "senders-ca")
	ca.issue(t, "collector", x509.ExtKeyUsageServerAuth)
	withURIs := func(uris ...string) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			for _, u := range uris {
				parsed, err := url.Parse(u)
				require.NoError(t, err)
				c.URIs = append(c.URIs, parsed)
			}
		}
	}
	stt := ca.issue(t, "stt", x509.ExtKeyUsageClientAuth, withURIs(sttSender))
	backup := ca.issue(t, "backup", x509.ExtKeyUsageClientAuth, withURIs(backupSender))
	expired := ca.issue(t, "expired", x509.ExtKeyUsageClientAuth, withURIs(sttSender), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	noURI := ca.issue(t, "no-uri", x509.ExtKeyUsageClientAuth, func(c *x509.Certificate) { c.DNSNames = []string{"stt.example"} })
	twoURIs := ca.issue(t, "two-uris", x509.ExtKeyUsageClientAuth, withURIs(sttSender, backupSender))

	const exampleDir = "/etc/otelcol-audit/tls/"
	config := filepath.Join(dir, "collector.yaml")
	require.NoError(t, os.WriteFile(config, []byte(strings.ReplaceAll(withTLS(t, readExample(t)), exampleDir, dir+"/")), 0o644))
	backend := startBackend(t, "")
	events := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: config,
		ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
		Overrides: []string{sendersOverrides},
		Env:       []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
	})
	clientTLS := func(cert *tls.Certificate) *tls.Config {
		cfg := &tls.Config{RootCAs: ca.pool()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return cfg
	}
	// sendBoth sends a span over gRPC and an access log over HTTP with id.
	sendBoth := func(cfg *tls.Config, td ptrace.Traces, ld plog.Logs) (grpcErr, httpErr error) {
		return grpcTraces(t, col, cfg, td), harness.ExportLogs(t.Context(), httpClient(cfg), "https://"+col.HTTPEndpoint, ld)
	}

	refused := map[pcommon.TraceID]string{}
	for _, c := range []struct {
		name string
		cert *tls.Certificate
		// code is the gRPC refusal: Unavailable when the handshake fails,
		// Unauthenticated when the extension refuses; httpRefusal what
		// OTLP/HTTP's says.
		code        codes.Code
		httpRefusal string
	}{
		{"expired", &expired, codes.Unavailable, "tls: expired certificate"},
		{"no_certificate", nil, codes.Unavailable, "tls: certificate required"},
		{"no_uri_san", &noURI, codes.Unauthenticated, "401"},
		{"two_uri_sans", &twoURIs, codes.Unauthenticated, "401"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := newTraceID()
			refused[id] = c.name
			grpcErr, httpErr := sendBoth(clientTLS(c.cert), auditedSpan(id), auditedLog(id))
			require.Error(t, grpcErr)
			assert.Equal(t, c.code, status.Code(grpcErr), "%v", grpcErr)
			require.Error(t, httpErr)
			assert.ErrorContains(t, httpErr, c.httpRefusal)
			t.Logf("grpc: %v; http: %v", grpcErr, httpErr)
		})
	}

	own, claimed, backupOwn := newTraceID(), newTraceID(), newTraceID()
	for _, s := range []struct {
		cert *tls.Certificate
		td   ptrace.Traces
		ld   plog.Logs
	}{
		{&stt, auditedSpan(own), auditedLog(own)},
		{&stt, backupSpan(claimed), backupLog(claimed)},
		{&backup, backupSpan(backupOwn), backupLog(backupOwn)},
	} {
		grpcErr, httpErr := sendBoth(clientTLS(s.cert), s.td, s.ld)
		require.NoError(t, grpcErr)
		require.NoError(t, httpErr)
	}
	waitFor(t, 30*time.Second, "the senders' spans, access logs and events", func() (bool, string) {
		return len(backend.Records()) >= 6 && len(events.Records()) >= 2,
			fmt.Sprintf("%d records and %d events arrived", len(backend.Records()), len(events.Records()))
	})

	wantSender := map[pcommon.TraceID]string{own: sttSender, claimed: "", backupOwn: backupSender}
	wantAction := map[pcommon.TraceID]string{own: "speech-to-text.custom-language-model.create", claimed: "", backupOwn: "backup-recovery.agent.download"}
	for _, rec := range backend.Records() {
		if what, ok := refused[rec.TraceID]; ok {
			t.Errorf("a refused client's %s record reached the backend: %s", rec.Signal, what)
			continue
		}
		require.Contains(t, wantSender, rec.TraceID)
		attrs := auditAttrs(rec)
		if wantSender[rec.TraceID] == "" {
			assert.Empty(t, attrs, "%s: the speech-to-text sender's record claiming backup-recovery is not tagged", rec.Signal)
			continue
		}
		assert.Equal(t, wantAction[rec.TraceID], attrs["audit.action"], rec.Signal)
		assert.Equal(t, wantSender[rec.TraceID], attrs["audit.sender"], rec.Signal)
	}
	assert.Len(t, backend.Records(), 6, "each sender's span and access log, the claimed ones too")
	require.Len(t, events.Records(), 2, "events of the senders' own spans only")
	for _, ev := range events.Records() {
		require.Contains(t, []pcommon.TraceID{own, backupOwn}, ev.TraceID)
		reporter, ok := ev.Body.Map().Get("reporter")
		require.True(t, ok)
		assert.Equal(t, map[string]any{"id": wantSender[ev.TraceID]}, reporter.Map().AsRaw())
	}
	m := scrape(t, col.MetricsURL)
	assert.Equal(t, 1.0, m.Sum("otelcol_processor_audit_records_unauthorized", map[string]string{"signal": "traces"}))
	assert.Equal(t, 1.0, m.Sum("otelcol_processor_audit_records_unauthorized", map[string]string{"signal": "logs"}))
	assert.Equal(t, 1.0, m.Sum("otelcol_connector_audit_records_unauthorized", map[string]string{"signal": "traces"}))
	assert.Equal(t, 2.0, m.Sum("otelcol_processor_audit_records_matched", map[string]string{"signal": "traces"}))
}

// grpcTraces exports td over OTLP/gRPC with cfg and returns the error.
func grpcTraces(t *testing.T, col *harness.Collector, cfg *tls.Config, td ptrace.Traces) error {
	t.Helper()
	conn, err := grpc.NewClient(col.GRPCEndpoint, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	return err
}
