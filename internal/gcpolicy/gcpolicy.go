// Package gcpolicy sets the garbage collector for a function's memory size.
//
// A function's live heap is a few megabytes. With Go's default (GOGC=100)
// the collector then runs every few megabytes of garbage, about every two
// hundred submissions, and took a fifth of the CPU of each one in the
// handler benchmark. A 128 MB function has room to let garbage pile up
// longer: at Percent the heap grows to five times what is live before a
// collection, and a soft memory limit at three quarters of the function's
// memory makes the collector run sooner should the heap ever get near it.
package gcpolicy

import (
	"runtime/debug"
	"strconv"
)

// Percent is the functions' GOGC.
const Percent = 400

// Apply sets GOGC to Percent and the memory limit to three quarters of
// memoryMB (the function's memory; 0 when unknown leaves the limit alone),
// unless the environment sets GOGC or GOMEMLIMIT: an operator's setting
// wins. It returns a function that puts back what it changed.
func Apply(memoryMB int, getenv func(string) string) (restore func()) {
	var undo []func()
	if getenv("GOGC") == "" {
		old := debug.SetGCPercent(Percent)
		undo = append(undo, func() { debug.SetGCPercent(old) })
	}
	if getenv("GOMEMLIMIT") == "" && memoryMB > 0 {
		old := debug.SetMemoryLimit(int64(memoryMB) << 20 * 3 / 4)
		undo = append(undo, func() { debug.SetMemoryLimit(old) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// LambdaMemoryMB is the function's memory as Lambda reports it in
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, or 0.
func LambdaMemoryMB(getenv func(string) string) int {
	n, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
