package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gadgets is a catalog with routes /v1/gadgets and, from version 2 on,
// /v1/widgets.
func gadgets(version int) string {
	s := fmt.Sprintf(`service: gadgets
display_name: Gadgets v%d
events:
  - {action: gadgets.gadget.create, method: POST, route: /v1/gadgets, description: Create a gadget (v%d)}
`, version, version)
	if version >= 2 {
		s += "  - {action: gadgets.widget.create, method: POST, route: /v1/widgets, description: Create a widget}\n"
	}
	return s
}

// liveHarness is a Live on one catalog file, with its reloads counted and
// its logs observed.
type liveHarness struct {
	live     *Live
	logs     *observer.ObservedLogs
	mu       sync.Mutex
	ok, fail int
}

func newLiveHarness(t *testing.T, file string, poll time.Duration) *liveHarness {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.PollInterval = poll
	core, logs := observer.New(zapcore.InfoLevel)
	live, err := NewLive(&cfg, zap.New(core))
	require.NoError(t, err)
	h := &liveHarness{live: live, logs: logs}
	live.onReload = func(ok bool) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if ok {
			h.ok++
		} else {
			h.fail++
		}
	}
	require.NoError(t, live.Start())
	t.Cleanup(live.Shutdown)
	return h
}

func (h *liveHarness) counts() (ok, fail int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok, h.fail
}

// action is what the catalogs in force make of POST path.
func (h *liveHarness) action(path string) string {
	attrs := pcommon.NewMap()
	attrs.PutStr("http.request.method", "POST")
	attrs.PutStr("url.path", path)
	m := h.live.Auditor().Match(attrs, nil, "")
	if m.Result != Matched {
		return ""
	}
	return m.Event.Action
}

// waitFor waits up to a few seconds for the reload counts to reach ok and
// fail; reloads take a fraction of a second.
func (h *liveHarness) waitFor(t *testing.T, ok, fail int) {
	t.Helper()
	require.Eventually(t, func() bool {
		o, f := h.counts()
		return o == ok && f == fail
	}, 5*time.Second, 20*time.Millisecond, "reloads: want %d ok, %d failed", ok, fail)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// TestReloadInPlace: an editor writing the file in place.
func TestReloadInPlace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	write(t, file, gadgets(1))
	h := newLiveHarness(t, file, 0) // notifications only
	assert.Equal(t, "", h.action("/v1/widgets"))
	before := h.live.InForce()[file]
	write(t, file, gadgets(2))
	h.waitFor(t, 1, 0)
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"))
	assert.NotEqual(t, before, h.live.InForce()[file], "the hash in force follows the content")
	assert.Equal(t, 1, h.logs.FilterMessage("Catalogs reloaded").Len())
}

// TestReloadRename: write to a temporary file, then rename it over the catalog.
func TestReloadRename(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gadgets.yaml")
	write(t, file, gadgets(1))
	h := newLiveHarness(t, file, 0)
	tmp := filepath.Join(dir, ".gadgets.yaml.tmp")
	write(t, tmp, gadgets(2))
	require.NoError(t, os.Rename(tmp, file))
	h.waitFor(t, 1, 0)
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"))
}

// configMap lays a directory out as the kubelet mounts a ConfigMap: the
// file is a symlink through ..data to a timestamped directory, and an
// update swaps ..data atomically (a new symlink renamed over it).
type configMap struct {
	t   *testing.T
	dir string
	n   int
}

func newConfigMap(t *testing.T, name, content string) (*configMap, string) {
	c := &configMap{t: t, dir: t.TempDir()}
	c.update(name, content)
	file := filepath.Join(c.dir, name)
	require.NoError(t, os.Symlink(filepath.Join("..data", name), file))
	return c, file
}

func (c *configMap) update(name, content string) {
	c.n++
	ts := fmt.Sprintf("..2026_11_27_12_00_%02d.%d", c.n, c.n)
	require.NoError(c.t, os.Mkdir(filepath.Join(c.dir, ts), 0o755))
	write(c.t, filepath.Join(c.dir, ts, name), content)
	tmp := filepath.Join(c.dir, "..data_tmp")
	require.NoError(c.t, os.Symlink(ts, tmp))
	require.NoError(c.t, os.Rename(tmp, filepath.Join(c.dir, "..data")))
}

// TestReloadConfigMap: the Kubernetes ConfigMap swap, where the file's own
// name never appears in a notification.
func TestReloadConfigMap(t *testing.T) {
	cm, file := newConfigMap(t, "gadgets.yaml", gadgets(1))
	h := newLiveHarness(t, file, 0)
	cm.update("gadgets.yaml", gadgets(2))
	h.waitFor(t, 1, 0)
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"))
}

