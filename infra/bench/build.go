package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// helloName is the hello-world Lambda every function is compared with;
// sdkHelloPrefix+<function> is the same plus that function's SDK set-up at
// init (its configuration and one client per service it calls).
const (
	helloName      = "hello"
	sdkHelloPrefix = "sdk-hello-"
	sdkHelloPkg    = "./infra/bench/testdata/sdkhello"
)

// sdkHelloServices are the services infra/bench/testdata/sdkhello can
// build a client for, each behind the build tag sdk_<service>.
var sdkHelloServices = []string{"dynamodb", "s3", "secretsmanager", "ses", "sqs"}

// sdkServicePrefix is where the SDK's service clients live; a linked
// package right below it is a client a function builds at init.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// sdkHelloTags names the SDK clients fn links, as sdkhello's build tags:
// read from `go list -deps`, so the comparison follows the function. A
// service sdkhello cannot build is an error, not a skip: the yardstick
// would leave out that client's init and charge it to kontakt (it did,
// for S3, when the functions first took files).
func sdkHelloTags(ctx context.Context, root, fn string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "./functions/"+fn)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -deps ./functions/%s: %w", fn, err)
	}
	return serviceTags(strings.Fields(string(out)))
}

// serviceTags turns the packages a function links into sdkhello's tags.
func serviceTags(deps []string) (string, error) {
	var tags []string
	for _, p := range deps {
		svc, ok := strings.CutPrefix(p, sdkServicePrefix)
		if !ok || strings.Contains(svc, "/") {
			continue // not a service, or its types, schemas or internals
		}
		if !slices.Contains(sdkHelloServices, svc) {
			return "", fmt.Errorf("the function builds a %s client, which %s cannot: add %s/%s.go and %q to sdkHelloServices", svc, sdkHelloPkg, sdkHelloPkg, svc, svc)
		}
		tags = append(tags, "sdk_"+svc)
	}
	sort.Strings(tags)
	return strings.Join(tags, ","), nil
}

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
	if name == helloName || strings.HasPrefix(name, sdkHelloPrefix) {
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
	if fn, ok := strings.CutPrefix(name, sdkHelloPrefix); ok {
		tags, err := sdkHelloTags(ctx, root, fn)
		if err != nil {
			return "", err
		}
		args = append(args, "HELLO="+sdkHelloPkg, "HELLO_TAGS="+tags)
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
