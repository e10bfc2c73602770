package meeting_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/meeting"
)

// Parties that arrive at the same time all go on; one arriving again
// counts once.
func TestPartiesMeet(t *testing.T) {
	p := meeting.New(2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, party := range []string{"a", "b", "a"} {
		wg.Go(func() { errs[i] = p.Arrive(ctx, party) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := p.Arrivals(); got["a"] != 2 || got["b"] != 1 || len(got) != 2 {
		t.Errorf("arrivals %v", got)
	}
}

// A party alone waits until its context ends, and says so.
func TestAPartyAloneFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := meeting.New(2).Arrive(ctx, "a")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
}
