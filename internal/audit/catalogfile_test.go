package audit

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// TestStartRefusesUnsafeFiles: at start, a file that is not regular or is
// too large fails with the key, the file and why.
func TestStartRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.yaml")
	write(t, big, gadgets(1))
	for _, tc := range []struct {
		file    string
		maxSize int64
		want    string
	}{
		{fifo, DefaultMaxCatalogFileSize, "catalog_files[0]: " + fifo + ": not a regular file (a named pipe): a catalog file must be a regular file or a link to one"},
		{dir, DefaultMaxCatalogFileSize, "catalog_files[0]: " + dir + ": not a regular file (a directory)"},
		{big, 100, fmt.Sprintf("catalog_files[0]: %s: %d bytes, more than limits::max_catalog_file_size (100 bytes)", big, len(gadgets(1)))},
	} {
		cfg := NewDefaultConfig()
		cfg.BuiltinCatalogs = nil
		cfg.CatalogFiles = []string{tc.file}
		cfg.Limits.MaxCatalogFileSize = tc.maxSize
		_, err := NewLive(&cfg, zap.NewNop())
		require.Error(t, err, tc.file)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestReadTimeout: a read that hangs (a stuck network filesystem) is given
// up after limits::catalog_read_timeout, and the caller goes on.
func TestReadTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	saved := readFile
	readFile = func(string, int64) ([]byte, error) { <-release; return nil, nil }
	defer func() { readFile = saved }()
	_, err := readCatalogFile("stuck.yaml", 1<<20, 50*time.Millisecond)
	require.ErrorIs(t, err, errReadTimeout)
	assert.Equal(t, "stuck.yaml: reading took longer than limits::catalog_read_timeout (50ms)", err.Error())
}
