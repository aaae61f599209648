//go:build unix

package audittest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user and system) the process has used so far.
// A benchmark on a shared machine reports work per CPU second with it:
// wall-clock time there says how busy the neighbours are.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
