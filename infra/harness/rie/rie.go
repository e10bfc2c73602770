// Package rie runs a built Lambda bootstrap under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie) on 127.0.0.1, for end-to-end tests
// and cold-start benchmarks.
package rie

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opt-e/kontakt/infra/harness/gomod"
	"github.com/opt-e/kontakt/infra/harness/logcheck"
	"github.com/opt-e/kontakt/infra/harness/proc"
)

// The pinned emulator, installed with `go install Package@Version`.
const (
	Module  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	Package = Module + "/cmd/aws-lambda-rie"
	Version = "v0.0.0-20261030222936-bef5c4ba774d"
)

const (
	invokePath   = "/2015-03-31/functions/function/invocations"
	startTimeout = 10 * time.Second
	stopGrace    = 5 * time.Second
)

// ErrTimeout is wrapped by Invoke's error when the function timed out
// (AWS_LAMBDA_FUNCTION_TIMEOUT, default 300 s).
var ErrTimeout = errors.New("function timed out")

// FunctionError is a function's error response (the handler returned an
// error or panicked): {"errorMessage": …, "errorType": …}.
type FunctionError struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error: %s: %s", e.Type, e.Message)
}

// Ensure returns the path of repoRoot/.bin/aws-lambda-rie, first installing
// the pinned version there with `go install` when it is missing or another
// version. An empty repoRoot means the module root above the working
// directory.
func Ensure(ctx context.Context, repoRoot string) (string, error) {
	root, err := gomod.Root(repoRoot)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".bin")
	path := filepath.Join(bin, "aws-lambda-rie")
	if info, err := buildinfo.ReadFile(path); err == nil && info.Main.Path == Module && info.Main.Version == Version {
		return path, nil
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("install aws-lambda-rie: go not found in PATH")
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	// Install into a private dir and rename into place, so concurrent test
	// binaries never run a half-written file.
	tmp, err := os.MkdirTemp(bin, ".install-")
	if err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, gocmd, "install", Package+"@"+Version)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0",
		// It runs here, whatever GOOS/GOARCH the caller builds for.
		"GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", Package, Version, err, bytes.TrimSpace(out))
	}
	if err := os.Rename(filepath.Join(tmp, "aws-lambda-rie"), path); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	return path, nil
}

// Options configure an Emulator.
type Options struct {
	RIEPath   string // the aws-lambda-rie binary (see Ensure)
	Bootstrap string // the built function, e.g. build/submit/bootstrap
	// Env is the function's environment: besides it the function sees only
	// PATH and the AWS_LAMBDA_* variables the emulator sets, never this
	// process's environment. AWS_LAMBDA_FUNCTION_TIMEOUT (seconds) is read
	// by the emulator itself.
	Env []string
	Log io.Writer // a copy of all output, may be nil
}

// Emulator is a running aws-lambda-rie with one function.
type Emulator struct {
	url    string
	cmd    *exec.Cmd
	logs   *logcheck.Buffer
	done   chan struct{} // closed when the emulator has exited
	err    error         // its exit status, valid after done
	invoke sync.Mutex    // RIE crashes on concurrent invokes
}

