//go:build unix && !linux

package main

import "syscall"

// procAttr puts the collector in a process group of its own, so that
// signalGroup reaches everything it started. (The CPU figures need Linux's
// /proc; elsewhere the driver stops with an error before measuring.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends SIGTERM, or SIGKILL when kill is set, to process group pgid.
func signalGroup(pgid int, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}
