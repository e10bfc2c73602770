package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Every name on the moto skip list is a test that exists, so a renamed test
// cannot leave a stale entry behind while the new name runs unnoticed (or a
// skip outlives what it was for).
func TestMotoSkipsExist(t *testing.T) {
	listed := 0
	for _, gap := range motoGaps {
		listed += len(gap.tests)
	}
	if listed != len(motoSkips) {
		t.Errorf("motoGaps name %d tests, %d of them different: a test is listed twice", listed, len(motoSkips))
	}
	root := RepoRoot()
	for name, why := range motoSkips {
		if why == "" {
			t.Errorf("%s: no reason", name)
		}
		pkg, test, ok := strings.Cut(name, ".")
		if !ok || !strings.HasPrefix(test, "Test") {
			t.Errorf("%s: want <package directory>.<TestName>", name)
			continue
		}
		top, _, _ := strings.Cut(test, "/")
		found := false
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || found {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, "_test.go") || filepath.Base(filepath.Dir(path)) != pkg {
				return nil
			}
			src, err := os.ReadFile(path)
			found = err == nil && strings.Contains(string(src), "func "+top+"(t *testing.T)")
			return nil
		})
		if !found {
			t.Errorf("%s: no test %s in a package directory named %s", name, top, pkg)
		}
	}
	// make test-aws runs this first with -v: the list, with reasons, in its output.
	names := make([]string, 0, len(motoSkips))
	for name := range motoSkips {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Logf("skipped on moto: %s: %s", name, motoSkips[name])
	}
}

func TestOnMoto(t *testing.T) {
	for v, want := range map[string]bool{"": false, "moto": true} {
		t.Setenv(EnvTestAWS, v)
		if got, err := onMoto(); got != want || err != nil {
			t.Errorf("%s=%q: %v, %v; want %v", EnvTestAWS, v, got, err, want)
		}
	}
	t.Setenv(EnvTestAWS, "aws")
	if _, err := onMoto(); err == nil {
		t.Error("an unknown value is accepted")
	}
}
