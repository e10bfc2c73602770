package erasure_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// The spellings of one mailbox give the same canonical address, so that a
// person is counted once whichever they type.
func TestCanonicalMailbox(t *testing.T) {
	for want, spellings := range map[string][]string{
		"kari@example.no":         {"Kari@Example.no", "kari+1@example.no", "kari+a+b@example.no"},
		"k.a.r.i@example.no":      {"k.a.r.i@example.no"}, // dots matter outside Gmail
		"kari@gmail.com":          {"K.ari+x@GMail.com", "kari@googlemail.com"},
		"+kari@example.no":        {"+kari@example.no"}, // no local part left: keep it
		"ola.nordmann@example.no": {"ola.nordmann@example.no", " ola.nordmann@example.no \t"},
	} {
		for _, in := range spellings {
			if got := erasure.CanonicalMailbox(in); got != want {
				t.Errorf("CanonicalMailbox(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

// counter is an in-memory erasure.Counter.
type counter map[string]int

func (c counter) Hit(_ context.Context, key string, limit int, _ time.Time) (bool, error) {
	if c[key] >= limit {
		return false, nil
	}
	c[key]++
	return true, nil
}

type pending struct{}

func (pending) SavePending(context.Context, string, erasure.Pending, time.Time) error { return nil }
func (pending) TakePending(context.Context, string) (erasure.Pending, error) {
	return erasure.Pending{}, nil
}
func (pending) PeekPending(context.Context, string) (string, error) { return "", nil }

type mailer struct{ to, purposes []string }

func (m *mailer) SendConfirmLink(_ context.Context, to, _, _, purpose string, _ time.Time) error {
	m.to = append(m.to, to)
	m.purposes = append(m.purposes, purpose)
	return nil
}

func selfService(limits erasure.AskLimits) (*erasure.SelfService, *mailer, counter, counts) {
	m, c, n := &mailer{}, counter{}, counts{}
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	return &erasure.SelfService{
		Tokens: erasure.Tokens{Key: []byte(strings.Repeat("t", 32)), Lifetime: time.Hour}, Store: pending{},
		Counter: c, Mailer: m, LookupKeys: keys, HashSource: func(ip string) string { return "h(" + ip + ")" },
		Limits: limits, Window: time.Hour, Metrics: n,
		Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler),
	}, m, c, n
}

// One mailbox gets at most PerMailbox links an hour however its address is
// spelt; one source mails at most PerSource addresses; the page sends at
// most PerPage links in all.
func TestAskLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("mailbox", func(t *testing.T) {
		svc, m, _, n := selfService(erasure.AskLimits{PerMailbox: 3, PerSource: 100, PerPage: 100})
		for i, addr := range []string{"victim@example.no", "victim+1@example.no", "Victim+2@example.no", "VICTIM@EXAMPLE.NO", "victim+x@example.no"} {
			if err := svc.Ask(ctx, addr, fmt.Sprintf("192.0.2.%d", i), "nb", "https://x/erasure/confirm"); err != nil {
				t.Fatal(err)
			}
		}
		if len(m.to) != 3 || n[erasure.MetricAskMailboxLimit] != 2 {
			t.Errorf("sent to %q, %d over the limit; want 3 links and 2 counted", m.to, n[erasure.MetricAskMailboxLimit])
		}
	})
	t.Run("source", func(t *testing.T) {
		svc, m, c, n := selfService(erasure.AskLimits{PerMailbox: 3, PerSource: 5, PerPage: 100})
		for i := range 8 {
			if err := svc.Ask(ctx, fmt.Sprintf("person%d@example.no", i), "198.51.100.7", "nb", "https://x/erasure/confirm"); err != nil {
				t.Fatal(err)
			}
		}
		if len(m.to) != 5 || n[erasure.MetricAskSourceLimit] != 3 {
			t.Errorf("sent %d links, %d over the limit; want 5 and 3", len(m.to), n[erasure.MetricAskSourceLimit])
		}
		// A refused source used nothing of the page's ceiling.
		for k, v := range c {
			if strings.Contains(k, "#page#") && v != 5 {
				t.Errorf("page counter %s = %d, want 5", k, v)
			}
		}
	})
	t.Run("page", func(t *testing.T) {
		svc, m, _, n := selfService(erasure.AskLimits{PerMailbox: 3, PerSource: 5, PerPage: 4})
		for i := range 6 {
			if err := svc.Ask(ctx, fmt.Sprintf("person%d@example.no", i), fmt.Sprintf("203.0.113.%d", i), "nb", "https://x/erasure/confirm"); err != nil {
				t.Fatal(err)
			}
		}
		if len(m.to) != 4 || n[erasure.MetricAskPageCeiling] != 2 {
			t.Errorf("sent %d links, %d over the ceiling; want 4 and 2", len(m.to), n[erasure.MetricAskPageCeiling])
		}
	})
}

// Access asks go through the same limits as erasure asks: both send a link
// to a mailbox, so alternating them cannot flood one. A purpose that is
// neither is refused.
func TestAccessAsksShareTheLimits(t *testing.T) {
	ctx := context.Background()
	svc, m, _, n := selfService(erasure.AskLimits{PerMailbox: 3, PerSource: 100, PerPage: 100})
	for i, p := range []string{erasure.PurposeAccess, erasure.PurposeErasure, erasure.PurposeAccess, erasure.PurposeErasure, erasure.PurposeAccess} {
		if err := svc.AskFor(ctx, p, "victim@example.no", fmt.Sprintf("192.0.2.%d", i), "nb", "https://x/privacy/confirm"); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.to) != 3 || n[erasure.MetricAskMailboxLimit] != 2 || strings.Join(m.purposes, ",") != "access,erasure,access" {
		t.Errorf("sent %v (%v), %d over the limit; want 3 links and 2 counted", m.to, m.purposes, n[erasure.MetricAskMailboxLimit])
	}
	if err := svc.AskFor(ctx, "publish", "kari@example.no", "192.0.2.9", "nb", "https://x/privacy/confirm"); err == nil || len(m.to) != 3 {
		t.Errorf("unknown purpose: %v, %d links", err, len(m.to))
	}
}

// No counter's id holds the address or its plain hash (which anyone could
// confirm by hashing a guess); the source is counted by its hash.
func TestAskCounterNames(t *testing.T) {
	svc, _, c, _ := selfService(erasure.AskLimits{PerMailbox: 3, PerSource: 5, PerPage: 10})
	if err := svc.Ask(context.Background(), "kari@example.no", "192.0.2.1", "nb", "https://x/erasure/confirm"); err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 {
		t.Fatalf("counters %v, want 3", c)
	}
	source := 0
	for k := range c {
		if !strings.HasPrefix(k, erasure.AskCounterPrefix) || strings.Contains(k, "kari") || strings.Contains(k, submission.LegacyLookupKey("kari@example.no")) {
			t.Errorf("counter %q", k)
		}
		if strings.Contains(k, "h(192.0.2.1)") {
			source++
		}
	}
	if source != 1 {
		t.Errorf("no counter is keyed by the source's hash: %v", c)
	}
}
