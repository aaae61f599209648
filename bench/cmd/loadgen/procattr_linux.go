package main

import "syscall"

// procAttr puts the collector in a process group of its own, so that
// signalGroup reaches everything it started, and has the kernel kill it when
// the driver dies first (a panic, SIGKILL, a timeout of make's caller).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends SIGTERM, or SIGKILL when kill is set, to process group pgid.
func signalGroup(pgid int, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}
