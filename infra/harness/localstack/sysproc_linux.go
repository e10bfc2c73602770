package localstack

import "syscall"

// sysProcAttr puts a child in its own process group, so Stop can signal the
// whole tree, and has the kernel kill it if this process dies first (a test
// binary killed by -timeout must not leave emulators listening).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
