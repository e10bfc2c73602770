package functions_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// CONTRIBUTING.md's Layout is where a newcomer learns what each package
// is: every deployed package and every harness package has its line there,
// so a new one cannot be added without saying what it is for.
func TestLayoutNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "CONTRIBUTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "```\nfunctions/<name>/main.go")
	if start < 0 {
		t.Fatal("CONTRIBUTING.md has no layout block beginning with functions/<name>/main.go")
	}
	end := strings.Index(string(doc[start+3:]), "```")
	if end < 0 {
		t.Fatal("CONTRIBUTING.md's layout block does not end")
	}
	layout := string(doc[start : start+3+end])
	for _, root := range []string{filepath.Join("..", "internal"), filepath.Join("..", "infra", "harness")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "testdata":
				return filepath.SkipDir
			case !d.IsDir() || path == root:
				return nil
			}
			if !hasCode(t, path) {
				return nil
			}
			rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
			if !regexp.MustCompile(`(^|[\s,])` + regexp.QuoteMeta(rel) + `([\s,]|$)`).MatchString(layout) {
				t.Errorf("CONTRIBUTING.md's layout does not name %s", filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator))))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// hasCode reports whether dir holds a Go file that is not a test.
func hasCode(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}
