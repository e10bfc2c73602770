package localstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/opt-e/kontakt/infra/harness/proc"
)

// tailSize is how much of an emulator's output is kept for error messages.
const tailSize = 4 << 10

// child is one emulator child process.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *tailWriter
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

// startProc starts cmd in its own process group with its output captured;
// ready is the line the emulator prints once it is listening.
func startProc(name string, cmd *exec.Cmd, ready string, log io.Writer) (*child, error) {
	p := &child{name: name, cmd: cmd, out: newTailWriter(ready), done: make(chan struct{})}
	var w io.Writer = p.out
	var lw *lineWriter
	if log != nil {
		lw = &lineWriter{w: log, prefix: "[" + name + "] "}
		w = io.MultiWriter(p.out, lw)
	}
	// The same comparable writer for both: exec then serialises the writes.
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = proc.Group()
	// A grandchild holding the pipes open must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		if lw != nil {
			lw.Flush()
		}
		close(p.done)
	}()
	return p, nil
}

// waitReady waits for the ready line, then for url to answer HTTP at all.
// Waiting for the line first means a port already taken by someone else is
// reported as the emulator's failure instead of being mistaken for success.
func (p *child) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-p.out.ready:
	case <-p.done:
		return p.failure("exited during startup: %v", p.err)
	case <-ctx.Done():
		return p.failure("not ready after %s", timeout)
	}
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil // any status will do: it speaks HTTP
		}
		select {
		case <-p.done:
			return p.failure("exited during startup: %v", p.err)
		case <-ctx.Done():
			return p.failure("not answering HTTP at %s after %s", url, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// failure is an error carrying the tail of the emulator's output.
func (p *child) failure(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	tail := bytes.TrimSpace(p.out.Tail())
	if len(tail) == 0 {
		return fmt.Errorf("%s %s (no output)", p.name, msg)
	}
	return fmt.Errorf("%s %s; output:\n%s", p.name, msg, tail)
}

// stop ends the whole process group: SIGTERM, then SIGKILL after grace.
func (p *child) stop(grace time.Duration) {
	if err := proc.StopGroup(p.cmd.Process.Pid, p.done, grace); err != nil {
		fmt.Fprintf(os.Stderr, "localstack: kill %s: %v\n", p.name, err)
	}
}

// tailWriter keeps the last tailSize bytes written and closes ready once
// the marker has been seen.
type tailWriter struct {
	mu     sync.Mutex
	buf    []byte
	marker []byte
	seen   bool
	ready  chan struct{}
}

func newTailWriter(marker string) *tailWriter {
	return &tailWriter{marker: []byte(marker), ready: make(chan struct{})}
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if !t.seen && bytes.Contains(t.buf, t.marker) {
		t.seen = true
		close(t.ready)
	}
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// Tail returns a copy of the retained output.
func (t *tailWriter) Tail() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}

// logMu serialises writes of all emulators to shared log writers.
var logMu sync.Mutex

// lineWriter forwards whole lines to w, each with a prefix. Write errors
// are dropped: a broken log must not stall the emulator on a full pipe.
type lineWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.emit(l.buf[:i+1])
		l.buf = l.buf[i+1:]
	}
}

// Flush writes a final unterminated line, if any.
func (l *lineWriter) Flush() {
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = nil
	}
}

func (l *lineWriter) emit(line []byte) {
	logMu.Lock()
	defer logMu.Unlock()
	_, _ = l.w.Write(append([]byte(l.prefix), line...))
}
