package erasure_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
)

// deadlines is every port of SelfService at once. Each call records whether
// its context had a deadline, and how far off it was.
type deadlines struct {
	mu      sync.Mutex
	calls   []string
	missing []string
	longest time.Duration
	pending map[string]erasure.Pending
	queue   error
	token   string // from the last link sent
}

func (d *deadlines) saw(ctx context.Context, call string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, call)
	dl, ok := ctx.Deadline()
	if !ok {
		d.missing = append(d.missing, call)
		return
	}
	d.longest = max(d.longest, time.Until(dl))
}

func (d *deadlines) Hit(ctx context.Context, _ string, _ int, _ time.Time) (bool, error) {
	d.saw(ctx, "Hit")
	return true, nil
}

func (d *deadlines) SavePending(ctx context.Context, id string, p erasure.Pending, _ time.Time) error {
	d.saw(ctx, "SavePending")
	d.pending[id] = p
	return nil
}

func (d *deadlines) TakePending(ctx context.Context, id string) (erasure.Pending, error) {
	d.saw(ctx, "TakePending")
	p, ok := d.pending[id]
	if !ok {
		return erasure.Pending{}, erasure.ErrTokenUsed
	}
	delete(d.pending, id)
	return p, nil
}

func (d *deadlines) PeekPending(ctx context.Context, id string) (string, error) {
	d.saw(ctx, "PeekPending")
	return d.pending[id].Purpose, nil
}

func (d *deadlines) Enqueue(ctx context.Context, _ erasure.Request) error {
	d.saw(ctx, "Enqueue")
	return d.queue
}

func (d *deadlines) SendConfirmLink(ctx context.Context, _, link, _, _ string, _ time.Time) error {
	d.saw(ctx, "SendConfirmLink")
	d.token = link[len("https://x/erasure/confirm?token="):]
	return nil
}

// Every call the privacy function makes (the table, the queue, SES) has a
// deadline of its own, even when the handler's context has none, so a slow
// dependency ends in a clean 503 rather than a Lambda timeout.
func TestSelfServiceCallsHaveDeadlines(t *testing.T) {
	d := &deadlines{pending: map[string]erasure.Pending{}, queue: errors.New("queue down")}
	s := &erasure.SelfService{
		Tokens: erasure.Tokens{Key: []byte("0123456789abcdef0123456789abcdef"), Lifetime: time.Hour},
		Store:  d, Counter: d, Queue: d, Mailer: d, LookupKeys: keys, HashSource: func(ip string) string { return ip },
		Limits: erasure.AskLimits{PerMailbox: 3, PerSource: 3, PerPage: 3}, Window: time.Hour,
		Now: time.Now, Log: slog.New(slog.DiscardHandler), CallTimeout: 2 * time.Second,
	}
	ctx := context.Background()
	if err := s.Ask(ctx, "kari@example.no", "192.0.2.1", "nb", "https://x/erasure/confirm"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, d.token); err != nil {
		t.Fatal(err)
	}
	// The queue fails, so the pending request is put back: that call too.
	if _, err := s.Confirm(ctx, d.token); err == nil {
		t.Fatal("Confirm succeeded with the queue down")
	}
	d.queue = nil
	if _, err := s.Confirm(ctx, d.token); err != nil {
		t.Fatal(err)
	}
	want := []string{"Hit", "Hit", "Hit", "SavePending", "SendConfirmLink", "PeekPending", "TakePending", "Enqueue", "SavePending", "TakePending", "Enqueue"}
	if len(d.calls) != len(want) {
		t.Fatalf("calls %v, want %v", d.calls, want)
	}
	if len(d.missing) > 0 {
		t.Errorf("calls without a deadline: %v", d.missing)
	}
	if d.longest > 2*time.Second {
		t.Errorf("a call got %v, more than CallTimeout", d.longest)
	}
}

// Without settings, the defaults apply, and a Lambda deadline close at hand
// shortens every call so the function still answers.
func TestSelfServiceCallsKeepTheReserve(t *testing.T) {
	d := &deadlines{pending: map[string]erasure.Pending{}}
	s := &erasure.SelfService{
		Tokens: erasure.Tokens{Key: []byte("0123456789abcdef0123456789abcdef"), Lifetime: time.Hour},
		Store:  d, Counter: d, Queue: d, Mailer: d, LookupKeys: keys, HashSource: func(ip string) string { return ip },
		Limits: erasure.AskLimits{PerMailbox: 3, PerSource: 3, PerPage: 3}, Window: time.Hour,
		Now: time.Now, Log: slog.New(slog.DiscardHandler),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := s.Ask(ctx, "kari@example.no", "192.0.2.1", "en", "https://x/erasure/confirm"); err != nil {
		t.Fatal(err)
	}
	if len(d.missing) > 0 || d.longest > erasure.DefaultCallTimeout {
		t.Errorf("without a deadline: %v; longest %v", d.missing, d.longest)
	}
	d.longest = 0
	ctx, cancel = context.WithTimeout(context.Background(), erasure.DefaultReserve+time.Second)
	defer cancel()
	if _, err := s.Check(ctx, d.token); err != nil {
		t.Fatal(err)
	}
	if d.longest > time.Second {
		t.Errorf("PeekPending got %v with the reserve taken; want at most 1 s", d.longest)
	}
}
