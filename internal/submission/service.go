package submission

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/deadline"
)

// Store keeps the fallback copy. Save must not overwrite an existing copy.
type Store interface {
	Save(ctx context.Context, s *Submission) error
	MarkSent(ctx context.Context, id string, at time.Time) error
	MarkPending(ctx context.Context, id, errorClass string) error
}

// Files keeps the files sent with submissions (the bucket). Keys are
// FileKey's; the adapter tags each file with the form's retention, after
// which the bucket deletes it.
type Files interface {
	// Put stores the data of every file of s (File.Key set).
	Put(ctx context.Context, form *config.Form, s *Submission) error
	// Delete removes files by key; a key with no file is no error.
	Delete(ctx context.Context, keys []string) error
}

// FileKey is where the n-th file of submission id is kept: no name, nothing
// the visitor wrote, so that keys in logs and metrics say nothing of anyone.
func FileKey(id string, n int) string { return "files/" + id + "/" + strconv.Itoa(n) }

// Mailer emails a submission to the form's staff.
type Mailer interface {
	Send(ctx context.Context, form *config.Form, s *Submission) error
}

// Outcome says how far a submission got.
type Outcome int

const (
	// Sent: the email went out (the copy may or may not be stored).
	Sent Outcome = iota + 1
	// Stored: the email failed but the copy is stored, pending re-sending.
	Stored
)

// ErrUnavailable means the submission could be neither sent nor stored: the
// visitor must try again, and nothing was accepted.
var ErrUnavailable = errors.New("submission could be neither sent nor stored")

// Classed is implemented by adapter errors that know what kind of failure
// they are ("throttled", "timeout", "rejected" ...), so that the stored copy
// and the logs can say why without carrying the error text.
type Classed interface{ ErrorClass() string }

// ClassedError is an error that knows its class: the domain's own
// failures (a missing bucket, a captcha provider's answer) carry one, as
// the adapters' errors do.
type ClassedError struct {
	Class string
	Err   error
}

func (e *ClassedError) Error() string      { return e.Class + ": " + e.Err.Error() }
func (e *ClassedError) Unwrap() error      { return e.Err }
func (e *ClassedError) ErrorClass() string { return e.Class }

// ErrorClass names the kind of failure without any of its text, which may
// echo personal data back (SES quotes rejected addresses).
func ErrorClass(err error) string {
	var c Classed
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorClass()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "error"
	}
}

// Timeouts for each external call. The handler's context carries the Lambda
// deadline; each call gets the smaller of its own limit and what is left of
// that deadline minus Reserve, so the function always answers in time.
type Timeouts struct {
	Send    time.Duration
	Save    time.Duration
	Mark    time.Duration
	Reserve time.Duration
	// Marker bounds each idempotency marker call; Replay bounds how long a
	// repeated request waits for the first one's answer.
	Marker time.Duration
	Replay time.Duration
	// Files bounds storing a post's files (up to config.MaxInlineBodyBytes).
	Files time.Duration
}

// DefaultTimeouts fit a 10 s function timeout with room to answer.
var DefaultTimeouts = Timeouts{
	Send: 5 * time.Second, Save: 3 * time.Second, Mark: 2 * time.Second, Reserve: 1 * time.Second,
	Marker: 2 * time.Second, Replay: 8 * time.Second, Files: 4 * time.Second,
}

// Service sends and stores submissions.
type Service struct {
	Store    Store
	Mailer   Mailer
	Log      *slog.Logger
	Timeouts Timeouts
	Now      func() time.Time
	// Markers, when set, make submits idempotent (see Idempotency).
	Markers     Markers
	Idempotency Idempotency
	// Files keeps the files of posts that have any; nil where no form
	// takes files (such a post is refused before it gets here).
	Files Files
}

// Gate decides whether a submission may be sent at all: the abuse rules
// that cost a call (rate limits, captcha). Its error is returned by Accept
// unchanged, so the caller can tell a refusal from an outage; ErrHold
// admits the submission but keeps its email back. A nil Gate admits
// everything.
type Gate func(ctx context.Context) error

// ErrHold is a Gate's answer for a post that may not be emailed now (the
// form's ceiling is reached) but must not be refused either: a person may
// have sent it. Accept stores the copy as held (Submission.Held), sends
// nothing, and answers Stored; the redrive function emails held copies at a
// pace that bounds what a flood costs.
var ErrHold = errors.New("admitted; email held back")

