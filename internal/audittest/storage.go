package audittest

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// MemStorage is a storage extension's data in memory, for the audit
// connector's chain state (integrity.storage): a test that restarts a
// connector as after a crash gives the new one a Snapshot taken at the
// crash. FailSet makes every write fail.
type MemStorage struct {
	mu      sync.Mutex
	data    map[string][]byte
	FailSet atomic.Bool
}

// NewMemStorage returns an empty storage.
func NewMemStorage() *MemStorage { return &MemStorage{data: map[string][]byte{}} }

// Snapshot is a copy of what s holds now.
func (s *MemStorage) Snapshot() *MemStorage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &MemStorage{data: maps.Clone(s.data)}
}

// Put sets a raw value, by the key the file storage would use (a
// client's kind/ID/name/ before the client's key).
func (s *MemStorage) Put(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
}

// Extension is a storage extension over s.
func (s *MemStorage) Extension() storage.Extension { return &memExtension{s: s} }

type memExtension struct {
	component.StartFunc
	component.ShutdownFunc
	s *MemStorage
}

func (e *memExtension) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	return &memClient{s: e.s, prefix: kind.String() + "/" + id.String() + "/" + name + "/"}, nil
}

type memClient struct {
	s      *MemStorage
	prefix string
}

func (c *memClient) Get(_ context.Context, key string) ([]byte, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.data[c.prefix+key], nil
}

func (c *memClient) Set(_ context.Context, key string, value []byte) error {
	if c.s.FailSet.Load() {
		return errors.New("disk full")
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.data[c.prefix+key] = append([]byte(nil), value...)
	return nil
}

func (c *memClient) Delete(_ context.Context, key string) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	delete(c.s.data, c.prefix+key)
	return nil
}

func (c *memClient) Batch(context.Context, ...*storage.Operation) error {
	return errors.New("not used by the audit connector")
}

func (c *memClient) Close(context.Context) error { return nil }

// Host is a component.Host with the extensions a test gives it.
type Host map[component.ID]component.Component

// GetExtensions returns h.
func (h Host) GetExtensions() map[component.ID]component.Component { return h }
