// Package async runs functions on other goroutines, reusing parked ones.
//
// The submit path makes its independent calls at the same time, which
// took four new goroutines per submission. A new goroutine starts with a
// small stack, and each of those outgrew it (the SDK call, building the
// item, an allocation's slow path), so the runtime copied a stack on every
// submission: 8% of its CPU in the handler benchmark. A goroutine that has
// run a function here waits for the next one instead of exiting, with the
// stack it grew.
package async

import "sync"

// idle are the goroutines waiting for a function, each on its own
// channel. (A shared unbuffered channel would hand work only to a goroutine
// already blocked on it, and one that has just finished is not there yet
// when the caller, woken by its result, asks for the next.)
var (
	mu   sync.Mutex
	idle []*worker
)

type worker struct{ next chan func() }

// Go runs f on another goroutine: an idle one if there is one, else a new
// one that waits for more after f. They number at most the highest count
// ever running at once (a few per concurrent request).
func Go(f func()) {
	mu.Lock()
	if n := len(idle); n > 0 {
		w := idle[n-1]
		idle = idle[:n-1]
		mu.Unlock()
		w.next <- f // buffered: w takes it when it gets there
		return
	}
	mu.Unlock()
	w := &worker{next: make(chan func(), 1)}
	go w.run(f)
}

func (w *worker) run(f func()) {
	for {
		f()
		mu.Lock()
		idle = append(idle, w)
		mu.Unlock()
		f = <-w.next
	}
}
