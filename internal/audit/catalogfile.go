package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Catalog files are read safely: a catalog file is a regular file (after
// following links), no larger than limits::max_catalog_file_size, read
// within limits::catalog_read_timeout. A FIFO, a device (/dev/zero), a
// directory or a huge file is refused with an error that says why, at
// start and on reload alike; on reload the last good catalogs stay.

// errReadTimeout is the error of a read that took longer than the timeout.
var errReadTimeout = errors.New("reading took longer than limits::catalog_read_timeout")

// readCatalogFile reads a catalog file within the limits. The read runs on
// a goroutine of its own, so that a read that hangs (a stuck network
// filesystem) holds neither the caller nor Shutdown: the caller gets
// errReadTimeout after timeout (0: no timeout), and the goroutine ends when
// the read does.
func readCatalogFile(file string, maxSize int64, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		return readFile(file, maxSize)
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1) // buffered: a late reader never blocks
	read := readFile
	go func() {
		data, err := read(file, maxSize)
		done <- result{data, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.data, r.err
	case <-t.C:
		return nil, fmt.Errorf("%s: %w (%s)", file, errReadTimeout, timeout)
	}
}

// readFile is readLimited; a test replaces it with a read that hangs.
var readFile = readLimited

// readLimited opens file without blocking (a FIFO with no writer would
// block an ordinary open), checks that what it opened is a regular file,
// and reads at most maxSize bytes of it (0: no limit).
func readLimited(file string, maxSize int64) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|openNonBlocking, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s): a catalog file must be a regular file or a link to one", file, describeMode(info.Mode()))
	}
	if maxSize > 0 && info.Size() > maxSize {
		return nil, fmt.Errorf("%s: %d bytes, more than limits::max_catalog_file_size (%d bytes)", file, info.Size(), maxSize)
	}
	r := io.Reader(f)
	if maxSize > 0 {
		r = io.LimitReader(f, maxSize+1) // the file may grow after Stat
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if maxSize > 0 && int64(len(data)) > maxSize {
		return nil, fmt.Errorf("%s: more than limits::max_catalog_file_size (%d bytes)", file, maxSize)
	}
	return data, nil
}

func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}
