package submission_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/meeting"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// memMarkers keeps markers with the DynamoDB adapter's conditions.
type memMarkers struct {
	mu   sync.Mutex
	m    map[string]*memMarker
	down error
}

type memMarker struct {
	id      string
	content string
	outcome submission.Outcome
	started time.Time
	expires time.Time
}

func (mm *memMarkers) Reserve(_ context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*submission.Marker, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.down != nil {
		return nil, mm.down
	}
	if mm.m == nil {
		mm.m = map[string]*memMarker{}
	}
	if m := mm.m[key]; m != nil && m.expires.After(now) && (m.outcome != 0 || !m.started.Before(now.Add(-stale))) {
		return &submission.Marker{SubmissionID: m.id, Content: m.content, Outcome: m.outcome}, nil
	}
	mm.m[key] = &memMarker{id: id, content: content, started: now, expires: now.Add(hold)}
	return nil, nil
}

func (mm *memMarkers) Get(_ context.Context, key string, now time.Time) (*submission.Marker, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.down != nil {
		return nil, mm.down
	}
	if m := mm.m[key]; m != nil && m.expires.After(now) {
		return &submission.Marker{SubmissionID: m.id, Content: m.content, Outcome: m.outcome}, nil
	}
	return nil, nil
}

func (mm *memMarkers) Complete(_ context.Context, key, id string, o submission.Outcome) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if m := mm.m[key]; m != nil && m.id == id {
		m.outcome = o
	}
	return nil
}

func (mm *memMarkers) Release(_ context.Context, key, id string) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if m := mm.m[key]; m != nil && m.id == id && m.outcome == 0 {
		delete(mm.m, key)
	}
	return nil
}

type idemEnv struct {
	svc   *submission.Service
	sent  atomic.Int32
	clock atomic.Pointer[time.Time]
	logs  *bytes.Buffer
}

func newIdem(t *testing.T, mk submission.Markers, send func(ctx context.Context) error) *idemEnv {
	t.Helper()
	e := &idemEnv{}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e.clock.Store(&now)
	st := &storeFunc{save: func(context.Context, *submission.Submission) error { return nil }}
	svc, logs := service(st, func(ctx context.Context, _ *config.Form, _ *submission.Submission) error {
		if send != nil {
			if err := send(ctx); err != nil {
				return err
			}
		}
		e.sent.Add(1)
		return nil
	})
	svc.Markers = mk
	svc.Idempotency = submission.DefaultIdempotency
	svc.Idempotency.Poll = time.Millisecond
	svc.Now = func() time.Time { return *e.clock.Load() }
	e.svc, e.logs = svc, logs
	return e
}

func (e *idemEnv) advance(d time.Duration) {
	t := e.clock.Load().Add(d)
	e.clock.Store(&t)
}

var idemForm = &config.Form{ID: "contact"}

func post(id, key string, fields ...string) *submission.Submission {
	s := &submission.Submission{ID: id, FormID: "contact", IdempotencyKey: key, ReplyTo: "kari@example.no"}
	for i := 0; i+1 < len(fields); i += 2 {
		s.Fields = append(s.Fields, submission.Field{Name: fields[i], Value: fields[i+1]})
	}
	return s
}

func accept(t *testing.T, e *idemEnv, s *submission.Submission) submission.Outcome {
	t.Helper()
	o, err := e.svc.Accept(context.Background(), idemForm, s, nil)
	if err != nil {
		t.Fatalf("Accept(%s): %v", s.ID, err)
	}
	return o
}

