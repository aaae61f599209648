package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/auditconnector"
	"github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"
	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

const fixtures = "testdata/verify"

// writePEM writes a new Ed25519 key pair (private PKCS #8, public PKIX).
func writePEM(t testing.TB, priv, pub string) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	der, err = x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
}

// makeEvents runs the audit connector with integrity over the spans of
// testdata/otlp/traces.jsonl, copies times over with new span ids, and
// returns what it passed on, one request per document.
func makeEvents(t testing.TB, keyFile string, copies, every int) []plog.Logs {
	t.Helper()
	sink := new(consumertest.LogsSink)
	runConnector(t, &auditconnector.IntegrityConfig{PrivateKeyFile: keyFile, CheckpointEvents: every, CheckpointInterval: time.Hour},
		componenttest.NewNopHost(), sink, 0, copies)
	return sink.AllLogs()
}

// runConnector starts a traces-to-logs audit connector with integrity in
// on host, passes it copies from..to-1 of the spans of
// testdata/otlp/traces.jsonl (each copy with new span ids) and shuts it
// down.
func runConnector(t testing.TB, in *auditconnector.IntegrityConfig, host component.Host, sink *consumertest.LogsSink, from, to int) {
	t.Helper()
	f := auditconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*auditconnector.Config)
	cfg.Integrity = in
	set := connectortest.NewNopSettings(f.Type())
	set.ID = component.NewID(f.Type()) // one ID across restarts, as in a configuration
	c, err := f.CreateTracesToLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background(), host))
	data, err := os.ReadFile("testdata/otlp/traces.jsonl")
	require.NoError(t, err)
	var docs []ptrace.Traces
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		require.NoError(t, err)
		docs = append(docs, td)
	}
	for i := from; i < to; i++ {
		for _, td := range docs {
			cp := ptrace.NewTraces()
			td.CopyTo(cp)
			for _, rs := range cp.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						id := s.SpanID()
						binary.BigEndian.PutUint16(id[6:], uint16(i))
						s.SetSpanID(id)
					}
				}
			}
			require.NoError(t, c.ConsumeTraces(context.Background(), cp))
		}
	}
	require.NoError(t, c.Shutdown(context.Background()))
}

func jsonLines(t testing.TB, docs []plog.Logs) []byte {
	var b bytes.Buffer
	for _, ld := range docs {
		line, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// eventAt returns the event record i of a document, if there is one.
func eventAt(ld plog.Logs, i int) (plog.LogRecord, bool) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if lr.EventName() == integrity.EventName {
					if i == 0 {
						return lr, true
					}
					i--
				}
			}
		}
	}
	return plog.LogRecord{}, false
}

