package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// victoriaLogsDist is VictoriaLogs, the log store of TestVictoriaLogs:
// $AUDIT_VICTORIALOGS (what `make test-e2e` sets), or else the one
// `make -f build/dist.mk victoria-logs` installs, pinned there.
var victoriaLogsDist = &distribution{env: "AUDIT_VICTORIALOGS", target: "victoria-logs", bin: "bin/victoria-logs"}

// victoriaLogs is a running VictoriaLogs.
type victoriaLogs struct {
	cmd *exec.Cmd
	url string // http://127.0.0.1:PORT
	log *bytes.Buffer
}

// serverStarted is the line VictoriaLogs logs when it listens: the address
// it got for -httpListenAddr=127.0.0.1:0.
var serverStarted = regexp.MustCompile(`started server at (http://127\.0\.0\.1:\d+)/`)

// startVictoriaLogs runs VictoriaLogs on a port of its own choosing over
// dataDir and waits until it says where it listens. It saves what it
// accepted to disk every flushInterval (its default is 5s): a kill loses
// what came since.
func startVictoriaLogs(t *testing.T, bin, dataDir string, flushInterval time.Duration) *victoriaLogs {
	t.Helper()
	cmd := exec.Command(bin, "-httpListenAddr=127.0.0.1:0", "-storageDataPath="+dataDir, "-loggerLevel=INFO",
		"-inmemoryDataFlushInterval="+flushInterval.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())
	vl := &victoriaLogs{cmd: cmd, log: new(bytes.Buffer)}
	found := make(chan string, 1)
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			vl.log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := serverStarted.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { vl.kill() })
	select {
	case vl.url = <-found:
	case <-time.After(30 * time.Second):
		vl.kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("VictoriaLogs did not say where it listens within 30s:\n%s", vl.log)
	}
	return vl
}

// kill ends VictoriaLogs with SIGKILL: what it had not flushed is lost.
func (vl *victoriaLogs) kill() {
	if vl.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-vl.cmd.Process.Pid, syscall.SIGKILL)
	_ = vl.cmd.Wait()
}

// query returns what LogsQL's query API answers for all rows: JSON lines.
func (vl *victoriaLogs) query(t *testing.T) []byte {
	t.Helper()
	resp, err := plainClient.Get(vl.url + "/select/logsql/query?query=" + url.QueryEscape("*"))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return body
}

// rows reads the query's JSON lines.
func rows(t *testing.T, out []byte) []map[string]string {
	t.Helper()
	var rs []map[string]string
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]string
		require.NoError(t, json.Unmarshal(line, &r), "%s", line)
		rs = append(rs, r)
	}
	return rs
}

// storeProxy passes the collector's OTLP requests on to the VictoriaLogs
// of the moment (its address changes when it is started again) and notes
// the sequence numbers of the events in every request the store
// acknowledged.
type storeProxy struct {
	target atomic.Pointer[string]
	mu     sync.Mutex
	acked  map[int64]bool
	lastCP int64 // the highest last of an acknowledged checkpoint
}

func (p *storeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, *p.target.Load()+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, h := range []string{"Content-Type", "Content-Encoding"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway) // the store is down: the exporter retries
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 {
		p.note(r.Header.Get("Content-Encoding"), body)
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// note records the events and checkpoints of an acknowledged request.
func (p *storeProxy) note(encoding string, body []byte) {
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			return
		}
	}
	req := plogotlp.NewExportRequest()
	if req.UnmarshalProto(body) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rl := range req.Logs().ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				switch lr.EventName() {
				case "audit.event":
					if v, ok := lr.Attributes().Get("audit.chain.seq"); ok {
						p.acked[v.Int()] = true
					}
				case "audit.checkpoint":
					if v, ok := lr.Body().Map().Get("last"); ok {
						p.lastCP = max(p.lastCP, v.Int())
					}
				}
			}
		}
	}
}

func (p *storeProxy) snapshot() (acked []int64, lastCP int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.acked {
		acked = append(acked, s)
	}
	slices.Sort(acked)
	return acked, p.lastCP
}