func TestRepeatsAreAnsweredLikeTheFirst(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then *submission.Submission
		after       time.Duration
		emails      int32
	}{
		{"same key after a day", post("one", "k-1", "message", "Hei"), post("two", "k-1", "message", "Hei"), 25 * time.Hour, 2},
		{"same fields, no key", post("one", "", "message", "Hei"), post("two", "", "message", "Hei"), 9 * time.Minute, 1},
		{"same fields after the window", post("one", "", "message", "Hei"), post("two", "", "message", "Hei"), 11 * time.Minute, 2},
		{"other fields, no key", post("one", "", "message", "Hei"), post("two", "", "message", "Hei!"), 0, 2},
		{"fields moved between names", post("one", "", "a", "bc", "d", ""), post("two", "", "a", "b", "cd", ""), 0, 2},
		{"different keys, same content", post("one", "k-1", "message", "Hei"), post("two", "k-2", "message", "Hei"), 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIdem(t, &memMarkers{}, nil)
			accept(t, e, tc.first)
			e.advance(tc.after)
			accept(t, e, tc.then)
			if got := e.sent.Load(); got != tc.emails {
				t.Fatalf("emails = %d, want %d", got, tc.emails)
			}
			if repeat := tc.emails == 1; repeat != (tc.then.ID == "one") {
				t.Errorf("second answer's id = %q (repeat %v)", tc.then.ID, repeat)
			}
		})
	}
}

func TestNoDuplicateWindowMeansOnlyKeys(t *testing.T) {
	e := newIdem(t, &memMarkers{}, nil)
	e.svc.Idempotency.DuplicateWindow = 0
	accept(t, e, post("one", "", "message", "Hei"))
	accept(t, e, post("two", "", "message", "Hei"))
	accept(t, e, post("three", "k", "message", "Hei"))
	accept(t, e, post("four", "k", "message", "Hei"))
	if got := e.sent.Load(); got != 3 {
		t.Errorf("emails = %d, want 3", got)
	}
}

// A repeat answers with the first's outcome: a first that was stored (SES
// down) makes the repeat 202 too, and sends nothing then either.
func TestRepeatGetsTheFirstOutcome(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, func(context.Context) error { return classed{} })
	if o := accept(t, e, post("one", "k")); o != submission.Stored {
		t.Fatalf("first = %v, want Stored", o)
	}
	s := post("two", "k")
	if o := accept(t, e, s); o != submission.Stored || s.ID != "one" {
		t.Errorf("repeat = %v %s, want Stored one", o, s.ID)
	}
}

// Two identical posts at the same moment: the second waits for the first
// and neither sends twice.
func TestConcurrentIdenticalPostsSendOnce(t *testing.T) {
	release := make(chan struct{})
	var inSend atomic.Int32
	mk := &countingMarkers{memMarkers: &memMarkers{}, reserved: make(chan struct{}, 2)}
	e := newIdem(t, mk, func(ctx context.Context) error {
		inSend.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	var wg sync.WaitGroup
	posts := []*submission.Submission{post("one", "", "message", "Hei"), post("two", "", "message", "Hei")}
	outcomes := make([]submission.Outcome, 2)
	errs := make([]error, 2)
	for i, s := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], errs[i] = e.svc.Accept(context.Background(), idemForm, s, nil)
		}()
	}
	// Both have asked for the key before the first send may finish.
	<-mk.reserved
	<-mk.reserved
	close(release)
	wg.Wait()
	if inSend.Load() != 1 || e.sent.Load() != 1 {
		t.Fatalf("sends started %d, done %d; want 1", inSend.Load(), e.sent.Load())
	}
	for i := range posts {
		if errs[i] != nil || outcomes[i] != submission.Sent {
			t.Errorf("post %d: %v %v", i, outcomes[i], errs[i])
		}
	}
	if posts[0].ID != posts[1].ID {
		t.Errorf("answered with ids %q and %q, want one id", posts[0].ID, posts[1].ID)
	}
}

type countingMarkers struct {
	*memMarkers
	reserved chan struct{}
}

func (c *countingMarkers) Reserve(ctx context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*submission.Marker, error) {
	m, err := c.memMarkers.Reserve(ctx, key, id, content, now, hold, stale)
	c.reserved <- struct{}{}
	return m, err
}

