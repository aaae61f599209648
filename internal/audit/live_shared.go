package audit

import (
	"context"
	"encoding/json"
	"sync"

	"go.uber.org/zap"
)

// One catalog state per configuration. The collector creates a component
// instance per signal and per edge: the processor's traces and logs
// instances, and the connector's traces-to-logs and logs-to-logs ones. Each
// used to read, compile and watch the catalogs on its own, so a reload
// reached them at different moments (a span's action could differ from
// its own event's) and every compile was paid once per instance. As the
// core memorylimiter shares one limiter per configuration, Acquire shares
// one Live among every instance configured alike (the processor's and the
// connector's shared keys equal): one read, one compile, one watcher, one
// swap that every pipeline sees at once, counted once per component kind.
//
// One moment is not enough by itself: the processor and a connector after
// it read the Live at different times. So the processor pins the Auditor it
// decided a batch with into the batch's context (Pin), and a component
// after it in the same call chain, with the same Live, decides with that
// one (For). A client cannot set a context value over OTLP.

// registry holds the shared Lives by configuration.
var registry = struct {
	mu sync.Mutex
	m  map[string]*Live
}{m: map[string]*Live{}}

// Acquire returns the Live of a configuration: the one that a component
// configured alike acquired and has not released, else a new one (loaded
// here; its errors are NewLive's). Every Acquire is matched by a Release.
func Acquire(cfg *Config, logger *zap.Logger) (*Live, error) {
	b, err := json.Marshal(cfg) // maps are written in key order: equal configurations give equal keys
	if err != nil {
		return nil, err
	}
	key := string(b)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if l := registry.m[key]; l != nil {
		l.refs++
		return l, nil
	}
	l, err := NewLive(cfg, logger)
	if err != nil {
		return nil, err
	}
	l.key, l.refs = key, 1
	registry.m[key] = l
	return l, nil
}

// Release gives back an acquired Live (a component that started it shuts
// it down first); the last Release forgets it, so that a later Acquire
// loads the catalogs again.
func (l *Live) Release() {
	if l.key == "" {
		return
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if l.refs--; l.refs == 0 && registry.m[l.key] == l {
		delete(registry.m, l.key)
	}
}

// pinKey is the context key of a pinned Auditor.
type pinKey struct{}

type pinned struct {
	live *Live
	a    *Auditor
}

// Pin returns a context that carries the Auditor in force now, for this
// Live, and that Auditor. A context that already carries one of this Live
// is returned as it is, with its Auditor.
func (l *Live) Pin(ctx context.Context) (context.Context, *Auditor) {
	if p, ok := ctx.Value(pinKey{}).(pinned); ok && p.live == l {
		return ctx, p.a
	}
	a := l.Auditor()
	return context.WithValue(ctx, pinKey{}, pinned{l, a}), a
}

// For returns the Auditor pinned in the context for this Live, else the
// one in force.
func (l *Live) For(ctx context.Context) *Auditor {
	if p, ok := ctx.Value(pinKey{}).(pinned); ok && p.live == l {
		return p.a
	}
	return l.Auditor()
}
