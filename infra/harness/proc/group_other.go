//go:build unix && !linux

package proc

import "syscall"

// Group puts a child in its own process group, so StopGroup can signal it
// and anything it leaves.
func Group() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