// When nothing could be accepted the key is given up, so the visitor's
// retry is sent instead of being answered with the failure.
func TestFailedFirstDoesNotBlockTheRetry(t *testing.T) {
	mk := &memMarkers{}
	fail := true
	e := newIdem(t, mk, func(context.Context) error {
		if fail {
			return errors.New("connection refused")
		}
		return nil
	})
	e.svc.Store = &storeFunc{save: func(context.Context, *submission.Submission) error {
		if fail {
			return errors.New("connection refused")
		}
		return nil
	}}
	if _, err := e.svc.Accept(context.Background(), idemForm, post("one", "k"), nil); !errors.Is(err, submission.ErrUnavailable) {
		t.Fatalf("first: %v, want ErrUnavailable", err)
	}
	fail = false
	s := post("two", "k")
	if o := accept(t, e, s); o != submission.Sent || s.ID != "two" || e.sent.Load() != 1 {
		t.Errorf("retry = %v %s, %d emails; want sent as itself", o, s.ID, e.sent.Load())
	}
}

// Without the markers (DynamoDB down) the email still goes out.
func TestMarkersDownStillSends(t *testing.T) {
	e := newIdem(t, &memMarkers{down: errors.New("connection refused")}, nil)
	if o := accept(t, e, post("one", "k")); o != submission.Sent || e.sent.Load() != 1 {
		t.Errorf("outcome %v, %d emails", o, e.sent.Load())
	}
	if !strings.Contains(e.logs.String(), "idempotency check unavailable") {
		t.Errorf("logs:\n%s", e.logs)
	}
}

// A first request that never finishes: the repeat gives up within its
// budget with ErrUnavailable (503, nothing accepted); once the marker is
// stale a retry takes it over and sends.
func TestUnfinishedFirstRequest(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	start := *e.clock.Load()
	if first, err := mk.Reserve(context.Background(), mustKey(e, post("", "k")), "lost", "", start, time.Hour, time.Minute); first != nil || err != nil {
		t.Fatal(first, err)
	}
	e.svc.Timeouts.Replay = 20 * time.Millisecond
	if _, err := e.svc.Accept(context.Background(), idemForm, post("two", "k"), nil); !errors.Is(err, submission.ErrUnavailable) {
		t.Fatalf("repeat of an unfinished request: %v, want ErrUnavailable", err)
	}
	if e.sent.Load() != 0 {
		t.Fatal("sent while the first request was still running")
	}
	e.advance(e.svc.Idempotency.Stale + time.Second)
	s := post("three", "k")
	if o := accept(t, e, s); o != submission.Sent || s.ID != "three" || e.sent.Load() != 1 {
		t.Errorf("after the marker went stale: %v %s, %d emails", o, s.ID, e.sent.Load())
	}
}

func mustKey(e *idemEnv, s *submission.Submission) string {
	k, _ := e.svc.Idempotency.MarkerKey("contact", s)
	return k
}

// Keys are hashes: nothing submitted appears in them, and the client key
// is scoped to the form.
func TestMarkerKeysHoldNoPersonalData(t *testing.T) {
	idem := submission.DefaultIdempotency
	s := post("x", "", "name", "Kari Nordmann", "message", "Hei")
	k, hold := idem.MarkerKey("contact", s)
	if hold != idem.DuplicateWindow || len(k) != 65 || strings.Contains(k, "Kari") || strings.Contains(k, "kari@") {
		t.Errorf("content key %q (hold %v)", k, hold)
	}
	s.IdempotencyKey = "kari@example.no"
	k1, hold := idem.MarkerKey("contact", s)
	k2, _ := idem.MarkerKey("quote", s)
	if hold != idem.KeyRetention || k1 == k2 || strings.Contains(k1, "kari") {
		t.Errorf("client keys %q %q (hold %v)", k1, k2, hold)
	}
}

