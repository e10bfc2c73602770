package deadline_test

import (
	"context"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/deadline"
)

func TestBound(t *testing.T) {
	t.Run("no outer deadline: the limit", func(t *testing.T) {
		before := time.Now()
		c, cancel := deadline.Bound(context.Background(), 3*time.Second, time.Second)
		defer cancel()
		dl, ok := c.Deadline()
		if !ok || dl.Before(before.Add(3*time.Second)) || dl.After(time.Now().Add(3*time.Second)) {
			t.Errorf("deadline %v (set %v), want 3 s from now", dl, ok)
		}
	})
	t.Run("outer deadline sooner: it minus the reserve", func(t *testing.T) {
		outer, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
		defer cancel()
		c, cancel := deadline.Bound(outer, 2*time.Hour, 10*time.Minute)
		defer cancel()
		dl, _ := c.Deadline()
		odl, _ := outer.Deadline()
		if got, want := odl.Sub(dl), 10*time.Minute; got < want-time.Minute || got > want+time.Minute {
			t.Errorf("deadline %v before the outer one, want %v", got, want)
		}
	})
	t.Run("no time left: fails fast", func(t *testing.T) {
		outer, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Second))
		defer cancel()
		c, cancel := deadline.Bound(outer, time.Hour, time.Hour)
		defer cancel()
		<-c.Done()
		if c.Err() != context.DeadlineExceeded {
			t.Errorf("err %v", c.Err())
		}
		if outer.Err() != nil {
			t.Error("the outer context ended first")
		}
	})
}
