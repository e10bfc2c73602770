package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/redrivestore"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/submission"
)

// SES throttled or unreachable: every visitor gets 202 and a pending copy;
// when SES recovers, one redrive run delivers every copy exactly once, and
// a second run finds nothing left to do.
func TestSESFailsThenOneRedriveDeliversEveryCopyOnce(t *testing.T) {
	integration(t)
	for _, tc := range []struct {
		name  string
		fault func(p *faultproxy.Proxy)
		class string
	}{
		{"throttled", func(p *faultproxy.Proxy) { p.Set(faultproxy.Fault{Answer: &faultproxy.SESThrottling}) }, "throttled"},
		{"refused", func(p *faultproxy.Proxy) { p.Down() }, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			tc.fault(s.ses)
			var ids []string
			for i := range 8 {
				a := s.post(t, ctx(t), s.visitor(t, i))
				if a.status != 202 || a.Status != "queued" || a.ID == "" {
					t.Fatalf("post %d: %+v, want 202 queued", i, a)
				}
				ids = append(ids, a.ID)
			}
			for _, id := range ids {
				if c := s.copyOf(t, id); c == nil || c.Status != dynamo.StatusPending || c.LastError != tc.class {
					t.Fatalf("copy %s = %+v, want pending with class %s", id, c, tc.class)
				}
			}
			if got := emailsByID(t); len(got) != 0 {
				t.Fatalf("emails while SES was failing: %v", got)
			}

			// SES recovers.
			if err := s.ses.Up(); err != nil {
				t.Fatal(err)
			}
			s.ses.Set(faultproxy.Fault{})
			if rep := s.redriveSends(t, len(ids)); rep.Due != len(ids) {
				t.Errorf("redrive found %d due, want %d", rep.Due, len(ids))
			}
			assertEmailedOnce(t, ids)
			for _, id := range ids {
				if c := s.copyOf(t, id); c.Status != dynamo.StatusSent || c.Attempts != 2 {
					t.Errorf("copy %s: status %s, %d attempts; want sent on the second", id, c.Status, c.Attempts)
				}
			}
			rep, err := s.redrive(t).Run(fnCtx(t))
			if err != nil || rep.Due != 0 {
				t.Errorf("second run = %+v, %v; want nothing due", rep, err)
			}
			assertEmailedOnce(t, ids)
		})
	}
}

// DynamoDB unreachable or throttled: the email still goes out and the
// visitor gets 200.
func TestDynamoDBFailsEmailStillGoesOut(t *testing.T) {
	integration(t)
	for _, tc := range []struct {
		name  string
		fault func(p *faultproxy.Proxy)
	}{
		{"refused", func(p *faultproxy.Proxy) { p.Down() }},
		{"throttled", func(p *faultproxy.Proxy) { p.Set(faultproxy.Fault{Answer: &faultproxy.DynamoDBThrottling}) }},
		{"throughput exceeded", func(p *faultproxy.Proxy) {
			p.Set(faultproxy.Fault{Answer: &faultproxy.DynamoDBThroughputExceeded})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			tc.fault(s.db)
			a := s.post(t, ctx(t), s.visitor(t, 1))
			if a.status != 200 || a.Status != "sent" {
				t.Fatalf("answer %+v, want 200 sent", a)
			}
			assertEmailedOnce(t, []string{a.ID})
			if n := s.items(t); n != 0 {
				t.Errorf("%d items stored while DynamoDB was failing", n)
			}
		})
	}
}

// Both down: 503 with Retry-After, nothing emailed, nothing stored, and
// the answer reports nothing as accepted.
func TestBothDownIs503(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Down()
	s.db.Set(faultproxy.Fault{Answer: &faultproxy.DynamoDBThroughputExceeded})
	a := s.post(t, ctx(t), s.visitor(t, 1))
	if a.status != 503 || a.retry == "" || a.OK || a.ID != "" {
		t.Fatalf("answer %+v, want 503 with Retry-After, not ok, no id", a)
	}
	if got := emailsByID(t); len(got) != 0 {
		t.Errorf("emails: %v", got)
	}
	if n := s.items(t); n != 0 {
		t.Errorf("%d items stored", n)
	}
}

// SES slower than the time budget: the visitor is answered 202 before the
// function's timeout, the copy is pending, and SES never got the request;
// redrive sends it once SES is quick again.
func TestSESSlowerThanTheBudget(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Set(faultproxy.Fault{Delay: time.Minute})
	// The function's timeout as Lambda gives it: the handler's deadline.
	fn, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	a := s.post(t, fn, s.visitor(t, 1))
	if fn.Err() != nil {
		t.Fatal("answered after the function's timeout")
	}
	if a.status != 202 || a.Status != "queued" {
		t.Fatalf("answer %+v, want 202 queued", a)
	}
	if c := s.copyOf(t, a.ID); c == nil || c.Status != dynamo.StatusPending || c.LastError != "timeout" {
		t.Fatalf("copy %+v, want pending with class timeout", c)
	}
	if fwd, _ := s.ses.Counts(); fwd != 0 {
		t.Fatalf("%d requests reached SES", fwd)
	}
	s.ses.Set(faultproxy.Fault{})
	s.redriveSends(t, 1)
	assertEmailedOnce(t, []string{a.ID})
}

