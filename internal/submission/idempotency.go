package submission

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/opt-e/kontakt/internal/config"
)

// Marker is what the first request with a given key left behind: the id it
// answered with, the fingerprint of its content (see ContentFingerprint;
// "" for markers written before fingerprints were kept) and, once it has
// finished, its outcome (0 while running).
type Marker struct {
	SubmissionID string
	Content      string
	Outcome      Outcome
}

// ErrKeyReused means a client key came back with other content than it
// first came with: a page with a fixed key, or a key copied between
// visitors. Answering it like the first would swallow the second message,
// so it is refused (nothing sent, nothing stored, the first untouched) and
// the visitor is asked to send again, which gives it a new key.
var ErrKeyReused = errors.New("idempotency key reused with other content")

// Markers remember recent requests so that a retry or a double click is
// answered like the first request and sends no second email. Keys are
// hashes: a marker holds no personal data.
type Markers interface {
	// Reserve records key as taken by id, with the fingerprint of its
	// content, until now+hold, unless a live marker holds it: then it
	// returns that marker and takes nothing. A marker still running after
	// stale is taken over (its request died or could not record its
	// outcome), so a lost marker cannot block a form.
	Reserve(ctx context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*Marker, error)
	// Get returns the live marker for key, or nil.
	Get(ctx context.Context, key string, now time.Time) (*Marker, error)
	// Complete records the outcome of the request that holds key as id.
	Complete(ctx context.Context, key, id string, o Outcome) error
	// Release gives key up when id's request accepted nothing, so that the
	// visitor's retry is not answered with a failure.
	Release(ctx context.Context, key, id string) error
}

// Idempotency settings.
type Idempotency struct {
	// KeyRetention is how long an explicit Idempotency-Key is remembered.
	KeyRetention time.Duration
	// DuplicateWindow is how long an identical submission without a key
	// (same form, same fields, same source address) counts as a repeat; 0
	// turns that off.
	DuplicateWindow time.Duration
	// Stale is when a marker whose request never finished may be taken over;
	// it is longer than the submit function's timeout.
	Stale time.Duration
	// Poll is how often a repeat checks whether the first has finished.
	Poll time.Duration
}