// A gate that refuses stops everything: nothing is sent, its error comes
// back unchanged (the handler maps it), and the marker the post took is
// given back, so that the visitor's next try is a first post, not a repeat
// of a refused one.
func TestRefusedGateSendsNothingAndGivesTheMarkerBack(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	limited := errors.New("over the limit")
	refuse := func(context.Context) error { return limited }
	if _, err := e.svc.Accept(context.Background(), idemForm, post("one", "k"), refuse); !errors.Is(err, limited) {
		t.Fatalf("Accept = %v, want the gate's error", err)
	}
	if e.sent.Load() != 0 {
		t.Fatal("a refused post was sent")
	}
	if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m != nil {
		t.Fatalf("marker kept after a refusal: %+v", m)
	}
	s := post("two", "k")
	if o := accept(t, e, s); o != submission.Sent || s.ID != "two" || e.sent.Load() != 1 {
		t.Fatalf("retry after a refusal = %v %s, %d sent; want a first post", o, s.ID, e.sent.Load())
	}

	t.Run("without markers", func(t *testing.T) {
		e := newIdem(t, nil, nil)
		e.svc.Markers = nil
		if _, err := e.svc.Accept(context.Background(), idemForm, post("one", "k"), refuse); !errors.Is(err, limited) || e.sent.Load() != 0 {
			t.Fatalf("Accept = %v, %d sent", err, e.sent.Load())
		}
	})
	t.Run("a repeat the gate refuses", func(t *testing.T) {
		// The first post was sent; the repeat is refused by the gate and
		// must not release the first one's marker.
		if _, err := e.svc.Accept(context.Background(), idemForm, post("three", "k"), refuse); !errors.Is(err, limited) {
			t.Fatalf("Accept = %v, want the gate's error", err)
		}
		if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m == nil || m.SubmissionID != "two" {
			t.Fatalf("first post's marker = %+v, want two's", m)
		}
	})
}

func idemKey(e *idemEnv, key string) string {
	k, _ := e.svc.Idempotency.MarkerKey(idemForm.ID, post("", key))
	return k
}

// meetingMarkers make Reserve and Complete wait until their partner call
// has started too (see TestIndependentCallsOverlap).
type meetingMarkers struct {
	memMarkers
	reserve, complete *meeting.Point
}

func (m *meetingMarkers) Reserve(ctx context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*submission.Marker, error) {
	if err := m.reserve.Arrive(ctx, "marker"); err != nil {
		return nil, err
	}
	return m.memMarkers.Reserve(ctx, key, id, content, now, hold, stale)
}

func (m *meetingMarkers) Complete(ctx context.Context, key, id string, o submission.Outcome) error {
	if err := m.complete.Arrive(ctx, "marker"); err != nil {
		return err
	}
	return m.memMarkers.Complete(ctx, key, id, o)
}

// The calls that do not depend on each other are made at the same time, so
// the visitor waits one round trip per step rather than one per call: the
// gate (rate limits) with the marker's reservation, and the copy's "sent"
// mark with the marker's outcome.
func TestIndependentCallsOverlap(t *testing.T) {
	mk := &meetingMarkers{reserve: meeting.New(2), complete: meeting.New(2)}
	e := newIdem(t, mk, nil)
	e.svc.Timeouts.Marker, e.svc.Timeouts.Mark = time.Second, time.Second
	st := &storeFunc{save: func(context.Context, *submission.Submission) error { return nil }}
	st.markSent = func(ctx context.Context) error { return mk.complete.Arrive(ctx, "sent mark") }
	e.svc.Store = st
	gate := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return mk.reserve.Arrive(ctx, "gate")
	}
	o, err := e.svc.Accept(context.Background(), idemForm, post("one", "k"), gate)
	if err != nil || o != submission.Sent {
		t.Fatalf("Accept = %v, %v: the gate ran after the reservation", o, err)
	}
	if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m == nil || m.Outcome != submission.Sent {
		t.Errorf("marker = %+v: the reservation waited for the gate, or the outcome for the mark", m)
	}
	if st.sent.Load() != 1 {
		t.Errorf("copy marked sent %d times, want 1: the mark waited for the marker's outcome", st.sent.Load())
	}
}

