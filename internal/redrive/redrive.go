// Package redrive keeps the promise behind the fallback copy: a submission
// whose email failed is re-sent until it is delivered, or given up loudly.
//
// A scheduled run reads the copies that are due from the sparse pending
// index (never a scan), claims each with a conditional write before sending
// it, so that two overlapping runs never send the same copy twice, and then
// records the result: sent; pending again after an exponential backoff;
// or failed (a permanent SES error, or too many attempts), which takes the
// copy out of the index, keeps it until its TTL and raises an alarm through
// a metric.
//
// Held copies (stored over a form's ceiling, never emailed by the submit
// function) wait in a partition of the index of their own. Each run
// releases at most Settings.Release of them, oldest first, after the
// copies whose email failed: a flood's email cost per hour is bounded by
// the schedule, and nothing a person sent is dropped.
package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/deadline"
	"github.com/opt-e/kontakt/internal/submission"
)

// Candidate is a due copy as the pending index lists it: its id and the
// next-attempt time the claim must still find (the index lags the table).
type Candidate struct {
	ID  string
	Due int64
	// Held: stored over the form's ceiling and never sent yet.
	Held bool
}

// Claimed is a copy this run holds until Token (epoch seconds): no other
// run can claim it before then, and the writes that end the claim check it.
type Claimed struct {
	Submission submission.Submission
	// Attempts counts the sends tried so far, the submit function's included.
	Attempts int
	Token    int64
}

// Cursor is where the next page of due copies starts; nil after the last.
type Cursor any

// ErrTaken means the copy is no longer this run's to send: another run
// claimed it, it was sent or erased, or it expired.
var ErrTaken = errors.New("copy taken by another run, sent, erased or expired")

// Store reads and claims due copies and records what happened to them.
type Store interface {
	// Due lists copies whose next attempt is at or before now and that have
	// not expired, one page at a time.
	Due(ctx context.Context, now time.Time, after Cursor) ([]Candidate, Cursor, error)
	// Held lists held copies, oldest first, at most limit a page; they
	// have not expired and were received at or before now.
	Held(ctx context.Context, now time.Time, limit int, after Cursor) ([]Candidate, Cursor, error)
	// Claim takes c until until, or returns ErrTaken. A held copy claimed
	// is released: from then on it is retried like any other.
	Claim(ctx context.Context, c Candidate, now, until time.Time) (*Claimed, error)
	Sent(ctx context.Context, c *Claimed, at time.Time) error
	// Retry makes the copy due again at next, recording the error class.
	Retry(ctx context.Context, c *Claimed, next time.Time, class string) error
	// Fail marks the copy failed: out of the pending index, kept until TTL.
	Fail(ctx context.Context, c *Claimed, at time.Time, class string) error
}

// Metrics publishes a run's counts (CloudWatch metrics in production).
type Metrics interface {
	Publish(counts map[string]int)
}

// Metric names, as the template's alarms know them.
const (
	MetricSent      = "RedriveSent"
	MetricRetried   = "RedriveRetried"
	MetricThrottled = "RedriveThrottled"
	// MetricFailed counts copies given up (permanent error or too many
	// attempts); any is an alarm: a message that will not arrive.
	MetricFailed = "SubmissionsFailed"
	// MetricPermanent counts permanent SES errors (rejected, sender not
	// verified, sending paused); any is an alarm.
	MetricPermanent = "PermanentSendErrors"
	// MetricReleased counts held copies emailed.
	MetricReleased = "HeldReleased"
)

// Timeouts bound each call; see deadline.Bound. Reserve is what the
// run keeps back to record the last result and return.
type Timeouts struct {
	Query, Claim, Send, Mark, Reserve time.Duration
}

// Settings tune a run.
type Settings struct {
	// MaxAttempts counts every send, the submit function's first one
	// included; after that many the copy is marked failed.
	MaxAttempts int
	// Backoff is the wait after the first failed re-send; it doubles with
	// each further failure up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claim holds. It must be longer than the redrive
	// function's timeout, so that a live run never loses its claim; a run
	// that died mid-send leaves the copy due again after it.
	Lease time.Duration
	// Workers send in parallel; claims keep them from sending a copy twice.
	Workers int
	// Release is the most held copies one run takes on (see the package
	// comment); 0 releases none.
	Release  int
	Timeouts Timeouts
}