// TestReloadPolling: the poll finds a change no notification told of (one
// made before the watcher started, as on a filesystem that sends none).
func TestReloadPolling(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	write(t, file, gadgets(1))
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.PollInterval = 50 * time.Millisecond
	live, err := NewLive(&cfg, zap.NewNop())
	require.NoError(t, err)
	write(t, file, gadgets(2)) // before the watcher starts: no notification
	reloaded := make(chan bool, 4)
	live.onReload = func(ok bool) { reloaded <- ok }
	require.NoError(t, live.Start())
	defer live.Shutdown()
	select {
	case ok := <-reloaded:
		assert.True(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("the poll did not find the change")
	}
}

// TestReloadPollingUnchanged: polls (and notifications of other files in
// the watched directory) of unchanged catalog files read and hash them but
// neither parse nor compile them; a change compiles once.
func TestReloadPollingUnchanged(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gadgets.yaml")
	write(t, file, gadgets(1))
	h := newLiveHarness(t, file, 10*time.Millisecond)
	for i := 0; i < 5; i++ {
		write(t, filepath.Join(dir, "other.log"), fmt.Sprintf("line %d\n", i))
		time.Sleep(40 * time.Millisecond)
	}
	assert.EqualValues(t, 1, h.live.compiles.Load(), "compiled again without a change")
	write(t, file, gadgets(2))
	h.waitFor(t, 1, 0)
	time.Sleep(100 * time.Millisecond)
	assert.EqualValues(t, 2, h.live.compiles.Load())
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"))
}

// TestReloadFailures: invalid YAML, a route conflict, a region the
// services overrides name that the new catalog lacks, and a deleted file
// are not used: the last good catalogs stay, each failure is logged once
// and counted; a good file then loads.
func TestReloadFailures(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gadgets.yaml")
	write(t, file, gadgets(2))
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.PollInterval = 0
	withRegions := gadgets(2) + "regions:\n  - {id: eu-de, name: Frankfurt, sends_events: true}\n"
	write(t, file, withRegions)
	cfg.Services = map[string]ServiceConfig{"gadgets": {Regions: []string{"eu-de"}}}
	core, logs := observer.New(zapcore.InfoLevel)
	live, err := NewLive(&cfg, zap.New(core))
	require.NoError(t, err)
	var mu sync.Mutex
	var results []bool
	live.onReload = func(ok bool) { mu.Lock(); results = append(results, ok); mu.Unlock() }
	require.NoError(t, live.Start())
	defer live.Shutdown()
	good := live.InForce()[file]
	h := &liveHarness{live: live}
	want := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(results) == n }, 5*time.Second, 20*time.Millisecond)
	}
	for i, bad := range []struct{ name, content, log string }{
		{"invalid YAML", "service: gadgets\nevents: [", "yaml"},
		{"conflict", gadgets(2) + "  - {action: gadgets.gadget.copy, method: POST, route: /v1/gadgets}\n" + "regions:\n  - {id: eu-de, name: Frankfurt, sends_events: true}\n", "duplicate route"},
		{"unknown region", gadgets(2) + "regions:\n  - {id: us-south, name: Dallas, sends_events: true}\n", `services::gadgets::regions[0]: unknown region id "eu-de"`},
	} {
		write(t, file, bad.content)
		want(i + 1)
		assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"), bad.name)
		assert.Equal(t, good, live.InForce()[file], "%s: the content in force is the last good one", bad.name)
		entries := logs.FilterMessage("A changed catalog file does not load; the last good catalogs stay in force").All()
		require.Len(t, entries, i+1, bad.name)
		assert.Contains(t, fmt.Sprint(entries[i].ContextMap()["error"]), bad.log, bad.name)
	}
	require.NoError(t, os.Remove(file))
	want(4)
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"), "deleted")
	write(t, file, withRegions)
	want(5)
	mu.Lock()
	assert.Equal(t, []bool{false, false, false, false, true}, results)
	mu.Unlock()
	assert.Equal(t, 1, logs.FilterMessage("Catalogs reloaded").Len())
	assert.Equal(t, 4, logs.FilterMessage("A changed catalog file does not load; the last good catalogs stay in force").Len(), "each failure logged once")
}

// TestReloadDisabled: reload.enabled false starts no watcher.
func TestReloadDisabled(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	write(t, file, gadgets(1))
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.Enabled = false
	live, err := NewLive(&cfg, zap.NewNop())
	require.NoError(t, err)
	require.NoError(t, live.Start())
	assert.Nil(t, live.stop, "no watcher")
	live.Shutdown()
}

// TestReloadRefusesUnsafeFiles: the catalog file, a link as in a ConfigMap,
// is pointed at /dev/zero, a FIFO with no writer, a 100 MB file and a
// directory. Each is refused for what it is, logged once and counted as a
// failed reload; the last good catalogs stay; a valid file then applies;
// Shutdown returns at once.
func TestReloadRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	write(t, good, gadgets(1))
	file := filepath.Join(dir, "gadgets.yaml")
	require.NoError(t, os.Symlink(good, file))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(100<<20)) // sparse: 100 MB that take no disk
	require.NoError(t, f.Close())
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))

	h := newLiveHarness(t, file, 0)
	live, logs := h.live, h.logs
	point := func(target string) {
		tmp := filepath.Join(dir, "link.tmp")
		require.NoError(t, os.Symlink(target, tmp))
		require.NoError(t, os.Rename(tmp, file))
	}
	const refused = "A changed catalog file does not load; the last good catalogs stay in force"
	for i, bad := range []struct{ target, why string }{
		{"/dev/zero", "not a regular file (a character device)"},
		{fifo, "not a regular file (a named pipe)"},
		{huge, "104857600 bytes, more than limits::max_catalog_file_size (16777216 bytes)"},
		{sub, "not a regular file (a directory)"},
	} {
		point(bad.target)
		h.waitFor(t, 0, i+1)
		assert.Equal(t, "gadgets.gadget.create", h.action("/v1/gadgets"), bad.target)
		entries := logs.FilterMessage(refused).All()
		require.Len(t, entries, i+1, "%s: logged once", bad.target)
		assert.Contains(t, fmt.Sprint(entries[i].ContextMap()["error"]), bad.why, bad.target)
	}
	v2 := filepath.Join(dir, "v2.yaml")
	write(t, v2, gadgets(2))
	point(v2)
	h.waitFor(t, 1, 4)
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"), "a valid swap applies after the refusals")

	done := make(chan struct{})
	go func() { live.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown hangs")
	}
}
