package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"
	"github.com/otel-audit/auditprocessor/e2e/harness"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// The integrity tests run examples/collector.yaml with its commented
// integrity block turned on (the chain's state in the queues' file_storage),
// checkpoints made sooner than the example's 10 s, and read what the events'
// backend recorded (the file exporter's OTLP JSON lines) with
// `auditcatalog verify`, as an auditor would.

// exampleKeyFile is the key path the example's integrity block names.
const exampleKeyFile = "/etc/otelcol-audit/chain/key.pem"

// fastCheckpoints makes a checkpoint every 10 events, and every second
// while events came.
const fastCheckpoints = `
connectors:
  audit:
    integrity:
      checkpoint_interval: 1s
      checkpoint_events: 10
`

// chainKey writes an Ed25519 key pair into dir: NAME.pem (PKCS #8) and
// NAME.pub.pem (PKIX); it returns their paths.
func chainKey(t *testing.T, dir, name string) (private, public string) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	private, public = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	require.NoError(t, os.WriteFile(private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	der, err = x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	return private, public
}

// integrityExample writes the example with its integrity block turned on,
// signing with key, and returns its path.
func integrityExample(t *testing.T, key string) string {
	t.Helper()
	out, blocks := uncommented(readExample(t), "integrity")
	require.Equal(t, 1, blocks, "the example's commented integrity block")
	require.Equal(t, 1, strings.Count(out, exampleKeyFile), "the example's key path")
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(out, exampleKeyFile, key, 1)), 0o644))
	return path
}

// runVerify runs auditcatalog verify with the public key pub on file, as a
// table and as JSON, and returns both and the exit status (the same for
// both).
func runVerify(t *testing.T, tool, pub, file string) (table string, rep report.Verify, code int) {
	t.Helper()
	run := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, tool, append([]string{"verify", "--key", pub}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), ee.ExitCode()
		}
		require.NoError(t, err, "auditcatalog verify: %s", stderr.String())
		return stdout.String(), 0
	}
	table, code = run(file)
	out, jcode := run("--json", file)
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "verify --json:\n%s", out)
	assert.Equal(t, code, jcode, "the exit status, as a table and as JSON")
	return table, rep, code
}

// readLines reads a recording of OTLP JSON lines; a line the backend is
// still writing is left out.
func readLines(t *testing.T, path string) []plog.Logs {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var docs []plog.Logs
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(sc.Bytes()); err == nil {
			docs = append(docs, ld)
		}
	}
	require.NoError(t, sc.Err())
	return docs
}

func writeLines(t *testing.T, path string, docs []plog.Logs) {
	t.Helper()
	var b bytes.Buffer
	for _, ld := range docs {
		line, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// records calls fn for every log record of docs; fn returns whether to
// remove the record.
func records(docs []plog.Logs, fn func(plog.LogRecord) bool) {
	for _, ld := range docs {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				sl.LogRecords().RemoveIf(fn)
			}
		}
	}
}

func chainOf(lr plog.LogRecord) (string, int64) {
	id, _ := lr.Attributes().Get(integrity.AttrChainID)
	seq, _ := lr.Attributes().Get(integrity.AttrChainSeq)
	return id.Str(), seq.Int()
}

// verifyNow verifies the recording in process (what the command does),
// for waiting.
func verifyNow(t *testing.T, path, pub string) ([]integrity.ChainReport, []integrity.RestartLink) {
	t.Helper()
	data, err := os.ReadFile(pub)
	require.NoError(t, err)
	keys, err := integrity.ParsePublicKeys(data)
	require.NoError(t, err)
	v := integrity.NewVerifier(keys)
	for _, ld := range readLines(t, path) {
		v.Add(ld)
	}
	return v.Finish(), v.Links()
}

