package erasure

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// Self-service erasure: a visitor asks with their address, gets a signed,
// expiring, single-use link at that address, and only the click (and a
// confirming button press) puts the request on the erasure queue. The link
// carries a random id, never the address, which waits server-side until the
// token expires.

// Token errors. Each gets its own clear page.
var (
	ErrTokenInvalid = errors.New("token is malformed or its signature does not match")
	ErrTokenExpired = errors.New("token has expired")
	ErrTokenUsed    = errors.New("token was used already or is unknown")
)

// Tokens signs and checks confirmation tokens with HMAC-SHA256.
type Tokens struct {
	Key      []byte
	Lifetime time.Duration
}

var b64 = base64.RawURLEncoding

// Issue returns a token for id that expires after the lifetime.
func (t Tokens) Issue(id string, now time.Time) (token string, expires time.Time) {
	expires = now.Add(t.Lifetime).Truncate(time.Second)
	payload := "v1." + id + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + b64.EncodeToString(t.mac(payload)), expires
}

// Verify checks the signature first (so a forged token learns nothing about
// expiry) and then the expiry, and returns the id.
func (t Tokens) Verify(token string, now time.Time) (string, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || len(token) > 256 {
		return "", ErrTokenInvalid
	}
	payload, sig := token[:i], token[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(payload)) {
		return "", ErrTokenInvalid
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != "v1" || parts[1] == "" {
		return "", ErrTokenInvalid
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", ErrTokenInvalid
	}
	if !now.Before(time.Unix(exp, 0)) {
		return "", ErrTokenExpired
	}
	return parts[1], nil
}

func (t Tokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.Key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// PendingStore keeps an asked-for erasure until its link is used or expires.
type PendingStore interface {
	// SavePending stores the address under id until expires.
	SavePending(ctx context.Context, id, email string, expires time.Time) error
	// TakePending returns the address and removes it, once: a second call
	// (or one after expiry) returns ErrTokenUsed.
	TakePending(ctx context.Context, id string) (string, error)
	// PeekPending reports whether id is still waiting, without using it.
	PeekPending(ctx context.Context, id string) (bool, error)
}

// Counter counts events in fixed windows: Hit adds one to key unless it has
// reached limit, atomically, and reports whether it did.
type Counter interface {
	Hit(ctx context.Context, key string, limit int, expires time.Time) (bool, error)
}

// Enqueuer puts a request on the erasure queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, r Request) error
}

// LinkMailer emails the confirmation link.
type LinkMailer interface {
	SendConfirmLink(ctx context.Context, to, link, lang string, expires time.Time) error
}

// SelfService handles visitors' own erasure requests.
type SelfService struct {
	Tokens  Tokens
	Store   PendingStore
	Counter Counter
	Queue   Enqueuer
	Mailer  LinkMailer
	// LookupKeys keys the per-mailbox counters, so that no counter's id
	// holds an address or its plain hash.
	LookupKeys *submission.LookupKeys
	// HashSource pseudonymises a source IP address for its counter (the
	// form's rate limit's salted hash, abuse.HashIP).
	HashSource func(ip string) string
	Limits     AskLimits
	Window     time.Duration
	Metrics    Metrics
	Now        func() time.Time
	Log        *slog.Logger
}

// AskLimits bound the links the page sends per Window: per mailbox (in its
// canonical form, see CanonicalMailbox), per source address, and for the
// whole page. Each one alone leaves a way to flood: per mailbox only, one
// source mails anyone and everyone; per source only, many sources flood one
// mailbox; the page's ceiling bounds what any number of sources can cost.
type AskLimits struct {
	PerMailbox, PerSource, PerPage int
}

// AskCounterPrefix begins the names of the page's counters; the template
// lets the privacy function update no other counters, and the submit
// function none of these. A form id cannot begin with "_", so no form's
// counter (named after its form) can have this name.
const AskCounterPrefix = "_erasure-ask#"

// Metrics of asks that were answered but sent no link, by the limit that
// stopped them. MetricAskPageCeiling raises an alarm: while the page's
// ceiling holds, nobody gets a link.
const (
	MetricAskMailboxLimit = "ErasureAsksOverMailboxLimit"
	MetricAskSourceLimit  = "ErasureAsksOverSourceLimit"
	MetricAskPageCeiling  = "ErasureAsksOverPageCeiling"
)

// Ask handles "erase my data" for address (already validated), asked from
// sourceIP. It does the same visible thing whether or not anything is
// stored for the address, so the answer tells nobody whether a person has
// written to the operator. Asks over a limit are dropped silently for the
// same reason, and so that nobody can flood a stranger's mailbox: the
// source's limit is counted first, so a flooding source cannot use up a
// stranger's mailbox limit or the page's ceiling once it is refused.
// confirmURL is the confirmation page the link points at.
func (s *SelfService) Ask(ctx context.Context, address, sourceIP, lang, confirmURL string) error {
	start := s.Now().Truncate(s.Window)
	window := "#" + strconv.FormatInt(start.Unix(), 10)
	for _, c := range []struct {
		key, metric string
		limit       int
	}{
		{AskCounterPrefix + "source#" + s.HashSource(sourceIP) + window, MetricAskSourceLimit, s.Limits.PerSource},
		{AskCounterPrefix + "mailbox#" + s.LookupKeys.Key(CanonicalMailbox(address)) + window, MetricAskMailboxLimit, s.Limits.PerMailbox},
		{AskCounterPrefix + "page" + window, MetricAskPageCeiling, s.Limits.PerPage},
	} {
		ok, err := s.Counter.Hit(ctx, c.key, c.limit, start.Add(s.Window))
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if !ok {
			s.Log.WarnContext(ctx, "erasure request over a limit; not sent", slog.String("metric", c.metric))
			if s.Metrics != nil {
				s.Metrics.Publish(map[string]int{c.metric: 1})
			}
			return nil
		}
	}
	id := strings.ToLower(rand.Text())
	token, expires := s.Tokens.Issue(id, s.Now())
	if err := s.Store.SavePending(ctx, id, address, expires); err != nil {
		return fmt.Errorf("save pending erasure: %w", err)
	}
	if err := s.Mailer.SendConfirmLink(ctx, address, confirmURL+"?token="+token, lang, expires); err != nil {
		return fmt.Errorf("send confirmation link: %w", err)
	}
	s.Log.InfoContext(ctx, "erasure link sent", slog.String("pending_id", id))
	return nil
}

// CanonicalMailbox is the mailbox an address delivers to, as far as it can
// be told from the address, for counting asks: lower case, without a
// "+tag" (sub-addressing, which most providers deliver to the same
// mailbox), and, for Gmail, without dots in the local part (Google
// documents that dots do not matter in Gmail addresses, and googlemail.com
// is the same service). It is never used to send or to find copies.
func CanonicalMailbox(address string) string {
	a := strings.ToLower(strings.TrimSpace(address))
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	local, domain := a[:at], a[at+1:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		domain = "gmail.com"
		if l := strings.ReplaceAll(local, ".", ""); l != "" {
			local = l
		}
	}
	return local + "@" + domain
}

// Check validates a token without using it (the page with the confirm
// button): mail scanners that open links must not erase anything.
func (s *SelfService) Check(ctx context.Context, token string) error {
	id, err := s.Tokens.Verify(token, s.Now())
	if err != nil {
		return err
	}
	ok, err := s.Store.PeekPending(ctx, id)
	if err != nil {
		return fmt.Errorf("read pending erasure: %w", err)
	}
	if !ok {
		return ErrTokenUsed
	}
	return nil
}

// Confirm uses the token once and enqueues the erasure. It returns the
// request id the receipt will carry.
func (s *SelfService) Confirm(ctx context.Context, token string) (string, error) {
	id, err := s.Tokens.Verify(token, s.Now())
	if err != nil {
		return "", err
	}
	address, err := s.Store.TakePending(ctx, id)
	if err != nil {
		return "", err
	}
	req := Request{Email: address, RequestID: "ss-" + id, Source: SourceSelfService}
	if err := s.Queue.Enqueue(ctx, req); err != nil {
		// The token is spent but the request is not queued: put it back so
		// the visitor can press the button again.
		if perr := s.Store.SavePending(ctx, id, address, s.Now().Add(time.Hour)); perr != nil {
			s.Log.ErrorContext(ctx, "erasure request lost; visitor must ask again", slog.String("pending_id", id))
		}
		return "", fmt.Errorf("enqueue erasure: %w", err)
	}
	s.Log.InfoContext(ctx, "erasure request queued", slog.String("request_id", req.RequestID), slog.String("source", req.Source))
	return req.RequestID, nil
}
