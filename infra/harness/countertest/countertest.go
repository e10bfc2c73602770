// Package countertest is an in-memory abuse.Counter for tests that need
// the rate limits to count but no table: a hit on a full counter is
// refused and Undo gives one back, as the DynamoDB adapter does.
package countertest

import (
	"context"
	"sync"
	"time"
)

// Counter counts hits per key. Its zero value is ready to use.
type Counter struct {
	mu   sync.Mutex
	n    map[string]int
	keys []string
	// Err, when set, fails every call, as an unreachable table does.
	Err error
}

// Hit counts one hit on key unless key has limit hits already.
func (c *Counter) Hit(_ context.Context, key string, limit int, _ time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return false, c.Err
	}
	c.keys = append(c.keys, key)
	if c.n[key] >= limit {
		return false, nil
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	return true, nil
}

// Undo takes back one hit on key.
func (c *Counter) Undo(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	if c.n[key] > 0 {
		c.n[key]--
	}
	return nil
}

// Set puts key at n hits, as earlier posts would have.
func (c *Counter) Set(key string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key] = n
}

// Keys are the keys hit so far, in order (refused hits too).
func (c *Counter) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}
