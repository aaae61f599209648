package harness

import "syscall"

// procAttr puts the collector in a process group of its own, so that Stop can
// signal everything it started, and has the kernel kill it if the process
// that started it dies first (a test binary that panics on its timeout runs
// no cleanup).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