// Marker keys stay the same across versions: a deploy in the middle of a
// retry must still recognise the first post's marker.
func TestMarkerKeysAreStable(t *testing.T) {
	s := &submission.Submission{ReplyTo: "a@b.no", Subject: "x", Fields: []submission.Field{{Name: "m", Value: "hei"}},
		Consents: []submission.Consent{{Purpose: "optional_details", Field: "c", Value: "ja"}}}
	if k, hold := submission.DefaultIdempotency.MarkerKey("contact", s); k != "c58f981cb704e1ddf6113a157872e5aee8d3fe3f3012095426b541a59fae94bab" || hold != 10*time.Minute {
		t.Errorf("content key = %s, %v", k, hold)
	}
	s.IdempotencyKey = "abc"
	if k, hold := submission.DefaultIdempotency.MarkerKey("contact", s); k != "k430fd8b706d5c3e5345813fe6f28ef2c29413e7072f8aa2153d3d0992f812837" || hold != 24*time.Hour {
		t.Errorf("client key = %s, %v", k, hold)
	}
}

// lostAnswerMarkers write the marker but lose the answer (a timeout after
// DynamoDB applied the write).
type lostAnswerMarkers struct{ memMarkers }

func (m *lostAnswerMarkers) Reserve(ctx context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*submission.Marker, error) {
	m.memMarkers.Reserve(ctx, key, id, content, now, hold, stale)
	return nil, context.DeadlineExceeded
}

// A refused post whose reservation landed but whose answer was lost still
// gives the marker back: the visitor's retry is a first post.
func TestRefusedPostReleasesAMarkerWhoseAnswerWasLost(t *testing.T) {
	mk := &lostAnswerMarkers{}
	e := newIdem(t, mk, nil)
	limited := errors.New("over the limit")
	if _, err := e.svc.Accept(context.Background(), idemForm, post("one", "k"), func(context.Context) error { return limited }); !errors.Is(err, limited) {
		t.Fatalf("Accept = %v", err)
	}
	if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m != nil {
		t.Fatalf("marker kept: %+v", m)
	}
}

// A key that comes back with other content (a page with a fixed key, a key
// copied between visitors) is refused: nothing is sent, and the first
// post's marker stays as it was. The same key with the same content is a
// repeat, answered like the first.
func TestKeyReusedWithOtherContentIsRefused(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	accept(t, e, post("one", "k", "message", "Hei"))
	for _, other := range []*submission.Submission{
		post("two", "k", "message", "Hei igjen"),
		post("three", "k", "message", "Hei", "phone", "12345678"),
		func() *submission.Submission {
			s := post("four", "k", "message", "Hei")
			s.ReplyTo = "ola@example.no"
			return s
		}(),
	} {
		o, err := e.svc.Accept(context.Background(), idemForm, other, nil)
		if !errors.Is(err, submission.ErrKeyReused) || o != 0 {
			t.Errorf("%s: Accept = %v, %v; want ErrKeyReused", other.ID, o, err)
		}
	}
	if e.sent.Load() != 1 {
		t.Errorf("emails = %d, want only the first", e.sent.Load())
	}
	if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m == nil || m.SubmissionID != "one" || m.Outcome != submission.Sent {
		t.Errorf("first post's marker = %+v, want one's, sent", m)
	}
	// Instructions are not content: a retry with another _next or a new
	// source address is still the same message.
	s := post("five", "k", "message", "Hei")
	s.Source = "another-network"
	if o := accept(t, e, s); o != submission.Sent || s.ID != "one" || e.sent.Load() != 1 {
		t.Errorf("same key, same content: %v %s, %d emails; want a repeat of one", o, s.ID, e.sent.Load())
	}
	if !strings.Contains(e.logs.String(), "idempotency key reused with other content") {
		t.Errorf("logs:\n%s", e.logs)
	}
	if strings.Contains(e.logs.String(), "Hei") {
		t.Errorf("content in the logs:\n%s", e.logs)
	}
}

