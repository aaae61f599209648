package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Live holds the catalogs in force and replaces them when a catalog file
// changes: the changed files are read, checked and compiled off the hot
// path (Load, with the same errors as at start), then swapped in with one
// pointer store. A component reads the pointer once per batch, so every
// record of a batch is decided by one catalog, old or new. A new catalog
// that fails to load is not used: the last good catalogs stay in force.
type Live struct {
	cfg     Config
	logger  *zap.Logger
	current atomic.Pointer[Auditor]
	// onReload is told of every reload of new content (ok false: it failed
	// and the last good catalogs stay); by default it tells the listeners.
	onReload func(ok bool)

	// key is the configuration's key in the shared registry ("" for a Live
	// of its own), refs the components that acquired it, and listeners the
	// reload counters of those components (see Instrument).
	key       string
	refs      int
	listeners []*listener
	// life guards running (the Starts not yet shut down) and the watcher.
	life    sync.Mutex
	running int

	mu       sync.Mutex
	inForce  map[string]string // catalog file: SHA-256 of the content in force
	lastSeen map[string]string // the content last tried (good or bad)
	// compiles counts the catalogs parsed and compiled (for the tests: a
	// check of unchanged files compiles nothing).
	compiles atomic.Int64
	// evicted counts the service names evicted from the Auditors' caches.
	evicted atomic.Int64
	// warned: the start's warnings are given once for every component that
	// acquired this Live (WarnUnauthenticated).
	warned sync.Once

	stop chan struct{}
	done chan struct{}
}

// debounce gathers the notifications of one update (an editor's write and
// rename, a ConfigMap's swap) into one reload.
const debounce = 100 * time.Millisecond

// NewLive loads the configured catalogs.
func NewLive(cfg *Config, logger *zap.Logger) (*Live, error) {
	l := &Live{cfg: *cfg, logger: logger}
	l.onReload = l.tell
	a, hashes, err := l.loadNow()
	if err != nil {
		return nil, err
	}
	l.current.Store(a)
	l.inForce, l.lastSeen = hashes, hashes
	return l, nil
}

// Auditor returns the catalogs in force; read it once per batch.
func (l *Live) Auditor() *Auditor { return l.current.Load() }

// InForce returns the SHA-256, in hex, of each catalog file's content in force.
func (l *Live) InForce() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.inForce))
	for k, v := range l.inForce {
		out[k] = v
	}
	return out
}

// loadNow reads every catalog file once, loads them and returns the
// content's hashes.
func (l *Live) loadNow() (*Auditor, map[string]string, error) {
	files, hashes := l.read()
	a, err := l.load(files)
	return a, hashes, err
}

// read reads every catalog file once and returns what it read (the content,
// or the error) and the SHA-256 of each content, in hex; an unreadable file
// hashes to its error.
func (l *Live) read() (map[string]fileRead, map[string]string) {
	files := make(map[string]fileRead, len(l.cfg.CatalogFiles))
	hashes := make(map[string]string, len(l.cfg.CatalogFiles))
	for _, file := range l.cfg.CatalogFiles {
		data, err := readCatalogFile(file, l.cfg.Limits.MaxCatalogFileSize, l.cfg.Limits.CatalogReadTimeout)
		files[file] = fileRead{data, err}
		if err != nil {
			hashes[file] = "unreadable: " + err.Error()
			continue
		}
		sum := sha256.Sum256(data)
		hashes[file] = hex.EncodeToString(sum[:])
	}
	return files, hashes
}

type fileRead struct {
	data []byte
	err  error
}

// load parses and compiles the catalogs from what read read.
func (l *Live) load(files map[string]fileRead) (*Auditor, error) {
	l.compiles.Add(1)
	a, err := load(&l.cfg, func(file string) ([]byte, error) {
		f := files[file]
		return f.data, f.err
	})
	if a != nil {
		a.scopes.names.evicted = &l.evicted
	}
	return a, err
}

// listener is one component's reload counter.
type listener struct {
	kind     string
	onReload func(ok bool)
}

// Instrumentation is a component's instruments of its live catalogs, from
// its mdatagen telemetry builder.
type Instrumentation struct {
	// Reloads counts the reloads, by result.
	Reloads metric.Int64Counter
	// InForce and Evicted register the callbacks of the gauge of the
	// content in force and of the counter of evicted service names.
	InForce, Evicted func(metric.Int64Callback) error
}