// DefaultSettings fit a 60 s function run every 5 minutes: ten attempts
// span about 17 hours (5, 10, 20 ... minutes, at most 6 hours apart).
var DefaultSettings = Settings{
	MaxAttempts: 10, Backoff: 5 * time.Minute, MaxBackoff: 6 * time.Hour,
	Lease: 5 * time.Minute, Workers: 4, Release: config.DefaultRedriveRelease,
	Timeouts: Timeouts{Query: 5 * time.Second, Claim: 2 * time.Second, Send: 5 * time.Second, Mark: 2 * time.Second, Reserve: 2 * time.Second},
}

// HoldSweeper ends legal holds whose date has passed (package hold); the
// redrive schedule is the clock that runs it.
type HoldSweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// Service runs redrive passes.
type Service struct {
	Store   Store
	Holds   HoldSweeper // nil: no sweep
	Mailer  submission.Mailer
	Form    func(id string) *config.Form
	Log     *slog.Logger
	Metrics Metrics
	Now     func() time.Time
	Settings
}

// Report counts what one run did; it holds no personal data.
type Report struct {
	Due       int `json:"due"`
	Sent      int `json:"sent"`
	Retried   int `json:"retried"`
	Throttled int `json:"throttled"`
	Failed    int `json:"failed"`
	Permanent int `json:"permanent"`
	// Held counts held copies read this run; Released those emailed.
	Held     int `json:"held"`
	Released int `json:"released"`
	// Skipped copies were taken by another run, sent or erased meanwhile.
	Skipped int `json:"skipped"`
	// Deferred copies are left for the next run: out of time, or SES
	// throttled this run.
	Deferred int `json:"deferred"`
	// Errors counts claims and records that failed (DynamoDB trouble).
	Errors int `json:"errors"`
	// HoldsEnded counts legal holds released because their date passed.
	HoldsEnded int `json:"holds_ended"`
}

// Handle is the Lambda handler. The schedule's payload carries nothing the
// run needs.
func (svc *Service) Handle(ctx context.Context, _ json.RawMessage) (Report, error) {
	return svc.Run(ctx)
}

// Run sends every due copy it has time for. It fails only when the pending
// index cannot be read, so that the function's error alarm fires.
func (svc *Service) Run(ctx context.Context) (Report, error) {
	var (
		rep      Report
		mu       sync.Mutex
		throttle atomic.Bool
		wg       sync.WaitGroup
		jobs     = make(chan Candidate)
		now      = svc.Now()
	)
	count := func(f func(*Report)) {
		mu.Lock()
		f(&rep)
		mu.Unlock()
	}
	for range max(svc.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				svc.resend(ctx, c, count, &throttle)
			}
		}()
	}

	queryErr := svc.drain(ctx, jobs, count, &throttle, -1, func(c context.Context, cur Cursor) ([]Candidate, Cursor, error) {
		return svc.Store.Due(c, now, cur)
	})
	if queryErr == nil && svc.Release > 0 {
		queryErr = svc.drain(ctx, jobs, count, &throttle, svc.Release, func(c context.Context, cur Cursor) ([]Candidate, Cursor, error) {
			return svc.Store.Held(c, now, svc.Release, cur)
		})
	}
	close(jobs)
	wg.Wait()
	if svc.Holds != nil && svc.timeForOne(ctx) {
		c, cancel := deadline.Bound(ctx, svc.Timeouts.Query, svc.Timeouts.Reserve)
		n, err := svc.Holds.Sweep(c)
		cancel()
		rep.HoldsEnded = n
		if err != nil {
			svc.Log.WarnContext(ctx, "ending legal holds failed; the next run tries again", slog.String("error_class", submission.ErrorClass(err)))
			rep.Errors++
		}
	}

	svc.publish(rep)
	attrs := []any{
		slog.Int("due", rep.Due), slog.Int("sent", rep.Sent), slog.Int("retried", rep.Retried),
		slog.Int("throttled", rep.Throttled), slog.Int("failed", rep.Failed), slog.Int("permanent", rep.Permanent),
		slog.Int("held", rep.Held), slog.Int("released", rep.Released),
		slog.Int("skipped", rep.Skipped), slog.Int("deferred", rep.Deferred), slog.Int("errors", rep.Errors),
	}
	if queryErr != nil {
		svc.Log.ErrorContext(ctx, "redrive could not read the pending index", append(attrs, slog.String("error_class", submission.ErrorClass(queryErr)))...)
		return rep, queryErr
	}
	level := slog.LevelInfo
	if rep.Due == 0 && rep.Held == 0 {
		level = slog.LevelDebug // a quiet run every few minutes is no news
	}
	svc.Log.Log(ctx, level, "redrive run", attrs...)
	return rep, nil
}

