//go:build !unix

package audit

// openNonBlocking: no such flag here; a FIFO is refused by the read's
// timeout instead.
const openNonBlocking = 0