// eventDoc returns the index of the document of events number n (from 0).
func eventDoc(docs []plog.Logs, n int) int {
	for i, ld := range docs {
		if _, ok := eventAt(ld, 0); ok {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

// TestVerifyFixtures writes testdata/verify (with -update): the events of a
// run with integrity, and copies of them as an auditor must catch them.
// Without -update it checks that they are there. A new run makes a new
// chain id: update the transcripts and docs/auditcatalog.md's verify
// example after it (go test ./cmd/auditcatalog -run 'TestTranscripts|TestDocExamples' -update).
func TestVerifyFixtures(t *testing.T) {
	if !*audittest.Update {
		_, err := os.Stat(filepath.Join(fixtures, "events.jsonl"))
		require.NoError(t, err, "run go test -run TestVerifyFixtures -update")
		return
	}
	require.NoError(t, os.MkdirAll(fixtures, 0o755))
	key := filepath.Join(fixtures, "key.pem") // a test key, signing nothing else
	writePEM(t, key, filepath.Join(fixtures, "key.pub.pem"))
	writePEM(t, filepath.Join(t.TempDir(), "other.pem"), filepath.Join(fixtures, "other.pub.pem"))
	docs := makeEvents(t, key, 6, 5)
	write := func(name string, docs []plog.Logs) {
		require.NoError(t, os.WriteFile(filepath.Join(fixtures, name), jsonLines(t, docs), 0o644))
	}
	write("events.jsonl", docs)
	clone := func() []plog.Logs {
		out := make([]plog.Logs, len(docs))
		for i, ld := range docs {
			out[i] = plog.NewLogs()
			ld.CopyTo(out[i])
		}
		return out
	}
	// One event deleted (the second of the third document).
	d := clone()
	lr, ok := eventAt(d[eventDoc(d, 1)], 1)
	require.True(t, ok)
	removed, seq := 0, func(r plog.LogRecord) int64 { v, _ := r.Attributes().Get(integrity.AttrChainSeq); return v.Int() }
	for _, rl := range d[eventDoc(d, 1)].ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			sl.LogRecords().RemoveIf(func(r plog.LogRecord) bool {
				if seq(r) == seq(lr) {
					removed++
					return true
				}
				return false
			})
		}
	}
	require.Equal(t, 1, removed)
	write("deleted.jsonl", d)
	// One body field changed.
	d = clone()
	lr, ok = eventAt(d[eventDoc(d, 2)], 0)
	require.True(t, ok)
	msg, _ := lr.Body().Map().Get("message")
	lr.Body().Map().PutStr("message", msg.Str()+" (edited)")
	write("altered.jsonl", d)
	// The last checkpoint (at shutdown) dropped.
	d = clone()
	write("tail.jsonl", d[:len(d)-1])
	// The last checkpoint's head changed, its signature kept: someone
	// without the key covering for an altered chain.
	d = clone()
	cp := d[len(d)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	require.Equal(t, integrity.CheckpointEventName, cp.EventName())
	cp.Body().Map().PutStr("head", strings.Repeat("0", 64))
	write("forged-checkpoint.jsonl", d)
	// A look-alike: an event's copy without its chain, as a sender could post it.
	d = clone()
	lr, ok = eventAt(d[0], 0)
	require.True(t, ok)
	look := plog.NewLogs()
	rl := look.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/otel-audit/auditprocessor/auditconnector")
	lr.CopyTo(sl.LogRecords().AppendEmpty())
	sl.LogRecords().At(0).Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return integrity.IsIntegrityKey(k) })
	write("lookalike.jsonl", append(d, look))
	// Lines that are not OTLP, among good ones; and the whole as one export.
	lines := strings.Split(strings.TrimSpace(string(jsonLines(t, docs))), "\n")
	bad := append([]string{lines[0], `{"resourceLogs": [`, "not json"}, lines[1:]...)
	require.NoError(t, os.WriteFile(filepath.Join(fixtures, "malformed.jsonl"), []byte(strings.Join(bad, "\n")+"\n"), 0o644))
	all := plog.NewLogs()
	for _, ld := range docs {
		ld.ResourceLogs().MoveAndAppendTo(all.ResourceLogs())
	}
	doc, err := (&plog.JSONMarshaler{}).MarshalLogs(all)
	require.NoError(t, err)
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, doc, "", "  "))
	require.NoError(t, os.WriteFile(filepath.Join(fixtures, "export.json"), pretty.Bytes(), 0o644))
	proto, err := (&plog.ProtoMarshaler{}).MarshalLogs(all)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(fixtures, "export.binpb"), proto, 0o644))
}

// TestVerifyShuffled: any order of the input, the same report.
func TestVerifyShuffled(t *testing.T) {
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	writePEM(t, key, pub)
	docs := makeEvents(t, key, 20, 10)
	rev := make([]plog.Logs, len(docs))
	for i := range docs {
		rev[len(docs)-1-i] = docs[i]
	}
	in := filepath.Join(dir, "rev.jsonl")
	require.NoError(t, os.WriteFile(in, jsonLines(t, rev), 0o644))
	var out bytes.Buffer
	require.Equal(t, exitOK, run([]string{"verify", "--json", "--key", pub, in}, &out, &out), out.String())
	var rep report.Verify
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Len(t, rep.Chains, 1)
	c := rep.Chains[0]
	assert.Equal(t, c.Events, c.Verified)
	assert.Zero(t, c.MissingEvents)
	assert.Positive(t, c.Checkpoints)
}

