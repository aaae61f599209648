package auditconnector

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// writeKey writes a PKCS #8 PEM of key into dir and returns its path and the
// public keys verify takes.
func writeKey(t testing.TB, dir, name string, key any) (string, []integrity.PublicKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	pubs, _ := integrity.ParsePublicKeys(data) // none for a key of another kind
	return path, pubs
}

func ed25519Key(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func integrityHarness(t *testing.T, in *IntegrityConfig, next consumer.Logs) *auditConnector {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.Integrity = in
	c, err := newConnector(metadatatest.NewSettings(tel), cfg, next)
	require.NoError(t, err)
	c.now = func() time.Time { return fixedNow }
	return c
}

// TestIntegrityKeyErrors: a missing, unreadable or wrong-type key fails the
// creation, naming the key and the file.
func TestIntegrityKeyErrors(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaPath, _ := func() (string, any) {
		der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
		require.NoError(t, err)
		p := filepath.Join(dir, "rsa.pem")
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
		return p, nil
	}()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384Path, _ := writeKey(t, dir, "p384.pem", p384)
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	pubOnly := filepath.Join(dir, "public.pem")
	der, err := x509.MarshalPKIXPublicKey(ed25519Key(t).Public())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pubOnly, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct{ path, err string }{
		{missing, "integrity::private_key_file: open " + missing + ": no such file or directory"},
		{garbage, "integrity::private_key_file: " + garbage + ": no PEM block"},
		{rsaPath, "integrity::private_key_file: " + rsaPath + ": a *rsa.PublicKey, not an Ed25519 or ECDSA P-256 key"},
		{p384Path, "integrity::private_key_file: " + p384Path + ": an ECDSA key on P-384, not P-256"},
		{pubOnly, "integrity::private_key_file: " + pubOnly + `: a PEM "PUBLIC KEY" block, not a private key (PRIVATE KEY or EC PRIVATE KEY)`},
	} {
		cfg := testConfig()
		cfg.Integrity = &IntegrityConfig{PrivateKeyFile: tc.path}
		_, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
		assert.EqualError(t, err, tc.err)
	}
}

// TestIntegrityChain: batches from many goroutines form one chain with
// consecutive numbers; every event links; the count-triggered checkpoints
// and the one at shutdown sign the head; verify finds nothing wrong. Then
// the same output, altered, fails.
func TestIntegrityChain(t *testing.T) {
	for _, alg := range []string{integrity.AlgEd25519, integrity.AlgECDSAP256} {
		t.Run(alg, func(t *testing.T) {
			var key any = ed25519Key(t)
			if alg == integrity.AlgECDSAP256 {
				k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				require.NoError(t, err)
				key = k
			}
			path, pubs := writeKey(t, t.TempDir(), "key.pem", key)
			sink := new(consumertest.LogsSink)
			c := integrityHarness(t, &IntegrityConfig{PrivateKeyFile: path, CheckpointEvents: 50, CheckpointInterval: time.Hour}, sink)
			require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 10 {
						assert.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
					}
				})
			}
			wg.Wait()
			require.NoError(t, c.Shutdown(t.Context()))

			events, checkpoints := 0, 0
			seqs := map[int64]bool{}
			for _, ld := range sink.AllLogs() {
				for _, rl := range ld.ResourceLogs().All() {
					for _, sl := range rl.ScopeLogs().All() {
						for _, lr := range sl.LogRecords().All() {
							if lr.EventName() == integrity.CheckpointEventName {
								checkpoints++
								continue
							}
							events++
							s, ok := lr.Attributes().Get(integrity.AttrChainSeq)
							require.True(t, ok)
							assert.False(t, seqs[s.Int()], "seq %d twice", s.Int())
							seqs[s.Int()] = true
						}
					}
				}
			}
			require.Positive(t, events)
			for i := 1; i <= events; i++ {
				assert.True(t, seqs[int64(i)], "seq %d missing", i)
			}
			assert.GreaterOrEqual(t, checkpoints, 2, "checkpoints every 50 events, and one at shutdown")

			v := integrity.NewVerifier(pubs)
			for _, ld := range sink.AllLogs() {
				v.Add(ld)
			}
			reps := v.Finish()
			require.Len(t, reps, 1)
			r := reps[0]
			assert.False(t, r.Failed(), "%+v", r)
			assert.Equal(t, events, r.Verified)
			assert.Equal(t, checkpoints, r.Checkpoints)
			assert.Equal(t, uint64(events), r.LastSigned)
			assert.Zero(t, r.UnsignedTail)

			// Altered: one body field of one event.
			all := sink.AllLogs()
			lr := all[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(3)
			require.Equal(t, integrity.EventName, lr.EventName())
			{
				lr.Body().Map().PutStr("outcome", "success-forged")
				id, _ := lr.Body().Map().Get("id")
				v := integrity.NewVerifier(pubs)
				for _, ld := range all {
					v.Add(ld)
				}
				r := v.Finish()[0]
				assert.True(t, r.Failed())
				assert.Equal(t, []string{id.Str()}, r.Altered)
			}
		})
	}
}

// failing refuses the events of its calls number refused to last (from 1).
type failing struct {
	consumertest.LogsSink
	mu                   sync.Mutex
	calls, refused, last int
}

func (f *failing) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	f.mu.Lock()
	isEvents := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() == integrity.EventName
	if isEvents {
		f.calls++
	}
	refuse := isEvents && f.calls >= f.refused && f.calls <= max(f.refused, f.last)
	f.mu.Unlock()
	if refuse {
		return errors.New("queue full")
	}
	return f.LogsSink.ConsumeLogs(ctx, ld)
}

