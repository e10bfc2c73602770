package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/rie"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/submission"
)

// peakMemory runs each function under one emulator, hands it n events of
// the kind it serves and reads the peak resident memory of its bootstrap
// (VmHWM): max_rss_mb_<function>. Lambda bills and kills by memory, so a
// leak or a buffer kept per request shows here long before it shows there.
func peakMemory(ctx context.Context, rieBin string, env *testenv.Env, boots map[string]string, names []string, n int) (map[string]float64, error) {
	out := map[string]float64{}
	for _, name := range names {
		next, err := eventsFor(env.Root, name)
		if err != nil {
			return nil, err
		}
		mb, err := peakOf(ctx, rieBin, boots[name], lambdaEnv(env), next, n)
		if err != nil {
			return nil, fmt.Errorf("peak memory of %s: %w", name, err)
		}
		out["max_rss_mb_"+name] = mb
	}
	return out, nil
}

func peakOf(ctx context.Context, rieBin, boot string, env []string, next func() ([]byte, error), n int) (float64, error) {
	em, err := rie.Start(ctx, rie.Options{RIEPath: rieBin, Bootstrap: boot, Env: env, Log: io.Discard})
	if err != nil {
		return 0, err
	}
	defer em.Stop()
	for i := 0; i < n; i++ {
		payload, err := next()
		if err != nil {
			return 0, err
		}
		if _, err := em.Invoke(ctx, payload); err != nil {
			return 0, fmt.Errorf("invoke %d: %w\n%s", i, err, em.Logs())
		}
	}
	pid, err := childOf(em.PID())
	if err != nil {
		return 0, err
	}
	kb, err := vmHWM(pid)
	if err != nil {
		return 0, err
	}
	return float64(kb) / 1024, nil
}

// eventsFor returns a source of events for a function: the sample events
// in events/, with a fresh Idempotency-Key per submission so that none is
// a repeat, and a GET of the privacy page for the privacy function.
func eventsFor(root, name string) (func() ([]byte, error), error) {
	same := func(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }
	read := func(file string) ([]byte, error) { return os.ReadFile(filepath.Join(root, "events", file)) }
	switch name {
	case "submit":
		b, err := read(typicalEvent)
		if err != nil {
			return nil, err
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, err
		}
		return func() ([]byte, error) {
			ev.Headers["idempotency-key"] = submission.NewID()
			return json.Marshal(ev)
		}, nil
	case "erase":
		b, err := read("erase-sqs.json")
		return same(b), err
	case "redrive":
		b, err := read("redrive-schedule.json")
		return same(b), err
	case "privacy":
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "GET /erasure", RawPath: "/erasure",
			Headers: map[string]string{"accept-language": "nb", "accept": "text/html"},
		}
		ev.RequestContext.HTTP.Method = "GET"
		ev.RequestContext.HTTP.Path = "/erasure"
		ev.RequestContext.HTTP.SourceIP = "198.51.100.9"
		ev.RequestContext.DomainName = "127.0.0.1"
		b, err := json.Marshal(ev)
		return same(b), err
	}
	return nil, fmt.Errorf("no events for function %s: add them to infra/bench/memory.go", name)
}

// childOf finds the one process whose parent is pid (the emulator's
// bootstrap) by reading /proc.
func childOf(pid int) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); i > 0 && len(f) > 1 && f[1] == strconv.Itoa(pid) {
			return child, nil
		}
	}
	return 0, fmt.Errorf("no child process of the emulator (pid %d)", pid)
}

// vmHWM reads a process's peak resident set size in kB.
func vmHWM(pid int) (int, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