// Two redrive runs at the same moment over the same pending copies: the
// claims let each copy out exactly once.
func TestTwoRedriveRunsAtOnce(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Down()
	var ids []string
	for i := range 30 {
		a := s.post(t, ctx(t), s.visitor(t, i))
		if a.status != 202 {
			t.Fatalf("post %d: %+v", i, a)
		}
		ids = append(ids, a.ID)
	}
	if err := s.ses.Up(); err != nil {
		t.Fatal(err)
	}
	runs := []*redrive.Service{s.redrive(t), s.redrive(t)}
	reps := make([]redrive.Report, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reps[i], errs[i] = r.Run(fnCtx(t))
		}()
	}
	close(start)
	wg.Wait()
	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
	}
	if sent := reps[0].Sent + reps[1].Sent; sent != len(ids) {
		t.Errorf("runs sent %d + %d, want %d in all", reps[0].Sent, reps[1].Sent, len(ids))
	}
	t.Logf("run reports: %+v / %+v", reps[0], reps[1])
	assertEmailedOnce(t, ids)
}

// A permanent SES error is not retried: the copy is marked failed at once,
// stays stored, and both alarmed metrics are published. Too many failed
// attempts end the same way.
func TestRedriveGivesUpLoudly(t *testing.T) {
	integration(t)
	for _, tc := range []struct {
		name        string
		fault       faultproxy.Fault
		maxAttempts int
		class       string
		metrics     []string
	}{
		{"permanent error", faultproxy.Fault{Answer: &faultproxy.SESMessageRejected}, 10, "rejected", []string{redrive.MetricFailed, redrive.MetricPermanent}},
		{"last attempt", faultproxy.Fault{Answer: &faultproxy.SESThrottling}, 2, "throttled", []string{redrive.MetricFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			s.ses.Down()
			a := s.post(t, ctx(t), s.visitor(t, 1))
			if err := s.ses.Up(); err != nil {
				t.Fatal(err)
			}
			s.ses.Set(tc.fault)
			s.cfg.MaxAttempts = tc.maxAttempts
			rep, err := s.redrive(t).Run(fnCtx(t))
			if err != nil || rep.Failed != 1 {
				t.Fatalf("redrive = %+v, %v", rep, err)
			}
			c := s.copyOf(t, a.ID)
			if c == nil || c.Status != dynamo.StatusFailed || c.LastError != tc.class || c.Attempts != 2 {
				t.Fatalf("copy %+v, want failed (%s) after 2 attempts, still stored", c, tc.class)
			}
			// Out of the pending index: a later run does not send it.
			s.ses.Set(faultproxy.Fault{})
			if rep, _ := s.redrive(t).Run(fnCtx(t)); rep.Due != 0 {
				t.Errorf("a failed copy is still due: %+v", rep)
			}
			assertEmailedOnce(t, nil)
			var emf string
			for _, l := range s.logs.Lines() {
				if strings.Contains(l, `"_aws"`) {
					emf += l
				}
			}
			for _, m := range tc.metrics {
				if !strings.Contains(emf, `"`+m+`":1`) {
					t.Errorf("no %s metric in %s", m, emf)
				}
			}

			// The operator fixes the cause and requeues the copy: the next
			// run sends it once.
			rd := &redrivestore.Store{Client: dynamoClient(), Table: s.table}
			if err := rd.Requeue(ctx(t), a.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := rd.Requeue(ctx(t), a.ID, time.Now()); err == nil {
				t.Error("a copy that is no longer failed was requeued")
			}
			s.redriveSends(t, 1)
			assertEmailedOnce(t, []string{a.ID})
		})
	}
}

// An expired copy is not sent, although TTL has not deleted it yet.
func TestRedriveIgnoresExpiredCopies(t *testing.T) {
	integration(t)
	s := newStack(t)
	store := &dynamo.Store{Client: dynamoClient(), Table: s.table}
	now := time.Now()
	old := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now.Add(-31 * 24 * time.Hour), ExpiresAt: now.Add(-time.Hour),
		Fields: []submission.Field{{Name: "message", Value: "Gammel melding som er utløpt"}}}
	if err := store.Save(ctx(t), old); err != nil {
		t.Fatal(err)
	}
	s.logs.Secret("Gammel melding som er utløpt")
	rep, err := s.redrive(t).Run(fnCtx(t))
	if err != nil || rep.Due != 0 || rep.Sent != 0 {
		t.Fatalf("redrive = %+v, %v; want the expired copy ignored", rep, err)
	}
	assertEmailedOnce(t, nil)
}

// DynamoDB down during a run: the run fails (the function's error alarm)
// and sends nothing; nothing is lost, the copies wait for the next run.
func TestRedriveWithDynamoDBDown(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Down()
	a := s.post(t, ctx(t), s.visitor(t, 1))
	s.ses.Up()
	s.db.Set(faultproxy.Fault{Answer: &faultproxy.DynamoDBThrottling})
	if _, err := s.redrive(t).Run(fnCtx(t)); err == nil {
		t.Fatal("Run succeeded without the pending index")
	}
	s.db.Set(faultproxy.Fault{})
	s.redriveSends(t, 1)
	assertEmailedOnce(t, []string{a.ID})
}