// Accept emails s and stores its fallback copy once gate admits it (only
// stores it, held, when the gate says ErrHold). With Markers set, a
// repeated request (same Idempotency-Key and content, or the same fields
// from the same source within the window) sends nothing and answers like
// the first: s.ID becomes the first one's id. The same key with other
// content is ErrKeyReused, and nothing is sent or stored.
func (svc *Service) Accept(ctx context.Context, form *config.Form, s *Submission, gate Gate) (Outcome, error) {
	if svc.Markers == nil {
		held, err := gate.decide(ctx)
		if err != nil {
			return 0, err
		}
		return svc.deliver(ctx, form, s, held, nil)
	}
	return svc.acceptOnce(ctx, form, s, gate, 0)
}

// decide runs the gate: held for ErrHold, or the refusal (or outage).
func (g Gate) decide(ctx context.Context) (held bool, err error) {
	if g == nil {
		return false, nil
	}
	err = g(ctx)
	if errors.Is(err, ErrHold) {
		return true, nil
	}
	return false, err
}

// deliver sends and stores s, or only stores it when held. Files go to
// the bucket first: the email attaches or links them and the copy refers
// to them, so neither may go out before they are kept. A post whose files
// cannot be kept, or that is then neither sent nor stored, keeps none.
// recordOutcome, when not nil, records the outcome on the post's
// idempotency marker, for a repeat of the post to answer with, or gives the
// marker up when the post failed.
func (svc *Service) deliver(ctx context.Context, form *config.Form, s *Submission, held bool, recordOutcome func(context.Context, Outcome, error)) (Outcome, error) {
	if len(s.Files) > 0 {
		if err := svc.putFiles(ctx, form, s); err != nil {
			if recordOutcome != nil {
				rc, cancel := svc.budget(ctx, svc.recordLimit())
				recordOutcome(rc, 0, ErrUnavailable)
				cancel()
			}
			return 0, ErrUnavailable
		}
	}
	var (
		outcome Outcome
		err     error
	)
	if held {
		outcome, err = svc.holdBack(ctx, form, s, recordOutcome)
	} else {
		outcome, err = svc.sendAndStore(ctx, form, s, recordOutcome)
	}
	if err != nil && len(s.Files) > 0 {
		svc.dropFiles(ctx, s)
	}
	return outcome, err
}

// putFiles stores s's files; on failure it removes what it stored.
func (svc *Service) putFiles(ctx context.Context, form *config.Form, s *Submission) error {
	if svc.Files == nil {
		return errors.New("no bucket for files")
	}
	for i := range s.Files {
		s.Files[i].Key = FileKey(s.ID, i)
	}
	c, cancel := deadline.Bound(ctx, svc.Timeouts.Files, svc.afterSend()+svc.Timeouts.Send)
	err := svc.Files.Put(c, form, s)
	cancel()
	if err != nil {
		svc.Log.LogAttrs(ctx, slog.LevelError, "files not stored; post refused", slog.String("submission_id", s.ID),
			slog.String("form", s.FormID), slog.String("error_class", ErrorClass(err)))
		svc.dropFiles(ctx, s)
		return err
	}
	return nil
}

// dropFiles removes the files of a post that was not accepted. Should it
// fail, the bucket's lifecycle rule deletes them at the form's retention:
// nothing refers to them, and no one is told they were received.
func (svc *Service) dropFiles(ctx context.Context, s *Submission) {
	keys := make([]string, len(s.Files))
	for i, f := range s.Files {
		keys[i] = f.Key
	}
	c, cancel := svc.budget(ctx, svc.recordLimit())
	defer cancel()
	if err := svc.Files.Delete(c, keys); err != nil {
		svc.Log.LogAttrs(ctx, slog.LevelWarn, "files of a refused post not deleted", slog.String("submission_id", s.ID),
			slog.String("form", s.FormID), slog.String("error_class", ErrorClass(err)))
	}
}

