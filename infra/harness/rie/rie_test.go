package rie

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/localstack"
)

func TestParseReports(t *testing.T) {
	logs := "START RequestId: a Version: $LATEST\n" +
		"END RequestId: a\n" +
		"REPORT RequestId: a\tInit Duration: 1.21 ms\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t\n" +
		"{\"level\":\"INFO\",\"message\":\"REPORT RequestId: fake\"}\n" +
		"REPORT RequestId: b\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t\n"
	got := parseReports([]byte(logs))
	want := []Report{
		{RequestID: "a", Duration: 12340 * time.Microsecond, Billed: 13 * time.Millisecond},
		{RequestID: "b", Duration: 2 * time.Millisecond, Billed: 2 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("reports = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFunctionError(t *testing.T) {
	for body, want := range map[string]bool{
		`{"errorMessage":"x","errorType":"y"}`:                 true,
		`{"errorMessage":"x","errorType":"y","stackTrace":[]}`: true,
		`{"errorMessage":"x","errorType":"y","greeting":"hi"}`: false,
		`{"errorMessage":"x"}`:                                 false,
		`{"greeting":"hi"}`:                                    false,
		`"errorMessage"`:                                       false,
	} {
		if got := functionError([]byte(body)) != nil; got != want {
			t.Errorf("functionError(%s) = %v, want %v", body, got, want)
		}
	}
}

func TestEmulator(t *testing.T) {
	ctx := localstack.TestContext(t, 5*time.Minute)
	rie, err := Ensure(ctx, "")
	if err != nil {
		t.Fatalf("ensure rie: %v", err)
	}
	boot := buildHello(t)

	em, err := Start(ctx, Options{
		RIEPath:   rie,
		Bootstrap: boot,
		Env:       []string{"GREETING=hi", "AWS_LAMBDA_FUNCTION_TIMEOUT=1"},
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer em.Stop()
	if _, ok := em.InitDuration(); ok {
		t.Error("InitDuration reported before the first invoke")
	}

	for _, name := range []string{"ada", "bob"} {
		out, err := em.Invoke(ctx, []byte(`{"name":"`+name+`"}`))
		if err != nil {
			t.Fatalf("invoke %s: %v\n%s", name, err, em.Logs())
		}
		if want := `{"greeting":"hi ` + name + `"}`; string(out) != want {
			t.Errorf("invoke %s = %s, want %s", name, out, want)
		}
	}
	d, ok := em.InitDuration()
	if !ok || d <= 0 || d > time.Minute {
		t.Errorf("InitDuration() = %v, %v\n%s", d, ok, em.Logs())
	}
	t.Logf("init duration %v", d)
	if l := em.LogsWith(`greeting "bob"`, 10*time.Second); !strings.Contains(l, `greeting "bob"`) {
		t.Errorf("function output missing from Logs:\n%s", l)
	}

	_, err = em.Invoke(ctx, []byte(`{"fail":true}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "asked to fail" {
		t.Errorf("failing invoke: err = %v, want FunctionError", err)
	}

	_, err = em.Invoke(ctx, []byte(`{"sleep":"3s"}`))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("slow invoke: err = %v, want ErrTimeout", err)
	}
	// The emulator restarts the function after a timeout.
	if out, err := em.Invoke(ctx, []byte(`{"name":"cy"}`)); err != nil || string(out) != `{"greeting":"hi cy"}` {
		t.Errorf("invoke after timeout = %s, %v", out, err)
	}

	em.Stop()
	if pids := running(boot); len(pids) > 0 {
		t.Errorf("bootstrap still running after Stop: pids %v", pids)
	}
}

// buildHello builds testdata/hello the way the Makefile builds functions,
// for this machine.
func buildHello(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build hello: %v\n%s", err, b)
	}
	return out
}

// running returns the pids of processes whose executable is exe (Linux).
func running(exe string) []string {
	dirs, _ := os.ReadDir("/proc")
	var pids []string
	for _, d := range dirs {
		if p, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); err == nil && p == exe {
			pids = append(pids, d.Name())
		}
	}
	return pids
}