// chainReport is the part of `auditcatalog verify --json` this test reads.
type chainReport struct {
	Chain         string `json:"chain"`
	Events        int    `json:"events"`
	Verified      int    `json:"verified"`
	Unlinked      int    `json:"unlinked"`
	Missing       []struct{ From, To int64 }
	MissingEvents int `json:"missing_events"`
	AlteredEvents int `json:"altered_events"`
	Checkpoints   int `json:"checkpoints"`
	BadSignatures int `json:"bad_signatures"`
	UnsignedTail  int `json:"unsigned_tail"`
}

// verifyStore runs auditcatalog verify on what the store's query API
// returned and returns its report and exit status.
func verifyStore(t *testing.T, tool, pub, file string) (chainReport, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, "verify", "--json", "--key", pub, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	var rep struct {
		Chains         []chainReport `json:"chains"`
		Unchained      int           `json:"unchained_events"`
		MalformedInput int           `json:"malformed_input"`
	}
	require.NoError(t, json.Unmarshal(out, &rep), "verify: %s\n%s", out, stderr.String())
	require.Len(t, rep.Chains, 1, "%s", out)
	assert.Zero(t, rep.Unchained, "%s", out)
	assert.Zero(t, rep.MalformedInput, "%s\n%s", out, stderr.String())
	return rep.Chains[0], code
}

// writeKeyPair writes an Ed25519 key pair: PKCS #8 and PKIX, PEM.
func writeKeyPair(t *testing.T, dir string) (priv, pub string) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	priv, pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub.pem")
	require.NoError(t, os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	der, err = x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	return priv, pub
}

// seqsOf returns the sequence numbers of the events among the rows.
func seqsOf(t *testing.T, rs []map[string]string) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	for _, r := range rs {
		if r["event_name"] != "audit.event" {
			continue
		}
		s, err := strconv.ParseInt(r["audit.chain.seq"], 10, 64)
		require.NoError(t, err, "%v", r)
		out[s] = true
	}
	return out
}

