// Package proc stops the harness's child processes (the emulators, the
// Lambda runtime emulator) with everything they started: each runs in a
// process group of its own (Group), and StopGroup ends the group.
package proc

import (
	"errors"
	"syscall"
	"time"
)

// StopGroup ends the process group that pid leads: SIGTERM, then, once done
// is closed or after grace, SIGKILL to whatever is left in the group; it
// returns when done is closed (done closes when the leader has been waited
// for). The error is that of the SIGKILL, nil when nothing was left.
func StopGroup(pid int, done <-chan struct{}, grace time.Duration) error {
	pgid := -pid
	select {
	case <-done:
	default:
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(grace):
		}
	}
	// Also reaps anything the leader left behind in its group.
	err := syscall.Kill(pgid, syscall.SIGKILL)
	<-done
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