// Start runs the emulator on a free 127.0.0.1 port and waits until it
// answers HTTP. The function itself starts lazily, on the first Invoke, as
// on AWS. ctx bounds the startup only; the emulator runs until Stop.
func Start(ctx context.Context, opt Options) (*Emulator, error) {
	if opt.RIEPath == "" {
		return nil, errors.New("start rie: no RIEPath (see Ensure)")
	}
	boot, err := filepath.Abs(opt.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("start rie: %w", err)
	}
	if fi, err := os.Stat(boot); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("start rie: bootstrap %s is not an executable file", boot)
	}
	// Both ports are ours: the runtime API otherwise defaults to the fixed
	// 127.0.0.1:9001 and two emulators (parallel tests) would collide.
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(opt.RIEPath,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)),
		// INIT REPORT lines, parsed by InitDuration, are logged at info.
		"--log-level", "info",
		// A single argument after the flags is the bootstrap; more would
		// make the last one the handler name.
		boot)
	cmd.Dir = filepath.Dir(boot) // the function's cwd, like /var/task
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, opt.Env...)
	e := &Emulator{url: "http://" + addr, cmd: cmd, logs: &logcheck.Buffer{}, done: make(chan struct{})}
	var w io.Writer = e.logs
	if opt.Log != nil {
		w = io.MultiWriter(e.logs, quietWriter{opt.Log})
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = proc.Group()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start rie: %w", err)
	}
	go func() {
		e.err = cmd.Wait()
		close(e.done)
	}()
	if err := e.waitReady(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// waitReady polls until the emulator answers HTTP (404 on /). It prints no
// line of its own once listening.
func (e *Emulator) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/", nil)
		if err != nil {
			return fmt.Errorf("start rie: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("start rie: exited during startup: %v; output:\n%s", e.err, tail(e.logs.Bytes(0), 4<<10))
		case <-ctx.Done():
			return fmt.Errorf("start rie: not answering at %s after %s; output:\n%s", e.url, startTimeout, tail(e.logs.Bytes(0), 4<<10))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Invoke sends one event and returns the function's response. Invokes are
// serialised. A function error is returned as a *FunctionError and a
// timeout as an error wrapping ErrTimeout, each along with the raw body;
// the emulator reports both with HTTP 200. If ctx ends mid-invoke the
// emulator is still busy with it and may refuse the next one.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	e.invoke.Lock()
	defer e.invoke.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+invokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read response: %w", err)
	}
	// A panic comes back as 502 with the error JSON, a returned error as 200.
	if fe := functionError(body); fe != nil {
		return body, fe
	}
	if resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte("Task timed out after")) {
		return body, fmt.Errorf("invoke: %w: %s", ErrTimeout, body)
	}
	if resp.StatusCode != http.StatusOK {
		// E.g. 502 with no body when the function fails to init or exits.
		return body, fmt.Errorf("invoke: %s %q (see Logs)", resp.Status, body)
	}
	return body, nil
}

// functionError recognises the runtime's error document: an object with
// errorMessage and errorType and nothing but an optional stackTrace.
func functionError(body []byte) *FunctionError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	_, hasMsg := m["errorMessage"]
	_, hasType := m["errorType"]
	_, hasTrace := m["stackTrace"]
	if !hasMsg || !hasType || len(m) != 2+btoi(hasTrace) {
		return nil
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil {
		return nil
	}
	return &fe
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// initReport is rapid's log line at the end of a function's init phase.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration returns the duration of the function's first (cold) init:
// starting the bootstrap process until it asks for its first event, from
// the emulator's "INIT REPORT(durationMs: …)" line. It reports false until
// the first Invoke. The "Init Duration" of the REPORT line is not used: this
// emulator measures only the hand-off of the init request there (~1 ms).
func (e *Emulator) InitDuration() (time.Duration, bool) {
	m := initReport.FindSubmatch(e.logs.Bytes(0))
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// PID is the emulator's process id; the function's bootstrap runs as its
// child.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// Logs returns everything the emulator and the function printed so far.
func (e *Emulator) Logs() string { return string(e.logs.Bytes(0)) }

// LogsWith waits up to within for s to appear in Logs, and returns Logs.
// The function's output comes through the emulator's pipe, a moment after
// the invoke has been answered: a test reading it straight away can miss
// the last lines on a busy machine.
func (e *Emulator) LogsWith(s string, within time.Duration) string {
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if l := e.Logs(); strings.Contains(l, s) || time.Since(start) > within {
			return l
		}
	}
}

// Stop ends the emulator (SIGTERM, then SIGKILL to its process group) and
// waits for it. The emulator runs the function in a process group of its own
// and kills it on SIGTERM; were the emulator SIGKILLed instead, the function
// exits as soon as its runtime API is gone. Safe to call more than once.
func (e *Emulator) Stop() {
	_ = proc.StopGroup(e.cmd.Process.Pid, e.done, stopGrace)
}

// tail is the last n bytes of log, trimmed.
func tail(log []byte, n int) []byte {
	return bytes.TrimSpace(log[max(0, len(log)-n):])
}

// quietWriter drops write errors: a broken log must not stall the emulator
// on a full pipe (io.MultiWriter stops at the first error).
type quietWriter struct{ w io.Writer }

func (q quietWriter) Write(p []byte) (int, error) {
	_, _ = q.w.Write(p)
	return len(p), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