// TestVictoriaLogs: the distribution sends its events, with integrity,
// through otlp_http to VictoriaLogs, which flattens each body into
// top-level fields and answers LogsQL queries with strings; what its query
// API returns verifies, with nothing missing. Then the store is killed
// (SIGKILL) while events flow: it loses events it had acknowledged (it
// flushes what it accepted every few seconds), which nothing in the
// pipeline can see; verify names exactly those sequence numbers.
func TestVictoriaLogs(t *testing.T) {
	binary := collectorBinary(t)
	vlBin := victoriaLogsDist.binary(t)
	tool := auditcatalogBinary(t)
	dir := t.TempDir()
	priv, pub := writeKeyPair(t, dir)
	data := filepath.Join(dir, "vlogs")

	// The store saves every 30s rather than 5s, so that the kill below,
	// seconds after the first event, loses for certain what it acknowledged.
	const flush = 30 * time.Second
	vl := startVictoriaLogs(t, vlBin, data, flush)
	proxy := &storeProxy{acked: map[int64]bool{}}
	proxy.target.Store(&vl.url)
	front := httptest.NewServer(proxy) // 127.0.0.1:0
	t.Cleanup(front.Close)
	records := startBackend(t, "")
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: exampleConfig,
		ExportEndpoint: records.URL, EventsEndpoint: front.URL + "/insert/opentelemetry",
		Overrides: []string{fastRetry, fmt.Sprintf(`
connectors:
  audit:
    integrity:
      private_key_file: %s
      checkpoint_interval: 500ms
      checkpoint_events: 10
`, priv)},
		Env: []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
	})
	base := "http://" + col.HTTPEndpoint
	send := func() {
		require.NoError(t, harness.ExportTraces(t.Context(), plainClient, base, auditedSpan(newTraceID())))
	}

	// Everything arrives: the store's answer verifies.
	const first = 30
	for range first {
		send()
	}
	waitFor(t, 30*time.Second, "the store to hold every event and a checkpoint over them", func() (bool, string) {
		rs := rows(t, vl.query(t))
		seqs := seqsOf(t, rs)
		_, lastCP := proxy.snapshot()
		return len(seqs) == first && lastCP >= first, fmt.Sprintf("%d events stored, checkpoint up to %d", len(seqs), lastCP)
	})
	out := filepath.Join(dir, "query1.jsonl")
	require.NoError(t, os.WriteFile(out, vl.query(t), 0o644))
	rep, code := verifyStore(t, tool, pub, out)
	assert.Equal(t, 0, code, "%+v", rep)
	assert.Equal(t, first, rep.Events)
	assert.Equal(t, first, rep.Verified)
	assert.Zero(t, rep.MissingEvents)
	assert.Zero(t, rep.AlteredEvents)
	assert.Zero(t, rep.BadSignatures)
	assert.Positive(t, rep.Checkpoints)

	// Events flow; the store is killed right after it acknowledged some.
	stop := make(chan struct{})
	var sending sync.WaitGroup
	var sent atomic.Int64 // spans the collector accepted: each is one event of the chain
	sent.Store(first)
	sending.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if harness.ExportTraces(t.Context(), plainClient, base, auditedSpan(newTraceID())) != nil {
				return
			}
			sent.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	})
	waitFor(t, 30*time.Second, "the store to acknowledge more events", func() (bool, string) {
		acked, _ := proxy.snapshot()
		return len(acked) >= first+60, fmt.Sprintf("%d acknowledged", len(acked))
	})
	vl.kill()
	time.Sleep(time.Second) // events go on: the exporter queues and retries them
	vl = startVictoriaLogs(t, vlBin, data, flush)
	proxy.target.Store(&vl.url)
	close(stop)
	sending.Wait()

	// The exporter's queue drains into the store (retries fill what the
	// kill refused), and a checkpoint signs the chain's head: the store has
	// acknowledged every event the collector made, one per span it
	// accepted, and a checkpoint over them all.
	total := sent.Load()
	var acked []int64
	var lastCP int64
	waitFor(t, 60*time.Second, "every event acknowledged and a checkpoint over them", func() (bool, string) {
		acked, lastCP = proxy.snapshot()
		n := int64(len(acked))
		return n == total && acked[n-1] == total && lastCP >= total,
			fmt.Sprintf("%d of %d acknowledged, checkpoint up to %d", n, total, lastCP)
	})
	require.NoError(t, col.Stop(30*time.Second))
	var stored map[int64]bool
	waitFor(t, 30*time.Second, "the store to answer with what it kept", func() (bool, string) {
		rs := rows(t, vl.query(t))
		stored = seqsOf(t, rs)
		cps := 0
		for _, r := range rs {
			if r["event_name"] == "audit.checkpoint" && r["last"] == strconv.FormatInt(lastCP, 10) {
				cps++
			}
		}
		return cps > 0, fmt.Sprintf("%d events, no checkpoint up to %d yet", len(stored), lastCP)
	})
	out = filepath.Join(dir, "query2.jsonl")
	require.NoError(t, os.WriteFile(out, vl.query(t), 0o644))
	rep, code = verifyStore(t, tool, pub, out)

	// Lost: acknowledged by the store, and not in its answer.
	var lost []int64
	for _, s := range acked {
		if !stored[s] {
			lost = append(lost, s)
		}
	}
	var named []int64
	for _, m := range rep.Missing {
		for s := m.From; s <= m.To; s++ {
			named = append(named, s)
		}
	}
	t.Logf("the store acknowledged %d events and lost %d of them in the kill; verify names %v", len(acked), len(lost), rep.Missing)
	require.NotEmpty(t, lost, "the store lost nothing it had acknowledged: the kill came after a flush")
	assert.Equal(t, lost, named, "verify names exactly the events the store lost")
	assert.Equal(t, 1, code)
	assert.Zero(t, rep.AlteredEvents, "what the store kept is intact")
	assert.Zero(t, rep.BadSignatures)
	assert.Equal(t, rep.Events, rep.Verified+rep.Unlinked, "every kept event links, or follows a gap")
	assert.Zero(t, rep.UnsignedTail)
	if t.Failed() {
		t.Logf("VictoriaLogs log:\n%s", strings.TrimSpace(vl.log.String()))
	}
}