// Instrument counts the reloads with in.Reloads and reports the content in
// force and the evicted service names through in's callbacks. kind names
// the component kind ("processor", "connector"): when several components
// of one kind share the Live (a processor's traces and logs instances), a
// reload is counted once, by the first of them still running. It returns
// the function that stops the counting, for the component's Shutdown.
func (l *Live) Instrument(kind string, in Instrumentation) (func(), error) {
	success := metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "success")))
	failure := metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "failure")))
	ln := &listener{kind: kind, onReload: func(ok bool) {
		opt := failure
		if ok {
			opt = success
		}
		in.Reloads.Add(context.Background(), 1, opt)
	}}
	err := in.InForce(func(_ context.Context, o metric.Int64Observer) error {
		for file, sum := range l.InForce() {
			o.Observe(1, metric.WithAttributes(attribute.String("catalog_file", file), attribute.String("sha256", sum)))
		}
		return nil
	})
	if err == nil {
		err = in.Evicted(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(l.Evicted())
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.listeners = append(l.listeners, ln)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.listeners = slices.DeleteFunc(l.listeners, func(x *listener) bool { return x == ln })
	}, nil
}

// tell counts a reload once per kind of listener. It runs with l.mu held.
func (l *Live) tell(ok bool) {
	var told []string
	for _, ln := range l.listeners {
		if !slices.Contains(told, ln.kind) {
			told = append(told, ln.kind)
			ln.onReload(ok)
		}
	}
}

// Evicted returns how many service names the Auditors evicted from their
// bounded caches (limits.service_name_cache_size), across reloads.
func (l *Live) Evicted() int64 { return l.evicted.Load() }

// Start watches the catalog files when reload is enabled and there are
// some. Shutdown stops it.
//
// A shared Live runs while any component that started it runs: Start and
// Shutdown are counted, and the first Start (also after a Shutdown of
// every component) reads the files again, so that a Live that waited
// between its components' creation and their start begins with the
// files' content at start.
func (l *Live) Start() error {
	l.life.Lock()
	defer l.life.Unlock()
	if l.running++; l.running > 1 {
		return nil
	}
	if l.stop != nil || !l.cfg.Reload.Enabled || len(l.cfg.CatalogFiles) == 0 {
		return nil
	}
	l.check()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	var dirs []string
	for _, f := range l.cfg.CatalogFiles {
		dir := filepath.Dir(f)
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		// the directory, not the file: a rename over the file and a
		// ConfigMap's ..data swap never name the file itself
		if err := w.Add(dir); err != nil {
			_ = w.Close()
			return err
		}
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.watch(w)
	return nil
}

// Shutdown undoes a Start; the last one stops the watcher and waits for it.
func (l *Live) Shutdown() {
	l.life.Lock()
	defer l.life.Unlock()
	if l.running == 0 {
		return
	}
	if l.running--; l.running > 0 || l.stop == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.stop = nil
}

func (l *Live) watch(w *fsnotify.Watcher) {
	defer close(l.done)
	defer w.Close()
	var poll <-chan time.Time
	if p := l.cfg.Reload.PollInterval; p > 0 {
		t := time.NewTicker(p)
		defer t.Stop()
		poll = t.C
	}
	var settle <-chan time.Time
	for {
		select {
		case <-l.stop:
			return
		case _, ok := <-w.Events:
			if !ok {
				return
			}
			if settle == nil { // from the first notification: a stream of them still reloads
				settle = time.After(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			l.logger.Warn("Watching the catalog files failed; polling goes on", zap.Error(err))
		case <-settle:
			settle = nil
			l.check()
		case <-poll:
			l.check()
		}
	}
}

// check reloads the catalogs when a file's content differs from the
// content last tried. The files are read and hashed first: unchanged content (every poll, and
// every notification of another file in a watched directory) is neither
// parsed nor compiled again. check runs on the watcher's goroutine only.
func (l *Live) check() {
	files, hashes := l.read()
	l.mu.Lock()
	same := maps.Equal(hashes, l.lastSeen)
	l.mu.Unlock()
	if same {
		return // nothing new (or the same bad content again: logged once)
	}
	a, err := l.load(files)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastSeen = hashes
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = errors.Join(err, errors.New("a catalog file is missing"))
		}
		l.logger.Error("A changed catalog file does not load; the last good catalogs stay in force", zap.Error(err))
		l.onReload(false)
		return
	}
	l.current.Store(a)
	l.inForce = hashes
	l.logger.Info("Catalogs reloaded", zap.Strings("catalog_files", l.cfg.CatalogFiles))
	l.onReload(true)
}