// DefaultIdempotency: keys for a day, identical posts for 10 minutes.
var DefaultIdempotency = Idempotency{
	KeyRetention: 24 * time.Hour, DuplicateWindow: 10 * time.Minute,
	Stale: 30 * time.Second, Poll: 150 * time.Millisecond,
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted, in bytes.
const MaxIdempotencyKey = 255

// MarkerKey returns the marker key for s and how long it holds, or "" when
// s is not to be deduplicated. With a client key the key is namespaced by
// form; without one it is a hash of everything that would be emailed and of
// the source's hashed address (s.Source), so two posts differing in any
// content field are two submissions, and so are two people who happen to
// send the same short text.
func (idem Idempotency) MarkerKey(formID string, s *Submission) (string, time.Duration) {
	if s.IdempotencyKey == "" && idem.DuplicateWindow <= 0 {
		return "", 0
	}
	if s.IdempotencyKey != "" {
		// Unchanged across versions: a deploy in the middle of a client's
		// retries still finds the first post's marker.
		return hashParts('k', func(part func(string)) {
			part("key")
			part(formID)
			part(s.IdempotencyKey)
		}), idem.KeyRetention
	}
	return hashParts('c', func(part func(string)) {
		part("content")
		part(formID)
		contentParts(part, s)
		if s.Source != "" {
			part("source")
			part(s.Source)
		}
	}), idem.DuplicateWindow
}

// ContentFingerprint is the hash a client key is bound to: the form and the
// canonical content (what is emailed and stored; instructions such as _next
// or the key itself are not part of it). It holds no personal data in
// clear, and it is kept only as long as the key's marker.
func ContentFingerprint(formID string, s *Submission) string {
	return hashParts('f', func(part func(string)) {
		part("fingerprint")
		part(formID)
		contentParts(part, s)
	})
}

func contentParts(part func(string), s *Submission) {
	part(s.ReplyTo)
	part(s.Subject)
	// One part pair per consent, in the form's order: with one consent
	// the hash is what it was before forms could ask for several.
	for _, c := range s.Consents {
		part(c.Field)
		part(c.Value)
	}
	for _, f := range s.Fields {
		part(f.Name)
		part(f.Value)
	}
	// Files by their content, or a direct upload by its id alone: the id
	// names one file for good (single use, its field and name fixed when
	// it was handed out), so a post repeating one can be recognised before
	// its upload is read again (Service.Repeat). Without files the hash is
	// what it was before forms took files.
	for _, f := range s.Files {
		if f.Upload != "" {
			part(f.Upload)
			continue
		}
		part(f.Field)
		part(f.Name)
		sum := sha256.Sum256(f.Data)
		part(string(sum[:]))
	}
}

// hashParts hashes the length-prefixed parts that write gives it (so that
// ("ab","c") and ("a","bc") differ) into prefix and hex SHA-256.
func hashParts(prefix byte, write func(part func(string))) string {
	var b []byte
	write(func(v string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
		b = append(b, v...)
	})
	sum := sha256.Sum256(b)
	return string(prefix) + hex.EncodeToString(sum[:])
}

// maxReserveTries bounds the loop when the first request gives its marker
// up (it failed) while a repeat waits: the repeat then tries to take it.
const maxReserveTries = 3

func (svc *Service) acceptOnce(ctx context.Context, form *config.Form, s *Submission, gate Gate, tries int) (Outcome, error) {
	key, hold := svc.Idempotency.MarkerKey(form.ID, s)
	if key == "" {
		held, err := gate.decide(ctx)
		if err != nil {
			return 0, err
		}
		return svc.deliver(ctx, form, s, held, nil)
	}
	var content string
	if s.IdempotencyKey != "" {
		content = ContentFingerprint(form.ID, s)
	}
	// The gate and the reservation are independent calls: made at the same
	// time, the visitor waits for one round trip instead of two. A refused
	// post gives back the marker it took.
	type reservation struct {
		first *Marker
		err   error
	}
	reserved := make(chan reservation, 1)
	go func() {
		c, cancel := svc.budget(ctx, svc.Timeouts.Marker)
		defer cancel()
		first, err := svc.Markers.Reserve(c, key, s.ID, content, svc.Now(), hold, svc.Idempotency.Stale)
		reserved <- reservation{first, err}
	}()
	held, gateErr := gate.decide(ctx)
	r := <-reserved
	switch {
	case gateErr != nil:
		// Also after an error: the write may have landed before its answer
		// was lost, and Release deletes only this request's own marker.
		if r.first == nil {
			c, cancel := svc.budget(ctx, svc.Timeouts.Marker)
			svc.release(c, key, s)
			cancel()
		}
		return 0, gateErr
	case r.err != nil:
		// Without the marker a repeat may send twice; refusing would lose
		// the message when DynamoDB is down, which is worse.
		svc.warn(ctx, "idempotency check unavailable", s, r.err)
		return svc.deliver(ctx, form, s, held, nil)
	case r.first != nil:
		return svc.replay(ctx, form, s, key, content, r.first, held, tries)
	}
	return svc.deliver(ctx, form, s, held, func(c context.Context, o Outcome, err error) {
		if err != nil {
			svc.release(c, key, s)
			return
		}
		if cerr := svc.Markers.Complete(c, key, s.ID, o); cerr != nil {
			// A repeat waits for the outcome until the marker goes stale, then
			// sends again: one extra email at worst, never a lost one.
			svc.warn(ctx, "recording idempotency outcome failed", s, cerr)
		}
	})
}

// release gives up a marker whose request accepted nothing, within ctx's
// deadline (the caller's budget for the call).
func (svc *Service) release(ctx context.Context, key string, s *Submission) {
	if err := svc.Markers.Release(ctx, key, s.ID); err != nil {
		// The marker goes stale and is taken over by the visitor's retry.
		svc.warn(ctx, "releasing idempotency marker failed", s, err)
	}
}

// warn logs a marker call that failed: which submission, which form and
// the class of error, built only when there is something to say.
func (svc *Service) warn(ctx context.Context, msg string, s *Submission, err error) {
	svc.Log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("submission_id", s.ID), slog.String("form", s.FormID),
		slog.String("error_class", ErrorClass(err)))
}

// replay answers a repeated request like the first one, waiting for it when
// it is still running (two clicks a moment apart).
// A key that came with other content is refused at once: its first
// request's answer belongs to another message. held is the gate's decision
// for this request, kept should it have to go ahead as a first post after
// all.
func (svc *Service) replay(ctx context.Context, form *config.Form, s *Submission, key, content string, m *Marker, held bool, tries int) (Outcome, error) {
	first, err := svc.awaitFirst(ctx, s, key, content, m)
	switch {
	case err != nil:
		return 0, err
	case first == nil:
		// The first request accepted nothing and gave the key up.
		if tries+1 >= maxReserveTries {
			return 0, ErrUnavailable
		}
		admitted := Gate(nil) // admitted already
		if held {
			admitted = holdGate
		}
		return svc.acceptOnce(ctx, form, s, admitted, tries+1)
	}
	s.ID = first.SubmissionID
	return first.Outcome, nil
}

