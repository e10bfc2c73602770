// Package gomod finds this module's root, so that the harness's tests and
// commands find infra/ and the functions from whatever directory they run in.
package gomod

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root returns dir made absolute, or when dir is empty the nearest
// directory at or above the working directory that holds a go.mod.
func Root(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find module root: no go.mod above %s", wd)
		}
	}
}
