package gcpolicy_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/opt-e/kontakt/internal/gcpolicy"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func current() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1) // -1 reads without changing
}

func TestApply(t *testing.T) {
	p0, l0 := current()
	restore := gcpolicy.Apply(128, env(nil))
	if p, l := current(); p != gcpolicy.Percent || l != 96<<20 {
		t.Errorf("GOGC %d, limit %d; want %d and 96 MiB", p, l, gcpolicy.Percent)
	}
	restore()
	if p, l := current(); p != p0 || l != l0 {
		t.Errorf("not restored: GOGC %d, limit %d; want %d, %d", p, l, p0, l0)
	}

	t.Run("the operator's settings win", func(t *testing.T) {
		restore := gcpolicy.Apply(128, env(map[string]string{"GOGC": "100", "GOMEMLIMIT": "50MiB"}))
		defer restore()
		if p, l := current(); p != p0 || l != l0 {
			t.Errorf("changed GOGC %d, limit %d despite the environment", p, l)
		}
	})
	t.Run("unknown memory leaves the limit", func(t *testing.T) {
		restore := gcpolicy.Apply(0, env(nil))
		defer restore()
		if _, l := current(); l != l0 {
			t.Errorf("limit %d", l)
		}
	})
	if l0 != math.MaxInt64 {
		t.Logf("the test process has a memory limit already: %d", l0)
	}
}

func TestLambdaMemoryMB(t *testing.T) {
	for v, want := range map[string]int{"128": 128, "": 0, "x": 0, "-5": 0} {
		if got := gcpolicy.LambdaMemoryMB(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": v})); got != want {
			t.Errorf("%q: %d, want %d", v, got, want)
		}
	}
}
