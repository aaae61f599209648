//go:build unix && !linux

package harness

import "syscall"

// procAttr puts the collector in a process group of its own, so that Stop can
// signal everything it started.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
