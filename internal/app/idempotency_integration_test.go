package app_test

import (
	"sync"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
)

// A double click: two identical posts at the same moment produce one
// email, and both visitors' answers carry the same id.
func TestIdenticalPostsAtOnceSendOneEmail(t *testing.T) {
	integration(t)
	s := newStack(t)
	// SES slow enough that the second post arrives while the first sends.
	s.ses.Set(faultproxy.Fault{Delay: 300e6})
	ev := s.visitor(t, 1)
	answers := make([]answer, 4)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.post(t, ctx(t), ev)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 || a.ID != answers[0].ID {
			t.Errorf("answer %d: %+v, want 200 with id %s", i, a, answers[0].ID)
		}
	}
	assertEmailedOnce(t, []string{answers[0].ID})
}

// A client retry with the same Idempotency-Key is answered like the first
// request, even with another body, and sends nothing.
func TestIdempotencyKeyRetry(t *testing.T) {
	integration(t)
	s := newStack(t)
	first := s.visitor(t, 1)
	first.Headers["idempotency-key"] = "order-4711"
	a := s.post(t, ctx(t), first)
	retry := s.visitor(t, 2)
	retry.Headers["idempotency-key"] = "order-4711"
	b := s.post(t, ctx(t), retry)
	if a.status != 200 || b.status != 200 || b.ID != a.ID {
		t.Fatalf("answers %+v / %+v, want the retry answered with the first id", a, b)
	}
	assertEmailedOnce(t, []string{a.ID})
}

// The first post was stored (SES down): the repeat is answered 202 like it,
// and redrive sends the one copy once.
func TestRepeatOfAStoredPost(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Down()
	ev := s.visitor(t, 1)
	a := s.post(t, ctx(t), ev)
	b := s.post(t, ctx(t), ev)
	if a.status != 202 || b.status != 202 || a.ID != b.ID {
		t.Fatalf("answers %+v / %+v, want both 202 with one id", a, b)
	}
	if err := s.ses.Up(); err != nil {
		t.Fatal(err)
	}
	s.redriveSends(t, 1)
	assertEmailedOnce(t, []string{a.ID})
}
