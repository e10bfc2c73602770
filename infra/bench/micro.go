package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
)

// handlerBenchmarks runs the handler benchmarks in internal/httpapi count
// times on one CPU (a 128 MB Lambda gets a fraction of one) and keeps the
// median of each figure: the machine is shared and a single run is noisy.
// The JSON benchmark runs again with Go's default collector (GOGC=100, as
// if the functions did not set theirs; see internal/gcpolicy), for
// submit_gogc100_cpu_ns_per_op.
func handlerBenchmarks(ctx context.Context, root, benchtime string, count int) (map[string]float64, string, error) {
	res, out, err := goBench(ctx, root, "^BenchmarkSubmit(JSON|Form)$", benchtime, count, nil,
		map[string]string{"BenchmarkSubmitJSON": "submit", "BenchmarkSubmitForm": "submit_form"})
	if err != nil {
		return nil, "", err
	}
	def, _, err := goBench(ctx, root, "^BenchmarkSubmitJSON$", benchtime, max(3, count/2), []string{"GOGC=100"},
		map[string]string{"BenchmarkSubmitJSON": "submit_gogc100"})
	if err != nil {
		return nil, "", err
	}
	res["submit_gogc100_cpu_ns_per_op"] = def["submit_gogc100_cpu_ns_per_op"]
	return res, spread(out, "BenchmarkSubmitJSON"), nil
}

func goBench(ctx context.Context, root, pattern, benchtime string, count int, env []string, prefixes map[string]string) (map[string]float64, []byte, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", pattern,
		"-benchmem", "-cpu", "1", "-benchtime", benchtime, "-count", strconv.Itoa(count), "./internal/httpapi")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, nil, fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	res, err := parseBenchmarks(out, prefixes)
	return res, out, err
}

// spread tells how much the runs of one benchmark differed: on a shared
// machine the median alone hides it.
func spread(out []byte, name string) string {
	var cpu, wall []float64
	for _, m := range benchLine.FindAllSubmatch(out, -1) {
		if string(m[1]) != name {
			continue
		}
		for _, mm := range benchMetric.FindAllSubmatch(m[2], -1) {
			v, _ := strconv.ParseFloat(string(mm[1]), 64)
			switch string(mm[2]) {
			case "cpu-ns/op":
				cpu = append(cpu, v)
			case "ns/op":
				wall = append(wall, v)
			}
		}
	}
	if len(cpu) == 0 {
		return ""
	}
	slices.Sort(cpu)
	return fmt.Sprintf("%s CPU ns/op over %d runs: min %.0f, median %.0f, max %.0f (wall ns/op median %.0f)",
		name, len(cpu), cpu[0], medianFloat(cpu), cpu[len(cpu)-1], medianFloat(wall))
}

var benchLine = regexp.MustCompile(`(?m)^(Benchmark\w+?)(?:-\d+)?\s+\d+((?:\s+[0-9.]+ \S+)+)\s*$`)
var benchMetric = regexp.MustCompile(`([0-9.]+) (\S+)`)

// parseBenchmarks reads `go test -bench -benchmem` output into
// <prefix>_cpu_ns_per_op, _bytes_per_op and _allocs_per_op (medians over
// the runs) for the benchmarks named in prefixes; each must have run. CPU
// is the benchmark's cpu-ns/op (the process's CPU time per op, garbage
// collection included) where it reports one, which unlike ns/op does not
// count time spent waiting for a CPU on a busy machine; else ns/op.
func parseBenchmarks(out []byte, prefixes map[string]string) (map[string]float64, error) {
	samples := map[string][]float64{}
	for _, m := range benchLine.FindAllSubmatch(out, -1) {
		prefix, ok := prefixes[string(m[1])]
		if !ok {
			continue
		}
		metrics := map[string]float64{}
		for _, mm := range benchMetric.FindAllSubmatch(m[2], -1) {
			v, err := strconv.ParseFloat(string(mm[1]), 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", m[0], err)
			}
			metrics[string(mm[2])] = v
		}
		cpu, ok := metrics["cpu-ns/op"]
		if !ok {
			cpu, ok = metrics["ns/op"]
		}
		bytes, okB := metrics["B/op"]
		allocs, okA := metrics["allocs/op"]
		if !ok || !okB || !okA {
			return nil, fmt.Errorf("benchmark line %q lacks ns/op, B/op or allocs/op (run with -benchmem)", m[0])
		}
		samples[prefix+"_cpu_ns_per_op"] = append(samples[prefix+"_cpu_ns_per_op"], cpu)
		samples[prefix+"_bytes_per_op"] = append(samples[prefix+"_bytes_per_op"], bytes)
		samples[prefix+"_allocs_per_op"] = append(samples[prefix+"_allocs_per_op"], allocs)
	}
	res := map[string]float64{}
	for name, prefix := range prefixes {
		if len(samples[prefix+"_cpu_ns_per_op"]) == 0 {
			return nil, fmt.Errorf("%s did not run:\n%s", name, out)
		}
	}
	for k, xs := range samples {
		res[k] = medianFloat(xs)
	}
	return res, nil
}