// drain hands the copies list lists, page after page, to the workers while
// there is time and SES does not throttle, at most limit of them (-1: no
// limit). Copies left because of time or throttling are counted deferred.
func (svc *Service) drain(ctx context.Context, jobs chan<- Candidate, count func(func(*Report)), throttle *atomic.Bool, limit int,
	list func(context.Context, Cursor) ([]Candidate, Cursor, error)) error {
	var cur Cursor
	for first := true; first || cur != nil; first = false {
		if limit == 0 || throttle.Load() || !svc.timeForOne(ctx) {
			return nil
		}
		c, cancel := deadline.Bound(ctx, svc.Timeouts.Query, svc.Timeouts.Reserve)
		page, next, err := list(c, cur)
		cancel()
		if err != nil {
			return err
		}
		for _, cand := range page {
			if limit == 0 {
				break // the rest waits for the next run
			}
			count(func(r *Report) {
				if cand.Held {
					r.Held++
				} else {
					r.Due++
				}
			})
			if throttle.Load() || !svc.timeForOne(ctx) {
				count(func(r *Report) { r.Deferred++ })
				continue
			}
			jobs <- cand
			if limit > 0 {
				limit--
			}
		}
		cur = next
	}
	return nil
}

// timeForOne reports whether a whole claim-send-record round still fits
// before the Lambda deadline; a copy started too late could be sent but not
// recorded, and would then be sent again.
func (svc *Service) timeForOne(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return true
	}
	t := svc.Timeouts
	return time.Until(dl) > t.Claim+t.Send+t.Mark+t.Reserve
}

