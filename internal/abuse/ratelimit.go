package abuse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// Counter counts posts in fixed windows. Hit adds one to the counter named
// key unless it has reached limit already, atomically (so that concurrent
// posts never let more than limit through), and reports whether it did.
// The counter may be deleted after expires.
type Counter interface {
	Hit(ctx context.Context, key string, limit int, expires time.Time) (bool, error)
}

// DefaultCounterTimeout bounds a counter call: the limit is a guard, not the
// visitor's business, so it may not hold them up for long.
const DefaultCounterTimeout = time.Second

// limit counts one post against key. A counter that cannot be reached lets
// the post through (fail open) and says so in the logs and metrics: the
// promise is that a message reaches staff, and a store outage must not
// turn into refusing every visitor. API Gateway's own throttling still
// bounds the rate meanwhile.
func (g *Guard) limit(ctx context.Context, form *config.Form, key string, limit int, window time.Duration, now time.Time, rule Rule) error {
	if g.Counter == nil {
		return nil
	}
	start := now.Truncate(window)
	end := start.Add(window)
	timeout := g.CounterTimeout
	if timeout <= 0 {
		timeout = DefaultCounterTimeout
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := g.Counter.Hit(c, key+"#"+strconv.FormatInt(start.Unix(), 10), limit, end)
	if err != nil {
		g.log().WarnContext(ctx, "rate limit not checked", slog.String("form", form.ID),
			slog.String("rule", string(rule)), slog.String("error_class", submission.ErrorClass(err)))
		g.count(form, RuleRateUnavailable)
		return nil
	}
	if ok {
		return nil
	}
	return g.refuse(form, &Refusal{Kind: Limited, Rule: rule, RetryAfter: retryAfter(end.Sub(now))})
}

// retryAfter rounds up to whole seconds, at least one.
func retryAfter(d time.Duration) time.Duration {
	return time.Duration(max(1, math.Ceil(d.Seconds()))) * time.Second
}

func ipKey(formID, ipHash string) string { return formID + "#ip#" + ipHash }
func formKey(formID string) string       { return formID + "#form" }

// hashIP is the salted hash a counter is keyed by. An IPv6 address counts
// by its /64, the block one subscriber usually gets: per address, one
// visitor would have 2^64 of them.
func (g *Guard) hashIP(ip string) string {
	canonical := "unknown"
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			a = p.Addr()
		}
		canonical = a.String()
	}
	m := hmac.New(sha256.New, g.IPKey)
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
