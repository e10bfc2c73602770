package abuse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/deadline"
	"github.com/opt-e/kontakt/internal/submission"
)

// Counter counts posts in fixed windows. Hit adds one to the counter named
// key unless it has reached limit already, atomically (so that concurrent
// posts never let more than limit through), and reports whether it did.
// The counter may be deleted after expires. Undo takes one hit back.
type Counter interface {
	Hit(ctx context.Context, key string, limit int, expires time.Time) (bool, error)
	Undo(ctx context.Context, key string) error
}

// DefaultCounterTimeout bounds a counter call: the limit is a guard, not the
// visitor's business, so it may not hold them up for long.
const DefaultCounterTimeout = time.Second

// window is the fixed counting window a post falls in; suffix ends the
// names of its counters ("#" and the start's Unix time).
type window struct {
	now, start, end time.Time
	suffix          string
}

func newWindow(now time.Time, length time.Duration) window {
	start := now.Truncate(length)
	var b [24]byte
	return window{now: now, start: start, end: start.Add(length), suffix: string(strconv.AppendInt(append(b[:0], '#'), start.Unix(), 10))}
}

// verdict is one counter's answer: refused or not, or err when the
// counter could not be reached.
type verdict struct {
	ok  bool
	err error
}

// hit counts one post against key. A counter that cannot be reached lets
// the post through (fail open) and says so in the logs and metrics: the
// promise is that a message reaches staff, and a store outage must not
// turn into refusing every visitor. API Gateway's own throttling still
// bounds the rate meanwhile.
// ctx carries the counter's deadline (see counterContext).
func (g *Guard) hit(ctx context.Context, form *config.Form, w window, key string, limit int, rule Rule) verdict {
	ok, err := g.Counter.Hit(ctx, key, limit, w.end)
	if err != nil {
		g.log().WarnContext(ctx, "rate limit not checked", slog.String("form", form.ID),
			slog.String("rule", string(rule)), slog.String("error_class", submission.ErrorClass(err)))
		g.count(form, RuleRateUnavailable)
		return verdict{ok: true, err: err}
	}
	return verdict{ok: ok}
}

// limit counts one post against key and refuses it over limit.
func (g *Guard) limit(ctx context.Context, form *config.Form, w window, key string, limit int, rule Rule) error {
	if g.under(ctx, form, w, key, limit, rule) {
		return nil
	}
	return g.refuse(form, g.limited(w, rule))
}

// under counts one post against key and reports whether it is within limit.
func (g *Guard) under(ctx context.Context, form *config.Form, w window, key string, limit int, rule Rule) bool {
	if g.Counter == nil {
		return true
	}
	c, cancel := g.counterContext(ctx)
	defer cancel()
	return g.hit(c, form, w, key, limit, rule).ok
}

// limits counts a post against its address's limit and the form's ceiling
// at the same time: one round trip instead of two for every visitor. A post
// refused by its address's limit then takes its count on the form back, so
// that one flooding address still cannot use the ceiling up for everyone
// (for the moment between the two calls the form's count is one too high).
func (g *Guard) limits(ctx context.Context, form *config.Form, w window, ip string) error {
	if g.Counter == nil {
		return nil
	}
	rl := form.Abuse.RateLimit
	fk := formKey(form.ID, w)
	c, cancel := g.counterContext(ctx) // one deadline for the round
	defer cancel()
	perForm := make(chan verdict, 1)
	go func() { perForm <- g.hit(c, form, w, fk, rl.PerForm, RuleRateForm) }()
	perIP := g.hit(c, form, w, ip, rl.PerIP, RuleRateIP)
	f := <-perForm
	switch {
	case !perIP.ok:
		if f.ok && f.err == nil {
			g.undo(ctx, form, fk)
		}
		return g.refuse(form, g.limited(w, RuleRateIP))
	case !f.ok:
		return g.hold(ctx, form)
	}
	return nil
}

// hold answers a post over the form's ceiling that its address's limit
// let through: it may well be a person's, so it is kept, not refused
// (submission.ErrHold: stored, emailed later by the redrive function at its
// own pace). The metric MetricHeld, under the function's name, raises the
// alarm that the ceiling was reached.
func (g *Guard) hold(ctx context.Context, form *config.Form) error {
	if g.Metrics != nil {
		g.Metrics.Publish(map[string]int{MetricHeld: 1})
	}
	g.log().WarnContext(ctx, "form ceiling reached; post held for later", slog.String("form", form.ID))
	return submission.ErrHold
}

// SourceKey is the keyed hash of a source address (its /64 for IPv6) that
// the rate limits count by: never reversible to the address without the
// key. The duplicate window counts it too (submission.Submission.Source).
// A nil Guard hashes with no key.
func (g *Guard) SourceKey(ip string) string {
	if g == nil {
		return (&Guard{}).hashIP(ip)
	}
	return g.hashIP(ip)
}

func (g *Guard) undo(ctx context.Context, form *config.Form, key string) {
	c, cancel := g.counterContext(ctx)
	defer cancel()
	if err := g.Counter.Undo(c, key); err != nil {
		// The form's ceiling is one lower until the window ends.
		g.log().WarnContext(ctx, "rate limit count not given back", slog.String("form", form.ID),
			slog.String("error_class", submission.ErrorClass(err)))
	}
}

func (g *Guard) limited(w window, rule Rule) *Refusal {
	return &Refusal{Kind: Limited, Rule: rule, RetryAfter: retryAfter(w.end.Sub(w.now))}
}

// counterContext bounds counter calls by CounterTimeout.
func (g *Guard) counterContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := g.CounterTimeout
	if timeout <= 0 {
		timeout = DefaultCounterTimeout
	}
	return deadline.Bound(ctx, timeout, 0)
}

// retryAfter rounds up to whole seconds, at least one.
func retryAfter(d time.Duration) time.Duration {
	return time.Duration(max(1, math.Ceil(d.Seconds()))) * time.Second
}

// Counter names: the form, the hashed address or "form", the window.
func ipKey(formID, ipHash string, w window) string { return formID + "#ip#" + ipHash + w.suffix }
func formKey(formID string, w window) string       { return formID + "#form" + w.suffix }

// uploadKey counts an address's requests for direct uploads, apart from its posts.
func uploadKey(formID, ipHash string, w window) string {
	return formID + "#upload#" + ipHash + w.suffix
}

// hashIP is HashIP with g.IPKey. Keyed HMACs are reused: setting one up
// hashes the key twice, and allocates more than hashing an address does.
func (g *Guard) hashIP(ip string) string {
	m, _ := g.ipHashers.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, g.IPKey)
	} else {
		m.Reset()
	}
	out := sumIP(m, ip)
	g.ipHashers.Put(m)
	return out
}

// HashIP is the salted hash a counter is keyed by (the form's rate limit,
// and the erasure page's), with key the IP-hash key of Keys. An IPv6
// address counts by its /64, the block one subscriber usually gets: per
// address, one visitor would have 2^64 of them.
func HashIP(key []byte, ip string) string { return sumIP(hmac.New(sha256.New, key), ip) }

func sumIP(m hash.Hash, ip string) string {
	canonical := "unknown"
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			a = p.Addr()
		}
		canonical = a.String()
	}
	io.WriteString(m, canonical)
	var sum [sha256.Size]byte
	var out [32]byte
	hex.Encode(out[:], m.Sum(sum[:0])[:16])
	return string(out[:])
}
