package proc

import "syscall"

// Group puts a child in its own process group, so StopGroup can signal it
// and anything it leaves, and has the kernel kill it if this process dies
// first (a test binary killed by -timeout must not leave it listening).
func Group() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
