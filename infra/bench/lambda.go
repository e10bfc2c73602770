package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opt-e/kontakt/infra/harness/rie"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/config"
)

// memoryMB is the functions' MemorySize in template.yaml; RIE only prints it
// in REPORT lines, the cost model uses it.
const memoryMB = 128

// lambdaEnv is a function's whole environment under the emulator: its
// configuration, the SDK's endpoint variables for the emulators and what
// Lambda itself sets for a 128 MB function with JSON logs.
func lambdaEnv(env *testenv.Env) []string {
	vars := append(env.Env(),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10",
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", memoryMB),
		"AWS_LAMBDA_LOG_FORMAT=JSON")
	for k, v := range benchVars(env) {
		vars = append(vars, k+"="+v)
	}
	return vars
}

// benchVars is the stack's function configuration with the rate limits
// lifted, so that a benchmark's posts from one address are never a 429.
// The idempotency check stays on, as deployed: each post carries its own
// Idempotency-Key, so none is a repeat.
func benchVars(env *testenv.Env) map[string]string {
	vars := env.FunctionVars()
	vars[config.EnvFormsFile] = benchFormsFile
	return vars
}

// benchFormsFile holds the one form the benchmark posts to, with rate
// limits no benchmark reaches; written once by writeBenchForms.
var benchFormsFile string

func writeBenchForms(dir string) error {
	benchFormsFile = filepath.Join(dir, "bench-forms.json")
	return os.WriteFile(benchFormsFile, []byte(`{"forms":[{"id":"contact","abuse":{"rate_limit":{"per_ip":10000,"per_form":10000}}}]}`), 0o644)
}

// coldStarts starts each bootstrap under a fresh emulator n times, invokes
// it once and reads the init duration the emulator reports (process start
// until the runtime asks for its first event). Functions are interleaved
// sample by sample, in the order given, so that a busy moment on a shared
// machine hits neighbours alike. It returns every sample, in rounds.
func coldStarts(ctx context.Context, rieBin string, env *testenv.Env, boots map[string]string, order []string, n int) (map[string][]time.Duration, error) {
	samples := map[string][]time.Duration{}
	for i := 0; i < n; i++ {
		for _, name := range order {
			d, err := coldStart(ctx, rieBin, boots[name], lambdaEnv(env))
			if err != nil {
				return nil, fmt.Errorf("cold start %s: %w", name, err)
			}
			samples[name] = append(samples[name], d)
		}
	}
	return samples, nil
}

// pairedRatio is the median over rounds of a's cold start over b's in the
// same round. Started within a second of each other (a function right
// after its yardstick), the two meet the same load on a shared machine.
// Medians taken apart read 0.91 to 1.57 for the same code from run to
// run, and two identical yardsticks 23 and 27 ms in one.
func pairedRatio(a, b []time.Duration) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			rs = append(rs, float64(a[i])/float64(b[i]))
		}
	}
	return medianFloat(rs)
}

func coldStart(ctx context.Context, rieBin, boot string, env []string) (time.Duration, error) {
	em, err := rie.Start(ctx, rie.Options{RIEPath: rieBin, Bootstrap: boot, Env: env, Log: io.Discard})
	if err != nil {
		return 0, err
	}
	defer em.Stop()
	// Let the emulator finish its own start-up first: on two shared cores
	// it would otherwise run alongside the init being measured.
	time.Sleep(50 * time.Millisecond)
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// An empty event: every function starts the same way whatever it is
	// asked, and {} makes none of them call AWS.
	if _, err := em.Invoke(ictx, []byte(`{}`)); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, em.Logs())
	}
	// The emulator's output reaches us through a pipe, a moment after the
	// invoke has been answered.
	em.LogsWith("INIT REPORT", 5*time.Second)
	if d, ok := em.InitDuration(); ok {
		return d, nil
	}
	return 0, fmt.Errorf("no INIT REPORT line:\n%s", em.Logs())
}