// Reused while the first post is still being sent: refused at once, not
// after waiting for the first one's answer, which is not its own.
func TestKeyReusedWhileTheFirstRuns(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	if first, err := mk.Reserve(context.Background(), idemKey(e, "k"), "running",
		submission.ContentFingerprint(idemForm.ID, post("", "k", "message", "Hei")), *e.clock.Load(), time.Hour, time.Minute); first != nil || err != nil {
		t.Fatal(first, err)
	}
	e.svc.Timeouts.Replay = time.Hour // a wait would hang the test
	if _, err := e.svc.Accept(context.Background(), idemForm, post("two", "k", "message", "Noe annet"), nil); !errors.Is(err, submission.ErrKeyReused) {
		t.Fatalf("Accept = %v, want ErrKeyReused", err)
	}
}

// A marker written before fingerprints were kept matches any content: the
// behaviour of the version that wrote it, for the day it lives.
func TestMarkerWithoutFingerprintIsARepeat(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	key := idemKey(e, "k")
	mk.Reserve(context.Background(), key, "old", "", *e.clock.Load(), time.Hour, time.Minute)
	mk.Complete(context.Background(), key, "old", submission.Sent)
	s := post("new", "k", "message", "Hei")
	if o := accept(t, e, s); o != submission.Sent || s.ID != "old" || e.sent.Load() != 0 {
		t.Errorf("Accept = %v %s, %d sent", o, s.ID, e.sent.Load())
	}
}

// The fingerprint covers what is emailed and stored, nothing else, and
// holds none of it in clear.
func TestContentFingerprint(t *testing.T) {
	base := post("", "k", "name", "Kari Nordmann", "message", "Hei")
	fp := submission.ContentFingerprint("contact", base)
	if len(fp) != 65 || strings.Contains(fp, "Kari") {
		t.Errorf("fingerprint %q", fp)
	}
	same := post("other-id", "other-key", "name", "Kari Nordmann", "message", "Hei")
	same.Source, same.Language = "elsewhere", "en"
	if submission.ContentFingerprint("contact", same) != fp {
		t.Error("id, key, source or language changed the fingerprint")
	}
	for name, s := range map[string]*submission.Submission{
		"field value": post("", "k", "name", "Kari Nordmann", "message", "Hei!"),
		"reply-to": func() *submission.Submission {
			s := post("", "k", "name", "Kari Nordmann", "message", "Hei")
			s.ReplyTo = ""
			return s
		}(),
		"subject": func() *submission.Submission {
			s := post("", "k", "name", "Kari Nordmann", "message", "Hei")
			s.Subject = "x"
			return s
		}(),
	} {
		if submission.ContentFingerprint("contact", s) == fp {
			t.Errorf("%s: same fingerprint", name)
		}
	}
	if submission.ContentFingerprint("quote", base) == fp {
		t.Error("another form, same fingerprint")
	}
}

// Two people who send the same short text within the window both reach
// staff; the same person's double post is still merged.
func TestDuplicateWindowCountsTheSource(t *testing.T) {
	e := newIdem(t, &memMarkers{}, nil)
	from := func(id, source string) *submission.Submission {
		s := post(id, "", "message", "Ring meg")
		s.ReplyTo, s.Source = "", source
		return s
	}
	accept(t, e, from("one", "src-a"))
	b := from("two", "src-b")
	accept(t, e, b)
	again := from("three", "src-a")
	accept(t, e, again)
	if e.sent.Load() != 2 || b.ID != "two" || again.ID != "one" {
		t.Errorf("emails %d, ids %s %s; want two emails, the same source's repeat merged", e.sent.Load(), b.ID, again.ID)
	}
	k1, _ := e.svc.Idempotency.MarkerKey("contact", from("", "src-a"))
	k2, _ := e.svc.Idempotency.MarkerKey("contact", from("", "src-b"))
	if k1 == k2 || strings.Contains(k1, "src-a") {
		t.Errorf("keys %q %q", k1, k2)
	}
}

