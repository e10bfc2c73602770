package async_test

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opt-e/kontakt/internal/async"
)

// Every function runs, on another goroutine, however many at once.
func TestGoRunsEveryFunction(t *testing.T) {
	var n atomic.Int32
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		async.Go(func() { defer wg.Done(); n.Add(1) })
	}
	wg.Wait()
	if n.Load() != 1000 {
		t.Fatalf("%d of 1000 ran", n.Load())
	}
}

// Functions run at the same time: one waiting for another does not block.
func TestGoRunsConcurrently(t *testing.T) {
	ready, done := make(chan struct{}), make(chan struct{})
	async.Go(func() { <-ready; close(done) })
	async.Go(func() { close(ready) })
	<-done
}

// Idle goroutines are reused: run one at a time, the functions land on
// few goroutines, not one each. (A caller woken by a function's result can
// ask for the next before that goroutine is idle again; the bound leaves
// room for that on a busy machine.)
func TestGoReusesGoroutines(t *testing.T) {
	ids := map[string]bool{}
	for range 200 {
		id := make(chan string)
		async.Go(func() { id <- goroutineID() })
		ids[<-id] = true
	}
	if len(ids) > 100 {
		t.Errorf("200 functions ran on %d goroutines", len(ids))
	}
}

// goroutineID is the number in the first line of this goroutine's stack.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	return f[1]
}
