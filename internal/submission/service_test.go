package submission_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

type storeFunc struct {
	save func(ctx context.Context, s *submission.Submission) error
	// markSent, when set, is what MarkSent does; sent counts its successes.
	markSent func(ctx context.Context) error
	sent     atomic.Int32
	pending  atomic.Value
}

func (f *storeFunc) Save(ctx context.Context, s *submission.Submission) error { return f.save(ctx, s) }
func (f *storeFunc) MarkSent(ctx context.Context, _ string, _ time.Time) error {
	if f.markSent != nil {
		if err := f.markSent(ctx); err != nil {
			return err
		}
	}
	f.sent.Add(1)
	return nil
}
func (f *storeFunc) MarkPending(_ context.Context, _ string, class string) error {
	f.pending.Store(class)
	return nil
}

type mailFunc func(ctx context.Context, form *config.Form, s *submission.Submission) error

func (f mailFunc) Send(ctx context.Context, form *config.Form, s *submission.Submission) error {
	return f(ctx, form, s)
}

type classed struct{}

func (classed) Error() string      { return "throttled by SES" }
func (classed) ErrorClass() string { return "throttled" }

func service(st *storeFunc, m mailFunc) (*submission.Service, *bytes.Buffer) {
	var logs bytes.Buffer
	return &submission.Service{
		Store: st, Mailer: m, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Timeouts: submission.DefaultTimeouts, Now: time.Now,
	}, &logs
}

func TestAcceptOutcomes(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name        string
		saveErr     error
		sendErr     error
		want        submission.Outcome
		wantErr     error
		markedSent  int32
		pendingWith string
	}{
		{"both work", nil, nil, submission.Sent, nil, 1, ""},
		{"email fails", nil, classed{}, submission.Stored, nil, 0, "throttled"},
		{"store fails", down, nil, submission.Sent, nil, 0, ""},
		{"both fail", down, down, 0, submission.ErrUnavailable, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &storeFunc{save: func(context.Context, *submission.Submission) error { return tc.saveErr }}
			svc, _ := service(st, func(context.Context, *config.Form, *submission.Submission) error { return tc.sendErr })
			got, err := svc.Accept(context.Background(), &config.Form{ID: "contact"}, &submission.Submission{ID: "x", FormID: "contact"}, nil)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Accept = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
			if got := st.sent.Load(); got != tc.markedSent {
				t.Errorf("MarkSent calls = %d, want %d", got, tc.markedSent)
			}
			if got, _ := st.pending.Load().(string); got != tc.pendingWith {
				t.Errorf("pending class = %q, want %q", got, tc.pendingWith)
			}
		})
	}
}

// Storing and sending overlap: each blocks until the other has started, so
// a sequential implementation would deadlock and hit the test's deadline.
func TestAcceptRunsStoreAndSendConcurrently(t *testing.T) {
	saveStarted, sendStarted := make(chan struct{}), make(chan struct{})
	wait := func(ctx context.Context, ch chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	st := &storeFunc{save: func(ctx context.Context, _ *submission.Submission) error {
		close(saveStarted)
		return wait(ctx, sendStarted)
	}}
	svc, _ := service(st, func(ctx context.Context, _ *config.Form, _ *submission.Submission) error {
		close(sendStarted)
		return wait(ctx, saveStarted)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := svc.Accept(ctx, &config.Form{}, &submission.Submission{ID: "x"}, nil)
	if err != nil || got != submission.Sent {
		t.Fatalf("Accept = %v, %v", got, err)
	}
}

// Each call's deadline comes from the caller's (Lambda's) deadline minus a
// reserve, so the function answers before it is killed.
func TestAcceptDeadlinesFollowTheLambdaDeadline(t *testing.T) {
	var sendLeft, saveLeft time.Duration
	st := &storeFunc{save: func(ctx context.Context, _ *submission.Submission) error {
		dl, _ := ctx.Deadline()
		saveLeft = time.Until(dl)
		return nil
	}}
	svc, _ := service(st, func(ctx context.Context, _ *config.Form, _ *submission.Submission) error {
		dl, _ := ctx.Deadline()
		sendLeft = time.Until(dl)
		return nil
	})
	svc.Timeouts.Reserve = time.Second
	// 6 s left, less the reserve and the time kept for recording the
	// outcome (Mark, 2 s): 3 s, under Send's and Save's own limits, so the
	// caller's deadline is what bounds them. (With 3 s left, as this test
	// once had, nothing was left for them at all and it failed by chance.)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	if _, err := svc.Accept(ctx, &config.Form{}, &submission.Submission{ID: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	for name, left := range map[string]time.Duration{"send": sendLeft, "save": saveLeft} {
		if left <= 0 || left > 3*time.Second {
			t.Errorf("%s deadline %v from now, want within the 6s budget less the 1s reserve and the 2s to record", name, left)
		}
	}
}

// A send slower than the budget still leaves time to mark the copy pending
// with its reason and to record the idempotency outcome before answering.
func TestSlowSendLeavesTimeToRecordTheOutcome(t *testing.T) {
	var sendDeadline time.Time
	var pending pendingCall
	st := &storeFunc{save: func(context.Context, *submission.Submission) error { return nil }}
	svc, _ := service(st, func(ctx context.Context, _ *config.Form, _ *submission.Submission) error {
		sendDeadline, _ = ctx.Deadline()
		<-ctx.Done()
		return ctx.Err()
	})
	svc.Store = pendingDeadline{st, &pending}
	svc.Markers = &memMarkers{}
	svc.Idempotency = submission.DefaultIdempotency
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	o, err := svc.Accept(ctx, &config.Form{ID: "contact"}, &submission.Submission{ID: "x"}, nil)
	if err != nil || o != submission.Stored || ctx.Err() != nil {
		t.Fatalf("Accept = %v, %v (deadline passed: %v)", o, err, ctx.Err())
	}
	if got, _ := st.pending.Load().(string); got != "timeout" {
		t.Errorf("pending class %q, want timeout", got)
	}
	// Its own deadline, after the send's ran out: not the exhausted one.
	// (No wall-clock figures: the machine may be slow.)
	if pending.err != nil || !pending.deadline.After(sendDeadline) {
		t.Errorf("MarkPending ran with ctx error %v and deadline %v, the send's ended at %v; want a live context of its own",
			pending.err, pending.deadline, sendDeadline)
	}
}

// pendingCall is what MarkPending's context looked like when it was called.
type pendingCall struct {
	deadline time.Time
	err      error
}

type pendingDeadline struct {
	*storeFunc
	call *pendingCall
}

func (p pendingDeadline) MarkPending(ctx context.Context, id, class string) error {
	p.call.deadline, _ = ctx.Deadline()
	p.call.err = ctx.Err()
	return p.storeFunc.MarkPending(ctx, id, class)
}

func TestErrorClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{classed{}, "throttled"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("x"), "error"},
	} {
		if got := submission.ErrorClass(tc.err); got != tc.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
