// Package meeting lets a test prove that calls run at the same time: each
// party that arrives at a Point waits there until every party has arrived.
// Made one after another, the calls never meet, and the first fails when
// its context ends, instead of the test passing by timing.
package meeting

import (
	"context"
	"fmt"
	"maps"
	"sync"
)

// Point is where n distinct parties meet.
type Point struct {
	mu      sync.Mutex
	arrived map[string]int
	n       int
	all     chan struct{}
}

// New is a point for n parties.
func New(n int) *Point {
	return &Point{arrived: map[string]int{}, n: n, all: make(chan struct{})}
}

// Arrive records party and waits until n distinct parties have arrived
// (a party arriving again waits too, and counts once), or ctx ends.
func (p *Point) Arrive(ctx context.Context, party string) error {
	p.mu.Lock()
	p.arrived[party]++
	if p.arrived[party] == 1 && len(p.arrived) == p.n {
		close(p.all)
	}
	p.mu.Unlock()
	select {
	case <-p.all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s waited alone: %w", party, ctx.Err())
	}
}

// Arrivals says how often each party arrived.
func (p *Point) Arrivals() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.arrived)
}