// TestIntegrityWithdrawn: events the pipeline refuses keep their numbers;
// the checkpoint names them withdrawn, and verify reports no gap though
// they never arrived.
func TestIntegrityWithdrawn(t *testing.T) {
	path, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	sink := &failing{refused: 2}
	c := integrityHarness(t, &IntegrityConfig{PrivateKeyFile: path, CheckpointEvents: 1000, CheckpointInterval: time.Hour}, sink)
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.Error(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.Shutdown(t.Context()))
	n := uint64(sink.LogRecordCount() - 1) // without the checkpoint
	v := integrity.NewVerifier(pubs)
	for _, ld := range sink.AllLogs() {
		v.Add(ld)
	}
	r := v.Finish()[0]
	assert.False(t, r.Failed(), "%+v", r)
	require.Len(t, r.Withdrawn, 1)
	assert.Equal(t, n/2+1, r.Withdrawn[0].From)
	assert.Equal(t, n, r.Withdrawn[0].To)
	assert.Equal(t, int(n), r.Verified)

	// Two refusals in a row: one range.
	sink = &failing{refused: 2, last: 3}
	c = integrityHarness(t, &IntegrityConfig{PrivateKeyFile: path, CheckpointEvents: 1000, CheckpointInterval: time.Hour}, sink)
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.Error(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.Error(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.Shutdown(t.Context()))
	per := uint64(sink.LogRecordCount()-1) / 2
	v = integrity.NewVerifier(pubs)
	for _, ld := range sink.AllLogs() {
		v.Add(ld)
	}
	r = v.Finish()[0]
	assert.False(t, r.Failed(), "%+v", r)
	assert.Equal(t, []integrity.Range{{From: per + 1, To: 3 * per}}, withoutHash(r.Withdrawn))
}

func withoutHash(rs []integrity.Range) []integrity.Range {
	out := make([]integrity.Range, len(rs))
	for i, r := range rs {
		out[i] = integrity.Range{From: r.From, To: r.To}
	}
	return out
}

// BenchmarkConsumeTraces: the connector without integrity and with it, in
// one run; the difference per event is what integrity costs.
func BenchmarkConsumeTraces(b *testing.B) {
	path, _ := writeKey(b, b.TempDir(), "key.pem", ed25519Key(b))
	for _, tc := range []struct {
		name string
		in   *IntegrityConfig
	}{{"plain", nil}, {"integrity", &IntegrityConfig{PrivateKeyFile: path, CheckpointInterval: time.Hour}}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.Integrity = tc.in
			c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
			require.NoError(b, err)
			td := statusTraces()
			batches := 0
			b.ReportAllocs()
			cpu := audittest.CPUTime()
			for b.Loop() {
				require.NoError(b, c.ConsumeTraces(context.Background(), td))
				batches++
			}
			events := float64(batches * eventsPer(b, td))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
			b.ReportMetric(float64((audittest.CPUTime()-cpu).Nanoseconds())/events, "cpu-ns/event")
			require.NoError(b, c.Shutdown(context.Background()))
		})
	}
}

func eventsPer(b *testing.B, td ptrace.Traces) int {
	sink := new(consumertest.LogsSink)
	cfg := testConfig()
	c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, sink)
	require.NoError(b, err)
	require.NoError(b, c.ConsumeTraces(context.Background(), td))
	return sink.LogRecordCount()
}

// BenchmarkSealParts: what integrity costs per event, part by part: the
// canonical form and its SHA-256, the link, the three attributes.
func BenchmarkSealParts(b *testing.B) {
	sink := new(consumertest.LogsSink)
	c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), testConfig(), sink)
	require.NoError(b, err)
	require.NoError(b, c.ConsumeTraces(context.Background(), statusTraces()))
	out := sink.AllLogs()[0]
	n := out.LogRecordCount()
	records := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	var e integrity.Encoder
	perEvent := func(b *testing.B, f func(lr plog.LogRecord)) {
		cpu := audittest.CPUTime()
		for b.Loop() {
			for _, lr := range records.All() {
				f(lr)
			}
		}
		b.ReportMetric(float64((audittest.CPUTime()-cpu).Nanoseconds())/float64(b.N*n), "cpu-ns/event")
	}
	size := 0
	for _, lr := range records.All() {
		e.Reset()
		e.Event(lr)
		size += len(e.Bytes())
	}
	b.Logf("canonical form: %d bytes per event", size/n)
	b.Run("canonical", func(b *testing.B) { perEvent(b, func(lr plog.LogRecord) { e.Reset(); e.Event(lr) }) })
	b.Run("digest", func(b *testing.B) { perEvent(b, func(lr plog.LogRecord) { e.Digest(lr) }) })
	// The hash alone, over the forms already written: with the link, what
	// any chain over this form costs however the form is made.
	forms := make([][]byte, 0, n)
	for _, lr := range records.All() {
		e.Reset()
		e.Event(lr)
		forms = append(forms, slices.Clone(e.Bytes()))
	}
	b.Run("sha256", func(b *testing.B) {
		cpu := audittest.CPUTime()
		var h integrity.Hash
		for b.Loop() {
			for _, f := range forms {
				h = sha256.Sum256(f)
			}
		}
		b.ReportMetric(float64((audittest.CPUTime()-cpu).Nanoseconds())/float64(b.N*n), "cpu-ns/event")
		_ = h
	})
	b.Run("link", func(b *testing.B) {
		var h, d integrity.Hash
		for b.Loop() {
			h = integrity.Link("ee7d1700-2207-43ba-b350-5f91c087d876", 12345, &h, &d)
		}
	})
}

// TestScopeName: the processor tells the connector's scope by
// integrity.ScopeName, which must be the generated one.
func TestScopeName(t *testing.T) {
	assert.Equal(t, metadata.ScopeName, integrity.ScopeName)
}