// Repeat answers s like the first post when s repeats one that holds its
// direct uploads already: a retry after an answer that was lost, with the
// same Idempotency-Key, content and upload ids. The uploads cannot be
// claimed twice, so the post cannot go through Accept; its key's marker
// says whether it is such a repeat. ok is false when it is not (no client
// key, no marker, other content): the caller then refuses the uploads as
// it would have. A first post that gave its key up is ErrUnavailable: it
// is giving its uploads back too, and a retry can claim them. It never
// sends or stores.
func (svc *Service) Repeat(ctx context.Context, form *config.Form, s *Submission) (o Outcome, ok bool, err error) {
	if svc.Markers == nil || s.IdempotencyKey == "" {
		return 0, false, nil
	}
	key, _ := svc.Idempotency.MarkerKey(form.ID, s)
	content := ContentFingerprint(form.ID, s)
	c, cancel := svc.budget(ctx, svc.Timeouts.Marker)
	m, err := svc.Markers.Get(c, key, svc.Now())
	cancel()
	if err != nil {
		svc.warn(ctx, "reading idempotency marker failed", s, err)
		return 0, false, ErrUnavailable
	}
	if m == nil || reused(m, content) {
		return 0, false, nil
	}
	first, err := svc.awaitFirst(ctx, s, key, content, m)
	switch {
	case err != nil:
		return 0, false, err
	case first == nil:
		// The first accepted nothing and is giving its uploads back: the
		// visitor's next try can claim them.
		return 0, false, ErrUnavailable
	}
	s.ID = first.SubmissionID
	return first.Outcome, true, nil
}

// awaitFirst waits for the first request that took key (its marker m) to
// have an outcome, and returns its marker; nil when that request accepted
// nothing and gave the key up. Other content is ErrKeyReused.
func (svc *Service) awaitFirst(ctx context.Context, s *Submission, key, content string, m *Marker) (*Marker, error) {
	attrs := []any{slog.String("submission_id", s.ID), slog.String("form", s.FormID), slog.String("first_id", m.SubmissionID)}
	if reused(m, content) {
		svc.Log.WarnContext(ctx, "idempotency key reused with other content", attrs...)
		return nil, ErrKeyReused
	}
	wait, cancel := svc.budget(ctx, svc.Timeouts.Replay)
	defer cancel()
	poll := svc.Idempotency.Poll
	if poll <= 0 {
		poll = DefaultIdempotency.Poll
	}
	for m.Outcome == 0 {
		t := time.NewTimer(poll)
		select {
		case <-wait.Done():
			t.Stop()
			// Nothing was accepted for this request; the visitor's retry gets
			// the first one's answer.
			svc.Log.WarnContext(ctx, "repeat still waiting for the first request", attrs...)
			return nil, ErrUnavailable
		case <-t.C:
		}
		c, cancelGet := svc.budget(wait, svc.Timeouts.Marker)
		next, err := svc.Markers.Get(c, key, svc.Now())
		cancelGet()
		switch {
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			svc.Log.WarnContext(ctx, "reading idempotency marker failed", append(attrs, slog.String("error_class", ErrorClass(err)))...)
			return nil, ErrUnavailable
		case err != nil:
			continue // the wait's deadline ends the loop
		case next == nil:
			return nil, nil
		}
		if reused(next, content) {
			// Released and taken by another message meanwhile.
			svc.Log.WarnContext(ctx, "idempotency key reused with other content", attrs...)
			return nil, ErrKeyReused
		}
		m = next
	}
	svc.Log.InfoContext(ctx, "repeat answered like the first request", attrs...)
	return m, nil
}

// reused reports whether m was taken for other content than the
// fingerprint content. Markers without a fingerprint (content keys, and
// client keys' markers from before fingerprints were kept) match anything.
func reused(m *Marker, content string) bool {
	return content != "" && m.Content != "" && m.Content != content
}

// holdGate repeats a gate's decision to hold a post back.
func holdGate(context.Context) error { return ErrHold }