// signed tells whether every chain in reps is signed to its end and wants
// chains of them are there.
func signed(reps []integrity.ChainReport, chains int) (bool, string) {
	if len(reps) != chains {
		return false, fmt.Sprintf("%d chains", len(reps))
	}
	for _, r := range reps {
		if r.UnsignedTail > 0 || r.LastSigned == 0 {
			return false, fmt.Sprintf("chain %s: %d events unsigned", r.Chain, r.UnsignedTail)
		}
	}
	return true, ""
}

// TestIntegrityRestart: the example with integrity, the events' backend
// down; requests acknowledged; the collector killed (SIGKILL) and started
// again on the same queue and chain state; the backends come up. verify
// reads the backend's copy: two chains, the second naming the first, which
// the restarted collector closed with a signed checkpoint; nothing missing,
// nothing altered, duplicates counted. Then, on copies of that copy, what
// an auditor must catch: a deleted event (named by its number), a changed
// body field (named by its event id), the last checkpoint dropped (an
// unsigned tail), and another key (every checkpoint fails).
func TestIntegrityRestart(t *testing.T) {
	binary := collectorBinary(t)
	tool := auditcatalogBinary(t)
	dir := t.TempDir()
	key, pub := chainKey(t, dir, "key")
	_, otherPub := chainKey(t, dir, "other")
	config := integrityExample(t, key)
	recording := t.TempDir()

	o := &outage{binary: binary, queueDir: t.TempDir()}
	var err error
	o.backend, err = harness.StartBackendDown("")
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.backend.Close() })
	o.events, err = harness.StartBackendDown(recording)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.events.Close() })
	start := func() *harness.Collector {
		return startCollector(t, "collector", harness.CollectorOptions{
			Binary: binary, BaseConfig: config,
			ExportEndpoint: o.backend.URL, EventsEndpoint: o.events.URL,
			Overrides: []string{fastRetry, fastCheckpoints},
			Env:       []string{"AUDIT_QUEUE_DIR=" + o.queueDir},
		})
	}

	col := start()
	before := sendAcknowledged(t, col, outageRecords)
	waitMetrics(t, col.MetricsURL, "the checkpoints of 25 events", func(m harness.Metrics) bool {
		return m.Sum("otelcol_connector_audit_checkpoints", map[string]string{"result": "success"}) >= 2 &&
			m.Sum("otelcol_connector_audit_events_chained", nil) == outageRecords
	})
	// The tail: events after the last checkpoint the crash leaves unsigned.
	before = append(before, sendAcknowledged(t, col, 3)...)
	col.Kill()

	col = start()
	o.backendsUp(t)
	after := sendAcknowledged(t, col, 5)
	waitFor(t, time.Minute, "both chains at the events' backend, signed to their ends", func() (bool, string) {
		reps, _ := verifyNow(t, o.events.LogsFile, pub)
		return signed(reps, 2)
	})
	m := scrape(t, col.MetricsURL)
	assert.Positive(t, m.Sum("otelcol_connector_audit_chain_state_writes", map[string]string{"result": "success"}))
	assert.Zero(t, m.Sum("otelcol_connector_audit_chain_state_writes", map[string]string{"result": "failure"}))
	got := map[string]int{}
	for _, r := range o.events.Records() {
		if r.EventName == integrity.EventName {
			got[r.TraceID.String()]++
		}
	}
	for _, id := range slices.Concat(before, after) {
		assert.Positive(t, got[id.String()], "the event of %s", id)
	}

	// The chain's state beside the queues, named after the connector and its
	// edge (traces to logs).
	assert.FileExists(t, filepath.Join(o.queueDir, "connector_audit__traces"))

	table, rep, code := runVerify(t, tool, pub, o.events.LogsFile)
	t.Logf("verify:\n%s", table)
	require.Equal(t, 0, code, table)
	require.Len(t, rep.Chains, 2, table)
	require.Len(t, rep.Links, 1, table)
	link := rep.Links[0]
	assert.Empty(t, link.Problem)
	chains := map[string]integrity.ChainReport{}
	for _, c := range rep.Chains {
		chains[c.Chain] = c
		assert.Zero(t, c.MissingEvents, "%s: missing", c.Chain)
		assert.Zero(t, c.AlteredEvents, "%s: altered", c.Chain)
		assert.Zero(t, c.BadSignatures, "%s: bad signatures", c.Chain)
		assert.Zero(t, c.UnsignedTail, "%s: unsigned", c.Chain)
	}
	old, next := chains[link.From], chains[link.To]
	assert.Equal(t, len(before), old.Events-old.Duplicates, "the killed collector's chain: one event a request")
	assert.Equal(t, len(after), next.Events-next.Duplicates, "the restarted collector's chain")
	assert.Equal(t, uint64(len(before)), link.Last, "the closing checkpoint signs the old chain to its end")
	assert.Equal(t, next.Chain, old.Successor)
	assert.Equal(t, old.Chain, next.Predecessor)
	assert.Contains(t, table, fmt.Sprintf("restart: %s -> %s (the chain before closed at sequence %d)", old.Chain, next.Chain, len(before)))
	t.Logf("duplicates: %d in the chain before the crash, %d after", old.Duplicates, next.Duplicates)

	backend := readLines(t, o.events.LogsFile)
	copyOf := func() []plog.Logs {
		out := make([]plog.Logs, len(backend))
		for i, ld := range backend {
			out[i] = plog.NewLogs()
			ld.CopyTo(out[i])
		}
		return out
	}
	tampered := filepath.Join(t.TempDir(), "events.jsonl")

	t.Run("deleted", func(t *testing.T) {
		docs, deleted := copyOf(), 0
		records(docs, func(lr plog.LogRecord) bool {
			chain, seq := chainOf(lr)
			if lr.EventName() == integrity.EventName && chain == old.Chain && seq == 7 {
				deleted++
				return true
			}
			return false
		})
		require.Positive(t, deleted)
		writeLines(t, tampered, docs)
		table, rep, code := runVerify(t, tool, pub, tampered)
		assert.Equal(t, 1, code, table)
		assert.Contains(t, table, old.Chain+": missing sequence numbers 7\n")
		for _, c := range rep.Chains {
			if c.Chain == old.Chain {
				assert.Equal(t, []integrity.Range{{From: 7, To: 7}}, c.Missing)
			}
		}
	})
	t.Run("altered", func(t *testing.T) {
		docs, id := copyOf(), ""
		records(docs, func(lr plog.LogRecord) bool {
			chain, seq := chainOf(lr)
			if lr.EventName() == integrity.EventName && chain == next.Chain && seq == 2 {
				v, _ := lr.Body().Map().Get("id")
				id = v.Str()
				lr.Body().Map().PutStr("outcome", "failure")
			}
			return false
		})
		require.NotEmpty(t, id)
		writeLines(t, tampered, docs)
		table, rep, code := runVerify(t, tool, pub, tampered)
		assert.Equal(t, 1, code, table)
		assert.Contains(t, table, next.Chain+": altered events (by id): "+id+"\n")
		for _, c := range rep.Chains {
			if c.Chain == next.Chain {
				assert.Equal(t, []string{id}, c.Altered)
			}
		}
	})
	t.Run("last checkpoint dropped", func(t *testing.T) {
		docs := copyOf()
		var lastSigned int64
		records(docs, func(lr plog.LogRecord) bool {
			if chain, _ := chainOf(lr); lr.EventName() == integrity.CheckpointEventName && chain == next.Chain {
				v, _ := lr.Body().Map().Get("last")
				lastSigned = max(lastSigned, v.Int())
			}
			return false
		})
		records(docs, func(lr plog.LogRecord) bool {
			chain, _ := chainOf(lr)
			v, _ := lr.Body().Map().Get("last")
			return lr.EventName() == integrity.CheckpointEventName && chain == next.Chain && v.Int() == lastSigned
		})
		writeLines(t, tampered, docs)
		table, rep, _ := runVerify(t, tool, pub, tampered)
		for _, c := range rep.Chains {
			if c.Chain == next.Chain {
				assert.Positive(t, c.UnsignedTail, table)
				assert.Less(t, c.LastSigned, uint64(len(after)))
				assert.Contains(t, table, next.Chain+": unsigned tail: ")
			}
		}
	})
	t.Run("another key", func(t *testing.T) {
		table, rep, code := runVerify(t, tool, otherPub, o.events.LogsFile)
		assert.Equal(t, 1, code, table)
		for _, c := range rep.Chains {
			assert.Positive(t, c.Checkpoints, c.Chain)
			assert.Equal(t, c.Checkpoints, c.BadSignatures, "%s: every checkpoint fails", c.Chain)
		}
	})
}

