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

	"github.com/opt-e/kontakt/internal/deadline"
	"github.com/opt-e/kontakt/internal/submission"
)

// Self-service erasure and access: a visitor asks with their address, gets
// a signed, expiring, single-use link at that address, and only the click
// (and a confirming button press) acts: an erasure goes on the erasure
// queue; an access request emails what is stored to that same address. The
// link carries a random id, never the address, which waits server-side
// until the token expires.

// Purposes of a self-service request.
const (
	PurposeErasure = "erasure"
	PurposeAccess  = "access"
)

// Pending is a request waiting for its link to be used.
type Pending struct {
	Email   string
	Purpose string // PurposeErasure or PurposeAccess
	// Language is the visitor's, for the emails that follow.
	Language string
}

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

// PendingStore keeps an asked-for request until its link is used or expires.
type PendingStore interface {
	// SavePending stores the request under id until expires.
	SavePending(ctx context.Context, id string, p Pending, expires time.Time) error
	// TakePending returns the request and removes it, once: a second call
	// (or one after expiry) returns ErrTokenUsed.
	TakePending(ctx context.Context, id string) (Pending, error)
	// PeekPending returns the purpose of the request waiting under id, or
	// "" when none is, without using it.
	PeekPending(ctx context.Context, id string) (string, error)
}

// Accessor emails a person what is stored about them (package disclosure).
type Accessor interface {
	SendAccess(ctx context.Context, address, lang, requestID string) error
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

// LinkMailer emails the confirmation link for a purpose.
type LinkMailer interface {
	SendConfirmLink(ctx context.Context, to, link, lang, purpose string, expires time.Time) error
}

// SelfService handles visitors' own erasure and access requests.
type SelfService struct {
	Tokens  Tokens
	Store   PendingStore
	Counter Counter
	Queue   Enqueuer
	Access  Accessor
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
	// CallTimeout bounds each call to the table, the queue and SES (0:
	// DefaultCallTimeout); Reserve is kept from the Lambda deadline for the
	// answer (0: DefaultReserve).
	CallTimeout time.Duration
	Reserve     time.Duration
}

// Defaults for SelfService's deadlines: the calls in a row fit the
// privacy function's 10 s timeout with a second left to answer.
const (
	DefaultCallTimeout = 2 * time.Second
	DefaultReserve     = time.Second
)

// call bounds one external call (see deadline.Bound).
func (s *SelfService) call(ctx context.Context) (context.Context, context.CancelFunc) {
	limit, reserve := s.CallTimeout, s.Reserve
	if limit <= 0 {
		limit = DefaultCallTimeout
	}
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	return deadline.Bound(ctx, limit, reserve)
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

// Ask handles "erase my data" for address; see AskFor.
func (s *SelfService) Ask(ctx context.Context, address, sourceIP, lang, confirmURL string) error {
	return s.AskFor(ctx, PurposeErasure, address, sourceIP, lang, confirmURL)
}

// AskFor handles "erase my data" or "send me what you hold" (purpose) for
// address (already validated), asked from sourceIP. It does the same visible thing whether or not anything is
// stored for the address, so the answer tells nobody whether a person has
// written to the operator. Asks over a limit are dropped silently for the
// same reason, and so that nobody can flood a stranger's mailbox: the
// source's limit is counted first, so a flooding source cannot use up a
// stranger's mailbox limit or the page's ceiling once it is refused.
// confirmURL is the confirmation page the link points at.
// Both purposes count against the same limits: each sends a link to a
// mailbox, and it is the links that must not flood one.
func (s *SelfService) AskFor(ctx context.Context, purpose, address, sourceIP, lang, confirmURL string) error {
	if purpose != PurposeErasure && purpose != PurposeAccess {
		return fmt.Errorf("unknown purpose %q", purpose)
	}
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
		cc, cancel := s.call(ctx)
		ok, err := s.Counter.Hit(cc, c.key, c.limit, start.Add(s.Window))
		cancel()
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if !ok {
			s.Log.WarnContext(ctx, "self-service request over a limit; not sent", slog.String("metric", c.metric), slog.String("purpose", purpose))
			if s.Metrics != nil {
				s.Metrics.Publish(map[string]int{c.metric: 1})
			}
			return nil
		}
	}
	id := strings.ToLower(rand.Text())
	token, expires := s.Tokens.Issue(id, s.Now())
	c, cancel := s.call(ctx)
	defer cancel()
	if err := s.Store.SavePending(c, id, Pending{Email: address, Purpose: purpose, Language: lang}, expires); err != nil {
		return fmt.Errorf("save pending request: %w", err)
	}
	c, cancel = s.call(ctx)
	defer cancel()
	if err := s.Mailer.SendConfirmLink(c, address, confirmURL+"?token="+token, lang, purpose, expires); err != nil {
		return fmt.Errorf("send confirmation link: %w", err)
	}
	s.Log.InfoContext(ctx, "confirmation link sent", slog.String("pending_id", id), slog.String("purpose", purpose))
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
// button): mail scanners that open links must not erase or send anything.
// It returns the request's purpose.
func (s *SelfService) Check(ctx context.Context, token string) (string, error) {
	id, err := s.Tokens.Verify(token, s.Now())
	if err != nil {
		return "", err
	}
	c, cancel := s.call(ctx)
	defer cancel()
	purpose, err := s.Store.PeekPending(c, id)
	if err != nil {
		return "", fmt.Errorf("read pending request: %w", err)
	}
	if purpose == "" {
		return "", ErrTokenUsed
	}
	return purpose, nil
}

// Confirmation is what a used link did.
type Confirmation struct {
	RequestID string
	Purpose   string
}

// Confirm uses the token once and acts on it: an erasure is queued; an
// access report is emailed to the address that asked, and nowhere else.
// It returns the request id the receipt carries.
func (s *SelfService) Confirm(ctx context.Context, token string) (Confirmation, error) {
	id, err := s.Tokens.Verify(token, s.Now())
	if err != nil {
		return Confirmation{}, err
	}
	tc, cancel := s.call(ctx)
	defer cancel()
	p, err := s.Store.TakePending(tc, id)
	if err != nil {
		return Confirmation{}, err
	}
	var c Confirmation
	ac, cancel := s.call(ctx)
	defer cancel()
	if p.Purpose == PurposeAccess {
		c = Confirmation{RequestID: "acc-" + id, Purpose: PurposeAccess}
		err = s.Access.SendAccess(ac, p.Email, p.Language, c.RequestID)
	} else {
		req := Request{Email: p.Email, RequestID: "ss-" + id, Source: SourceSelfService, Language: p.Language}
		c = Confirmation{RequestID: req.RequestID, Purpose: PurposeErasure}
		err = s.Queue.Enqueue(ac, req)
	}
	if err != nil {
		// The token is spent but nothing was done: put it back so the
		// visitor can press the button again.
		pc, cancel := s.call(ctx)
		defer cancel()
		if perr := s.Store.SavePending(pc, id, p, s.Now().Add(time.Hour)); perr != nil {
			s.Log.ErrorContext(ctx, "self-service request lost; visitor must ask again", slog.String("pending_id", id), slog.String("purpose", p.Purpose))
		}
		return Confirmation{}, fmt.Errorf("act on %s request: %w", p.Purpose, err)
	}
	s.Log.InfoContext(ctx, "self-service request confirmed", slog.String("request_id", c.RequestID), slog.String("purpose", c.Purpose))
	return c, nil
}
