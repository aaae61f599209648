//go:build unix

package audit

import "syscall"

// openNonBlocking opens a FIFO without waiting for a writer; it changes
// nothing for a regular file.
const openNonBlocking = syscall.O_NONBLOCK