// TestIntegrityGateway: two audit collectors with integrity behind the
// gateway tier (examples/gateway.yaml spreads traces by trace id) keep a
// chain each; each one's events backend verifies, and together they hold
// every request's event once.
func TestIntegrityGateway(t *testing.T) {
	binary := collectorBinary(t)
	gateway := gatewayDist.binary(t)
	tool := auditcatalogBinary(t)
	key, pub := chainKey(t, t.TempDir(), "key")
	config := integrityExample(t, key)

	var tiers [2]tier
	var hostnames []string
	for i := range tiers {
		tr := &tiers[i]
		tr.records = startBackend(t, "")
		tr.events = startBackend(t, t.TempDir())
		tr.col = startCollector(t, fmt.Sprintf("audit collector %d", i+1), harness.CollectorOptions{
			Binary: binary, BaseConfig: config,
			ExportEndpoint: tr.records.URL, EventsEndpoint: tr.events.URL,
			Overrides: []string{fastCheckpoints},
			Env:       []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
		})
		hostnames = append(hostnames, tr.col.GRPCEndpoint)
	}
	front := startFront(t, gateway, hostnames)

	const n = 40
	for i := range n {
		require.NoError(t, harness.ExportTraces(t.Context(), plainClient, "http://"+front.HTTPEndpoint, auditedSpan(newTraceID())), "span %d", i)
	}
	waitFor(t, time.Minute, "every event at one of the two events backends, each chain signed to its end", func() (bool, string) {
		total := 0
		for i, tr := range tiers {
			reps, _ := verifyNow(t, tr.events.LogsFile, pub)
			if ok, why := signed(reps, 1); !ok {
				return false, fmt.Sprintf("collector %d: %s", i+1, why)
			}
			total += reps[0].Events - reps[0].Duplicates
		}
		return total == n, fmt.Sprintf("%d of %d events", total, n)
	})
	var ids []string
	for i, tr := range tiers {
		table, rep, code := runVerify(t, tool, pub, tr.events.LogsFile)
		t.Logf("collector %d, verify:\n%s", i+1, table)
		assert.Equal(t, 0, code, table)
		require.Len(t, rep.Chains, 1, table)
		c := rep.Chains[0]
		assert.Positive(t, c.Events, "collector %d took a share", i+1)
		assert.Equal(t, c.Events, c.Verified)
		assert.Empty(t, rep.Links, "no restart")
		ids = append(ids, c.Chain)
	}
	assert.NotEqual(t, ids[0], ids[1], "a chain each")
}

// TestIntegrityStorageMissing: integrity.storage naming an extension the
// configuration does not have fails the collector's start, naming the key.
func TestIntegrityStorageMissing(t *testing.T) {
	binary := collectorBinary(t)
	key, _ := chainKey(t, t.TempDir(), "key")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	col, err := harness.StartCollector(ctx, harness.CollectorOptions{
		Binary: binary, BaseConfig: integrityExample(t, key), Dir: t.TempDir(),
		Env: []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
		Overrides: []string{`
connectors:
  audit:
    integrity:
      storage: file_storage/missing
`},
	})
	if col != nil {
		_ = col.Stop(10 * time.Second)
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), `integrity::storage: extension "file_storage/missing" is not configured (service::extensions)`)
}
