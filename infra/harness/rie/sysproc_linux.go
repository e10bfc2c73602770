package rie

import "syscall"

// sysProcAttr puts the emulator in its own process group, so Stop can signal
// it and anything it leaves, and has the kernel kill it if this process dies
// first (a test binary killed by -timeout must not leave it listening).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
