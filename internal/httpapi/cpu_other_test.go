//go:build !unix

package httpapi_test

import "time"

// processCPU is not measured here; benchmarks report ns/op only.
func processCPU() time.Duration { return 0 }
