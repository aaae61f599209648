package audit

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// TestSharedLiveStartsFresh: components configured alike share one Live;
// one created and never started or shut down (its pipeline failed to
// build) keeps it registered, and the file changes meanwhile: the next
// component's Start reads the file again, and the watcher stops with the
// last Shutdown of the components that started it.
func TestSharedLiveStartsFresh(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gadgets.yaml")
	write(t, file, gadgets(1))
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{file}
	cfg.Reload.PollInterval = 0
	abandoned, err := Acquire(&cfg, zap.NewNop())
	require.NoError(t, err)
	write(t, file, gadgets(2))
	a, err := Acquire(&cfg, zap.NewNop())
	require.NoError(t, err)
	b, err := Acquire(&cfg, zap.NewNop())
	require.NoError(t, err)
	require.Same(t, abandoned, a, "one Live per configuration")
	require.Same(t, a, b)
	h := &liveHarness{live: a}
	assert.Equal(t, "", h.action("/v1/widgets"), "loaded when first acquired")
	require.NoError(t, a.Start())
	require.NoError(t, b.Start())
	assert.Equal(t, "gadgets.widget.create", h.action("/v1/widgets"), "read again at start")
	a.Shutdown()
	assert.NotNil(t, a.stop, "the watcher runs while a component that started it runs")
	b.Shutdown()
	assert.Nil(t, a.stop, "and stops with the last")
	a.Release()
	b.Release()
	abandoned.Release()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	assert.NotContains(t, registry.m, a.key, "forgotten with the last Release")
}