// holdBack stores s as held and sends nothing: the redrive function emails
// it later, at its own pace. A copy that cannot be stored is sent now as
// any other post would be: one email over the ceiling is better than a
// visitor sent away (and should the failed write have landed after all,
// the copy is emailed a second time later: one extra email, never a lost
// one).
func (svc *Service) holdBack(ctx context.Context, form *config.Form, s *Submission, recordOutcome func(context.Context, Outcome, error)) (Outcome, error) {
	s.Held = true
	c, cancel := deadline.Bound(ctx, svc.Timeouts.Save, svc.afterSend())
	err := svc.Store.Save(c, s)
	cancel()
	if err != nil {
		s.Held = false
		svc.Log.LogAttrs(ctx, slog.LevelWarn, "held copy not stored; sending it now", slog.String("submission_id", s.ID),
			slog.String("form", s.FormID), slog.String("error_class", ErrorClass(err)))
		return svc.sendAndStore(ctx, form, s, recordOutcome)
	}
	if recordOutcome != nil {
		rc, cancel := svc.budget(ctx, svc.recordLimit())
		recordOutcome(rc, Stored, nil)
		cancel()
	}
	return Stored, nil
}

// sendAndStore emails s and stores its fallback copy at the same time, so
// the visitor waits for the slower of the two rather than their sum. Once
// the outcome is known, recordOutcome (when not nil) records it on the
// marker while the copy records it too, for the same reason, under the
// same deadline (one timer for the round); sendAndStore returns when both
// are done.
func (svc *Service) sendAndStore(ctx context.Context, form *config.Form, s *Submission, recordOutcome func(context.Context, Outcome, error)) (Outcome, error) {
	storeErr := make(chan error, 1)
	go func() {
		c, cancel := deadline.Bound(ctx, svc.Timeouts.Save, svc.afterSend())
		defer cancel()
		storeErr <- svc.Store.Save(c, s)
	}()
	c, cancel := deadline.Bound(ctx, svc.Timeouts.Send, svc.afterSend())
	sendErr := svc.Mailer.Send(c, form, s)
	cancel()
	saveErr := <-storeErr

	outcome, err := Sent, error(nil)
	switch {
	case sendErr != nil && saveErr != nil:
		outcome, err = 0, ErrUnavailable
	case sendErr != nil:
		outcome = Stored
	}
	rc, cancel := svc.budget(ctx, svc.recordLimit())
	defer cancel()
	if recordOutcome != nil {
		recorded := make(chan struct{})
		go func() { defer close(recorded); recordOutcome(rc, outcome, err) }()
		defer func() { <-recorded }() // before cancel
	}

	// LogAttrs with slog.Attr values: no boxing into []any per line.
	id, formID := slog.String("submission_id", s.ID), slog.String("form", s.FormID)
	switch {
	case sendErr == nil && saveErr == nil:
		if err := svc.Store.MarkSent(rc, s.ID, svc.Now()); err != nil {
			// The email is out; a copy still marked pending would be sent
			// again by redrive, so say so loudly.
			svc.Log.LogAttrs(ctx, slog.LevelError, "mark sent failed", id, formID, slog.String("error_class", ErrorClass(err)))
		}
		// No line of its own: the caller's one line per request says it
		// (the second JSON line cost 4% of a submission's CPU).
	case sendErr == nil:
		svc.Log.LogAttrs(ctx, slog.LevelError, "fallback copy not stored; email sent", id, formID, slog.String("error_class", ErrorClass(saveErr)))
	case saveErr == nil:
		class := ErrorClass(sendErr)
		if err := svc.Store.MarkPending(rc, s.ID, class); err != nil {
			// The copy is stored as pending already; only the error class is lost.
			svc.Log.LogAttrs(ctx, slog.LevelWarn, "recording send error failed", id, formID, slog.String("error_class", ErrorClass(err)))
		}
		svc.Log.LogAttrs(ctx, slog.LevelWarn, "email failed; copy stored for re-sending", id, formID, slog.String("error_class", class))
	default:
		svc.Log.LogAttrs(ctx, slog.LevelError, "submission neither sent nor stored", id, formID,
			slog.String("send_error_class", ErrorClass(sendErr)),
			slog.String("store_error_class", ErrorClass(saveErr)))
	}
	return outcome, err
}

func (svc *Service) budget(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	return deadline.Bound(ctx, limit, svc.Timeouts.Reserve)
}

// afterSend is the time kept back from sending and storing for what must
// follow them: recording the outcome on the copy (so a pending copy says
// why) and on the idempotency marker, then answering.
func (svc *Service) afterSend() time.Duration { return svc.Timeouts.Reserve + svc.recordLimit() }

// recordLimit bounds that round: the two records are made at the same time.
func (svc *Service) recordLimit() time.Duration {
	if svc.Markers != nil {
		return max(svc.Timeouts.Mark, svc.Timeouts.Marker)
	}
	return svc.Timeouts.Mark
}
