package localstack

import (
	"context"
	"testing"
	"time"
)

// TestContext begins a test that starts an emulator (or moto): it skips t
// under -short, which make unit runs with no emulator at all, and returns
// a context that ends after limit or when t ends.
func TestContext(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an emulator (not run with -short: make unit needs none)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// OnlyEmail returns the one email s holds (since the last ClearEmails),
// failing t at once if it holds none or more.
func (s *Stack) OnlyEmail(ctx context.Context, t testing.TB) Email {
	t.Helper()
	emails, err := s.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 1 {
		t.Fatalf("%d emails, want 1: %+v", len(emails), emails)
	}
	return emails[0]
}