func (svc *Service) resend(ctx context.Context, cand Candidate, count func(func(*Report)), throttle *atomic.Bool) {
	// Checked again here: the copy may have waited for a worker while
	// another one was throttled or the time ran short.
	if throttle.Load() || !svc.timeForOne(ctx) {
		count(func(r *Report) { r.Deferred++ })
		return
	}
	t := svc.Timeouts
	c, cancel := deadline.Bound(ctx, t.Claim, t.Reserve)
	start := svc.Now()
	cl, err := svc.Store.Claim(c, cand, start, start.Add(svc.Lease))
	cancel()
	switch {
	case errors.Is(err, ErrTaken):
		count(func(r *Report) { r.Skipped++ })
		return
	case err != nil:
		svc.Log.WarnContext(ctx, "claim failed", slog.String("submission_id", cand.ID), slog.String("error_class", submission.ErrorClass(err)))
		count(func(r *Report) { r.Errors++ })
		return
	}
	s := &cl.Submission
	attempt := cl.Attempts + 1
	attrs := []any{slog.String("submission_id", s.ID), slog.String("form", s.FormID), slog.Int("attempt", attempt)}

	form := svc.Form(s.FormID)
	if form == nil {
		// The form was removed from the configuration: there is nobody to
		// send it to, however often it is tried.
		svc.fail(ctx, cl, "unknown_form", false, attrs, count)
		return
	}
	c, cancel = deadline.Bound(ctx, t.Send, t.Reserve)
	sendErr := svc.Mailer.Send(c, form, s)
	cancel()
	class := submission.ErrorClass(sendErr)

	switch {
	case sendErr == nil:
		c, cancel := deadline.Bound(ctx, t.Mark, t.Reserve)
		err := svc.Store.Sent(c, cl, svc.Now())
		cancel()
		if err != nil {
			// The email is out; the copy comes due again after the lease and
			// would be sent a second time.
			svc.Log.ErrorContext(ctx, "email re-sent but not recorded", append(attrs, slog.String("error_class", submission.ErrorClass(err)))...)
			count(func(r *Report) { r.Errors++ })
		}
		if cand.Held {
			svc.Log.InfoContext(ctx, "held email released", attrs...)
		} else {
			svc.Log.InfoContext(ctx, "email re-sent", attrs...)
		}
		count(func(r *Report) {
			r.Sent++
			if cand.Held {
				r.Released++
			}
		})
	case isPermanent(sendErr):
		svc.fail(ctx, cl, class, true, attrs, count)
	case attempt >= svc.MaxAttempts:
		svc.fail(ctx, cl, class, false, attrs, count)
	default:
		next := svc.Now().Add(svc.backoff(attempt))
		c, cancel := deadline.Bound(ctx, t.Mark, t.Reserve)
		err := svc.Store.Retry(c, cl, next, class)
		cancel()
		if err != nil {
			svc.Log.ErrorContext(ctx, "recording a failed re-send failed", append(attrs, slog.String("error_class", submission.ErrorClass(err)))...)
			count(func(r *Report) { r.Errors++ })
		}
		throttled := isThrottled(sendErr)
		if throttled {
			// SES says slow down: leave the rest for the next run.
			throttle.Store(true)
		}
		svc.Log.WarnContext(ctx, "re-send failed; will try again", append(attrs, slog.String("error_class", class), slog.Time("next_attempt_at", next))...)
		count(func(r *Report) {
			r.Retried++
			if throttled {
				r.Throttled++
			}
		})
	}
}

// fail marks the copy failed: the message will not arrive, so it is logged
// as an error and counted in the alarmed metric.
func (svc *Service) fail(ctx context.Context, cl *Claimed, class string, permanent bool, attrs []any, count func(func(*Report))) {
	c, cancel := deadline.Bound(ctx, svc.Timeouts.Mark, svc.Timeouts.Reserve)
	err := svc.Store.Fail(c, cl, svc.Now(), class)
	cancel()
	if err != nil {
		svc.Log.ErrorContext(ctx, "marking a copy failed failed", append(attrs, slog.String("error_class", submission.ErrorClass(err)))...)
		count(func(r *Report) { r.Errors++ })
	}
	msg := "giving up: copy marked failed after the last attempt"
	if permanent {
		msg = "permanent send error: copy marked failed"
	}
	svc.Log.ErrorContext(ctx, msg, append(attrs, slog.String("error_class", class))...)
	count(func(r *Report) {
		r.Failed++
		if permanent {
			r.Permanent++
		}
	})
}

// backoff is the wait after the attempt-th send failed: Backoff after the
// first re-send (attempt 2), doubling up to MaxBackoff.
func (svc *Service) backoff(attempt int) time.Duration {
	d := svc.Backoff
	for i := 2; i < attempt; i++ {
		d *= 2
		if d >= svc.MaxBackoff {
			return svc.MaxBackoff
		}
	}
	return min(d, svc.MaxBackoff)
}

func (svc *Service) publish(rep Report) {
	if svc.Metrics == nil {
		return
	}
	counts := map[string]int{}
	for name, n := range map[string]int{
		MetricSent: rep.Sent, MetricRetried: rep.Retried, MetricThrottled: rep.Throttled,
		MetricFailed: rep.Failed, MetricPermanent: rep.Permanent, MetricReleased: rep.Released,
	} {
		// Only what happened: a metric costs money from its first data
		// point, and the alarms treat missing data as fine.
		if n > 0 {
			counts[name] = n
		}
	}
	if len(counts) > 0 {
		svc.Metrics.Publish(counts)
	}
}

// isPermanent: the adapter knows which errors no retry can fix (message
// rejected, sender not verified, sending paused).
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

func isThrottled(err error) bool {
	var t interface{ Throttled() bool }
	return errors.As(err, &t) && t.Throttled()
}