// A gate that holds a post back: the copy is stored as held, nothing is
// sent, the visitor is answered Stored (202), and a repeat gets the same.
func TestHeldPostIsStoredNotSent(t *testing.T) {
	hold := func(context.Context) error { return submission.ErrHold }
	for _, markers := range []bool{true, false} {
		mk := &memMarkers{}
		e := newIdem(t, mk, nil)
		if !markers {
			e.svc.Markers = nil
		}
		var saved []submission.Submission
		e.svc.Store = &storeFunc{save: func(_ context.Context, s *submission.Submission) error { saved = append(saved, *s); return nil }}
		s := post("one", "k", "message", "Hei")
		o, err := e.svc.Accept(context.Background(), idemForm, s, hold)
		if err != nil || o != submission.Stored || e.sent.Load() != 0 || len(saved) != 1 || !saved[0].Held {
			t.Fatalf("markers %v: Accept = %v, %v; %d sent, saved %+v; want Stored, a held copy and no email", markers, o, err, e.sent.Load(), saved)
		}
		if !markers {
			continue
		}
		if m, _ := mk.Get(context.Background(), idemKey(e, "k"), *e.clock.Load()); m == nil || m.Outcome != submission.Stored {
			t.Errorf("marker %+v, want Stored", m)
		}
		repeat := post("two", "k", "message", "Hei")
		if o, err := e.svc.Accept(context.Background(), idemForm, repeat, nil); err != nil || o != submission.Stored || repeat.ID != "one" || len(saved) != 1 {
			t.Errorf("repeat = %v %v %s, %d copies", o, err, repeat.ID, len(saved))
		}
	}
}

// A held copy that cannot be stored is sent now rather than refused.
func TestHeldPostThatCannotBeStoredIsSent(t *testing.T) {
	e := newIdem(t, &memMarkers{}, nil)
	var held atomic.Int32
	e.svc.Store = &storeFunc{save: func(_ context.Context, s *submission.Submission) error {
		if s.Held {
			held.Add(1)
			return errors.New("connection reset")
		}
		return nil
	}}
	s := post("one", "", "message", "Hei")
	o, err := e.svc.Accept(context.Background(), idemForm, s, func(context.Context) error { return submission.ErrHold })
	if err != nil || o != submission.Sent || e.sent.Load() != 1 || held.Load() != 1 {
		t.Errorf("Accept = %v, %v; %d sent, %d held writes", o, err, e.sent.Load(), held.Load())
	}
}

// withUploads is s naming direct uploads, as a post does once they are
// claimed (data read) or, for Repeat, by id alone.
func withUploads(s *submission.Submission, data bool, ids ...string) *submission.Submission {
	for _, id := range ids {
		f := submission.File{Upload: id}
		if data {
			f.Field, f.Name, f.Data = "cv", "cv.pdf", []byte("%PDF-1.7 "+id)
		}
		s.Files = append(s.Files, f)
	}
	return s
}