// FuzzVerifyRead: whatever the input, the reader and the verifier report,
// and never panic.
func FuzzVerifyRead(f *testing.F) {
	// Small seeds (the engine minimises each input it finds new): an event
	// line and the last checkpoint line, lines that are not OTLP, the event
	// line as one indented document, and the start of a protobuf export.
	events, err := os.ReadFile(filepath.Join(fixtures, "events.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(events), []byte("\n"))
	f.Add(append(append(append([]byte(nil), lines[0]...), '\n'), lines[len(lines)-1]...))
	f.Add([]byte("{\"resourceLogs\": [\nnot json\n{}\n"))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, lines[0], "", " "); err != nil {
		f.Fatal(err)
	}
	f.Add(pretty.Bytes())
	proto, err := os.ReadFile(filepath.Join(fixtures, "export.binpb"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(proto[:min(len(proto), 2000)])
	vl, err := os.ReadFile(filepath.Join(fixtures, "victorialogs", "query.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.SplitAfter(vl, []byte("\n"))[2]) // an event, as VictoriaLogs returns it
	keys, err := os.ReadFile(filepath.Join(fixtures, "key.pub.pem"))
	if err != nil {
		f.Fatal(err)
	}
	pubs, err := integrity.ParsePublicKeys(keys)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := integrity.NewVerifier(pubs)
		v.Window, v.Recent = 4, 4
		var stderr bytes.Buffer
		readInput(bytes.NewReader(data), "fuzz", v, &stderr)
		for _, c := range v.Finish() {
			if c.Verified > c.Events {
				t.Fatalf("%d verified of %d events", c.Verified, c.Events)
			}
		}
	})
}

// BenchmarkVerify: events read and verified per second, from JSON lines.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	key, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	writePEM(b, key, pub)
	docs := makeEvents(b, key, 2000, 1000)
	data := jsonLines(b, docs)
	keys, err := os.ReadFile(pub)
	require.NoError(b, err)
	pubs, err := integrity.ParsePublicKeys(keys)
	require.NoError(b, err)
	events := 0
	b.SetBytes(int64(len(data)))
	cpu := audittest.CPUTime()
	for b.Loop() {
		v := integrity.NewVerifier(pubs)
		readInput(bytes.NewReader(data), "bench", v, io.Discard)
		reps := v.Finish()
		if len(reps) != 1 || reps[0].Failed() {
			b.Fatalf("%+v", reps)
		}
		events += reps[0].Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	// The machine may be shared: the CPU time this process used says what
	// one core does.
	b.ReportMetric(float64(events)/(audittest.CPUTime()-cpu).Seconds(), "events/cpu-s")
}

// TestVerifyRestartFixtures writes testdata/verify/restart*.jsonl (with
// -update): a collector with its chain state in a storage extension
// (integrity.storage) stopped and started again, so that the second
// chain names the first and the first's closing checkpoint names the
// second; and the same without that closing checkpoint. Without -update it
// checks that they are there.
func TestVerifyRestartFixtures(t *testing.T) {
	if !*audittest.Update {
		_, err := os.Stat(filepath.Join(fixtures, "restart.jsonl"))
		require.NoError(t, err, "run go test -run TestVerifyRestartFixtures -update")
		return
	}
	id := component.MustNewID("file_storage")
	in := &auditconnector.IntegrityConfig{PrivateKeyFile: filepath.Join(fixtures, "key.pem"), CheckpointEvents: 5, CheckpointInterval: time.Hour, Storage: &id}
	host := audittest.Host{id: audittest.NewMemStorage().Extension()}
	sink := new(consumertest.LogsSink)
	runConnector(t, in, host, sink, 0, 3)
	runConnector(t, in, host, sink, 3, 5)
	docs := sink.AllLogs()
	require.NoError(t, os.WriteFile(filepath.Join(fixtures, "restart.jsonl"), jsonLines(t, docs), 0o644))
	closing := slices.IndexFunc(docs, func(ld plog.Logs) bool {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		_, ok := lr.Body().Map().Get("successor")
		return lr.EventName() == integrity.CheckpointEventName && ok
	})
	require.Positive(t, closing)
	docs = slices.Delete(docs, closing, closing+1)
	require.NoError(t, os.WriteFile(filepath.Join(fixtures, "restart-noclosing.jsonl"), jsonLines(t, docs), 0o644))
}

// TestReadProtoStreams: a protobuf export is read one resource_logs entry
// at a time: each entry reaches the verifier before the reader has read far
// past it (one bufio buffer), so memory is bounded by an entry, not by the
// export; a field that is not resource_logs is skipped; and an export cut
// inside an entry is reported at that entry's offset.
func TestReadProtoStreams(t *testing.T) {
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	writePEM(t, key, pub)
	docs := makeEvents(t, key, 200, 50)
	var export []byte
	var ends []int // where each resource_logs entry ends
	for _, ld := range docs {
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld) // exports one after another: one export
		require.NoError(t, err)
		export = append(export, b...)
		ends = append(ends, len(export))
	}
	require.Greater(t, len(export), 4*64<<10, "larger than the reader's buffer, several times")
	// an unknown field (number 7, length-delimited) between the entries
	export = append(export[:ends[0]:ends[0]], append([]byte{7<<3 | 2, 3, 'x', 'y', 'z'}, export[ends[0]:]...)...)
	for i := 1; i < len(ends); i++ {
		ends[i] += 5
	}

	src := &countingReader{r: bufio.NewReader(bytes.NewReader(export))}
	var stderr bytes.Buffer
	entries, records := 0, 0
	require.Zero(t, readProto(bufio.NewReaderSize(src, 64<<10), "export", func(ld plog.Logs) {
		require.LessOrEqual(t, src.n, int64(ends[entries]+2*64<<10), "entry %d: read %d bytes ahead of it", entries, src.n-int64(ends[entries]))
		entries++
		records += ld.LogRecordCount()
	}, &stderr), stderr.String())
	want := 0
	for _, ld := range docs {
		want += ld.LogRecordCount()
	}
	assert.Equal(t, len(docs), entries, "one call per resource_logs entry")
	assert.Equal(t, want, records)

	// cut inside the third entry: reported at its offset, after two entries
	stderr.Reset()
	entries = 0
	assert.Equal(t, 1, readProto(bufio.NewReader(bytes.NewReader(export[:ends[2]-3])), "cut", func(plog.Logs) { entries++ }, &stderr))
	assert.Equal(t, 2, entries)
	assert.Contains(t, stderr.String(), fmt.Sprintf("cut: offset %d: not an OTLP protobuf logs export: unexpected EOF", ends[1]))
}

// TestReadProtoClaimedSize: an entry that claims a size near the limit and
// holds a few bytes is reported as cut short, and allocates nothing like
// the size it claims.
func TestReadProtoClaimedSize(t *testing.T) {
	input := binary.AppendUvarint([]byte{1<<3 | 2}, maxProto) // resource_logs of 1 GiB...
	input = append(input, "and then the end"...)              // ...holding 16 bytes
	var stderr bytes.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	assert.Equal(t, 1, readProto(bufio.NewReader(bytes.NewReader(input)), "claimed", func(plog.Logs) { t.Error("no entry") }, &stderr))
	runtime.ReadMemStats(&after)
	assert.Contains(t, stderr.String(), "claimed: offset 0: not an OTLP protobuf logs export: unexpected EOF")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated for a 16-byte entry that claims 1 GiB")
}
