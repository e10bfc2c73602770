package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// helloName is the hello-world Lambda every function is compared with;
// sdkHelloName is the same plus the functions' SDK set-up at init.
const (
	helloName    = "hello"
	sdkHelloName = "sdk-hello"
	sdkHelloPkg  = "./infra/bench/testdata/sdkhello"
)

// functions lists every Lambda under functions/ (a folder with a main.go),
// so a function added later is measured without touching the bench.
func functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no functions under %s", filepath.Join(root, "functions"))
	}
	sort.Strings(names)
	return names, nil
}

// makeTarget is the Makefile target sam build runs for a function
// (build-<LogicalId>, the logical id being the name capitalised plus
// "Function", as `make build` spells it), or build-hello.
func makeTarget(name string) string {
	if name == helloName || name == sdkHelloName {
		return "build-hello"
	}
	return "build-" + strings.ToUpper(name[:1]) + name[1:] + "Function"
}

// build runs the Makefile target for name into dir/<goarch>/<name> and
// returns the bootstrap's path.
func build(ctx context.Context, root, dir, name, goarch string) (string, error) {
	out := filepath.Join(dir, goarch, name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	args := []string{"--no-print-directory", makeTarget(name), "ARTIFACTS_DIR=" + out, "GOARCH=" + goarch}
	if name == sdkHelloName {
		args = append(args, "HELLO="+sdkHelloPkg)
	}
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make %s GOARCH=%s: %w\n%s", makeTarget(name), goarch, err, b)
	}
	return filepath.Join(out, "bootstrap"), nil
}

// buildAll builds the given Lambdas for goarch.
func buildAll(ctx context.Context, root, dir, goarch string, names []string) (map[string]string, error) {
	paths := map[string]string{}
	for _, n := range names {
		p, err := build(ctx, root, dir, n, goarch)
		if err != nil {
			return nil, err
		}
		paths[n] = p
	}
	return paths, nil
}

// sizes returns binary_bytes_<name> for every deployable bootstrap.
func sizes(paths map[string]string) (map[string]float64, error) {
	out := map[string]float64{}
	for n, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		out["binary_bytes_"+n] = float64(fi.Size())
	}
	return out, nil
}