// A post whose answer was lost, sent again with the same key, content and
// upload ids, cannot claim its uploads again: Repeat answers it like the
// first, and nothing is sent twice.
func TestRepeatOfAPostWithUploads(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	// The first try, as Accept left it: its marker, with its outcome.
	first := withUploads(post("one", "k", "message", "Hei"), true, "u1", "u2")
	key := mustKey(e, first)
	mk.Reserve(context.Background(), key, "one", submission.ContentFingerprint(idemForm.ID, first), *e.clock.Load(), time.Hour, time.Minute)
	mk.Complete(context.Background(), key, "one", submission.Sent)
	retry := withUploads(post("two", "k", "message", "Hei"), false, "u1", "u2")
	o, ok, err := e.svc.Repeat(context.Background(), idemForm, retry)
	if err != nil || !ok || o != submission.Sent || retry.ID != "one" {
		t.Fatalf("Repeat = %v %v %v, id %s; want Sent, a repeat of one", o, ok, err, retry.ID)
	}
	for name, s := range map[string]*submission.Submission{
		"no key":        withUploads(post("three", "", "message", "Hei"), false, "u1", "u2"),
		"another key":   withUploads(post("three", "k2", "message", "Hei"), false, "u1", "u2"),
		"other content": withUploads(post("three", "k", "message", "Hei igjen"), false, "u1", "u2"),
		"other uploads": withUploads(post("three", "k", "message", "Hei"), false, "u1", "u3"),
		"fewer uploads": withUploads(post("three", "k", "message", "Hei"), false, "u1"),
	} {
		if o, ok, err := e.svc.Repeat(context.Background(), idemForm, s); ok || err != nil || o != 0 || s.ID != "three" {
			t.Errorf("%s: Repeat = %v %v %v, id %s; want no repeat", name, o, ok, err, s.ID)
		}
	}
	if e.sent.Load() != 0 {
		t.Errorf("Repeat sent %d emails", e.sent.Load())
	}
}

// scriptedGets answers Get from gets, in order.
type scriptedGets struct {
	submission.Markers
	gets []*submission.Marker
}

func (g *scriptedGets) Get(context.Context, string, time.Time) (*submission.Marker, error) {
	m := g.gets[0]
	g.gets = g.gets[1:]
	return m, nil
}

// A repeat that arrives while the first try still runs waits for its
// answer; a first try that gave up is a 503 for the retry (it is giving
// its uploads back, so the next try can claim them).
func TestRepeatWaitsForTheFirstOrTellsToRetry(t *testing.T) {
	mk := &memMarkers{}
	e := newIdem(t, mk, nil)
	// The first try seen running, then done: the repeat waits for it.
	first := withUploads(post("one", "k", "message", "Hei"), true, "u1")
	running := &submission.Marker{SubmissionID: "one", Content: submission.ContentFingerprint(idemForm.ID, first)}
	finished := *running
	finished.Outcome = submission.Stored
	gets := &scriptedGets{Markers: mk, gets: []*submission.Marker{running, running, &finished}}
	e.svc.Markers = gets
	o, ok, err := e.svc.Repeat(context.Background(), idemForm, withUploads(post("two", "k", "message", "Hei"), false, "u1"))
	if err != nil || !ok || o != submission.Stored || len(gets.gets) != 0 {
		t.Errorf("Repeat while the first runs = %v %v %v (%d reads left); want its Stored after waiting", o, ok, err, len(gets.gets))
	}

	// The first try seen running, then gone: it gave its key up.
	gaveUp := withUploads(post("three", "k2", "message", "Hei"), true, "u2")
	seen := &submission.Marker{SubmissionID: "three", Content: submission.ContentFingerprint(idemForm.ID, gaveUp)}
	e.svc.Markers = &scriptedGets{Markers: mk, gets: []*submission.Marker{seen, nil}}
	if _, ok, err := e.svc.Repeat(context.Background(), idemForm, withUploads(post("four", "k2", "message", "Hei"), false, "u2")); ok || !errors.Is(err, submission.ErrUnavailable) {
		t.Errorf("Repeat of a first try that gave up = %v %v; want ErrUnavailable", ok, err)
	}
	e.svc.Markers = mk
	if _, ok, err := e.svc.Repeat(context.Background(), idemForm, withUploads(post("five", "k2", "message", "Hei"), false, "u2")); ok || err != nil {
		t.Errorf("Repeat once the key is free = %v %v; want no repeat (the post claims its uploads)", ok, err)
	}
	mk.down = errors.New("throttled")
	if _, ok, err := e.svc.Repeat(context.Background(), idemForm, withUploads(post("six", "k", "message", "Hei"), false, "u1")); ok || !errors.Is(err, submission.ErrUnavailable) {
		t.Errorf("Repeat with the table down = %v %v; want ErrUnavailable", ok, err)
	}
}
