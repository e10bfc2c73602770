package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/testenv"
)

// The "done when": on make dev's stack, kontakt doctor --local
// prints an all-green checklist (checks that do not apply say so), and a
// red line with its fix once the SES emulator is stopped.
func TestDoctorLocalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts make dev's stack")
	}
	// --local points this process's SDK at make dev's emulators; the
	// other tests' stack must get its endpoints back afterwards.
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2",
		"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, os.Getenv(k))
	}
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dev := exec.Command("go", "run", "./infra/dev", "-port", strconv.Itoa(port),
		"-dynamo-port", "0", "-ses-port", "0", "-sqs-port", "0", "-dev-dir", dir)
	dev.Dir = testenv.RepoRoot()
	dev.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dev.Stderr = os.Stderr
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// go run and the dev binary it started (its own group); dev stops
		// its emulators on SIGTERM.
		syscall.Kill(-dev.Process.Pid, syscall.SIGTERM)
		dev.Wait()
	})
	// make dev prints its banner after writing stack.json.
	lines := bufio.NewScanner(stdout)
	for running := false; !running; {
		if !lines.Scan() {
			t.Fatalf("make dev ended before it was running: %v", lines.Err())
		}
		running = strings.Contains(lines.Text(), "kontakt is running")
	}
	go func() {
		for lines.Scan() {
		}
	}()

	code, out, errOut := kontakt(t, "doctor", "--local", "--dev-dir", dir)
	if code != 0 || strings.Contains(out, "FAIL") || !strings.Contains(out, "All checks passed.") {
		t.Fatalf("doctor on make dev: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"ok    SES production access", "ok    Erasure dead-letter queue", "ok    Copies pending or failed", "skip  Alarms: skipped locally: "} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}

	var info struct {
		PIDs map[string]int `json:"emulator_pids"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &info); err != nil || info.PIDs["ses"] == 0 {
		t.Fatalf("stack.json names no SES emulator pid (%v): %s", err, data)
	}
	ses, err := os.FindProcess(info.PIDs["ses"])
	if err != nil {
		t.Fatal(err)
	}
	if err := ses.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	code, out, errOut = kontakt(t, "doctor", "--local", "--dev-dir", dir)
	if code != 1 {
		t.Errorf("doctor with the SES emulator stopped: exit %d, want 1\n%s%s", code, out, errOut)
	}
	red := line(out, "FAIL  SES production access")
	if red == "" || !strings.Contains(red, "connection refused") {
		t.Errorf("no red SES line in\n%s", out)
	}
	if !strings.Contains(out, "fix: is `make dev` running?") || !strings.Contains(out, "1 of 9 checks failed.") {
		t.Errorf("no fix or summary in\n%s", out)
	}
}

func line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return l
		}
	}
	return ""
}
