package redrive_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/submission"
)

// memStore is an in-memory pending index with the same conditions as the
// DynamoDB adapter: a claim needs the copy pending, unexpired and due
// exactly when it was listed; the writes that end a claim need its token.
type memStore struct {
	mu      sync.Mutex
	items   map[string]*item
	pageLen int
	dueErr  error
	claims  int
}

type item struct {
	s        submission.Submission
	pending  bool
	next     int64
	status   string
	attempts int
	lastErr  string
	// held: stored over the form's ceiling, in the held partition.
	held bool
}

func newStore(now time.Time, ids ...string) *memStore {
	st := &memStore{items: map[string]*item{}, pageLen: 2}
	for _, id := range ids {
		st.add(id, now.Add(-time.Minute), 1)
	}
	return st
}

func (st *memStore) add(id string, due time.Time, attempts int) {
	st.items[id] = &item{
		s:       submission.Submission{ID: id, FormID: "contact", ExpiresAt: due.Add(30 * 24 * time.Hour)},
		pending: true, next: due.Unix(), status: "pending", attempts: attempts,
	}
}

func (st *memStore) Due(_ context.Context, now time.Time, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return st.pending(now, false, after, st.pageLen)
}

// Held lists held copies by id (the tests add them in the order they came).
func (st *memStore) Held(_ context.Context, now time.Time, limit int, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return st.pending(now, true, after, min(limit, st.pageLen))
}

// pending pages through the pending copies due at now, held or not, as the
// pending index's two partitions do.
func (st *memStore) pending(now time.Time, held bool, after redrive.Cursor, pageLen int) ([]redrive.Candidate, redrive.Cursor, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.dueErr != nil {
		return nil, nil, st.dueErr
	}
	var all []redrive.Candidate
	for id, it := range st.items {
		if it.pending && it.held == held && it.next <= now.Unix() && it.s.ExpiresAt.After(now) {
			all = append(all, redrive.Candidate{ID: id, Due: it.next, Held: held})
		}
	}
	return page(all, after, pageLen)
}

func page(all []redrive.Candidate, after redrive.Cursor, pageLen int) ([]redrive.Candidate, redrive.Cursor, error) {
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	// Like LastEvaluatedKey: the next page starts after the last key read.
	last, _ := after.(string)
	start := sort.Search(len(all), func(i int) bool { return all[i].ID > last })
	end := min(start+pageLen, len(all))
	if end == len(all) {
		return all[start:end], nil, nil
	}
	return all[start:end], all[end-1].ID, nil
}

func (st *memStore) Claim(_ context.Context, c redrive.Candidate, now, until time.Time) (*redrive.Claimed, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.claims++
	it := st.items[c.ID]
	if it == nil || !it.pending || it.held != c.Held || it.status != "pending" || it.next != c.Due || !it.s.ExpiresAt.After(now) {
		return nil, redrive.ErrTaken
	}
	it.next, it.held = until.Unix(), false
	return &redrive.Claimed{Submission: it.s, Attempts: it.attempts, Token: until.Unix()}, nil
}

func (st *memStore) end(c *redrive.Claimed, f func(*item)) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	it := st.items[c.Submission.ID]
	if it == nil || it.next != c.Token {
		return redrive.ErrTaken
	}
	it.attempts = c.Attempts + 1
	f(it)
	return nil
}

func (st *memStore) Sent(_ context.Context, c *redrive.Claimed, _ time.Time) error {
	return st.end(c, func(it *item) { it.status, it.pending = "sent", false })
}

func (st *memStore) Retry(_ context.Context, c *redrive.Claimed, next time.Time, class string) error {
	return st.end(c, func(it *item) { it.next, it.lastErr = next.Unix(), class })
}

func (st *memStore) Fail(_ context.Context, c *redrive.Claimed, _ time.Time, class string) error {
	return st.end(c, func(it *item) { it.status, it.pending, it.lastErr = "failed", false, class })
}

func (st *memStore) get(id string) item {
	st.mu.Lock()
	defer st.mu.Unlock()
	return *st.items[id]
}

// mailer records what was sent; fail decides an error per submission id.
type mailer struct {
	mu   sync.Mutex
	sent map[string]int
	fail func(id string) error
	ctxs []context.Context
}

func (m *mailer) Send(ctx context.Context, _ *config.Form, s *submission.Submission) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctxs = append(m.ctxs, ctx)
	if m.fail != nil {
		if err := m.fail(s.ID); err != nil {
			return err
		}
	}
	if m.sent == nil {
		m.sent = map[string]int{}
	}
	m.sent[s.ID]++
	return nil
}

type sendErr struct {
	class                string
	permanent, throttled bool
}

func (e sendErr) Error() string      { return "ses: " + e.class + " for kari@example.no" }
func (e sendErr) ErrorClass() string { return e.class }
func (e sendErr) Permanent() bool    { return e.permanent }
func (e sendErr) Throttled() bool    { return e.throttled }

var (
	throttled = sendErr{class: "throttled", throttled: true}
	rejected  = sendErr{class: "rejected", permanent: true}
	down      = sendErr{class: "unavailable"}
)

type published struct {
	mu     sync.Mutex
	counts []map[string]int
}

func (p *published) Publish(c map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = append(p.counts, c)
}

func (p *published) total(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.counts {
		n += c[name]
	}
	return n
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func service(st redrive.Store, m *mailer) (*redrive.Service, *published, *bytes.Buffer) {
	var logs bytes.Buffer
	met := &published{}
	s := redrive.DefaultSettings
	s.Workers = 3
	return &redrive.Service{
		Store: st, Mailer: m, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: met,
		Form: func(id string) *config.Form {
			if id == "contact" {
				return &config.Form{ID: "contact"}
			}
			return nil
		},
		Now: func() time.Time { return now }, Settings: s,
	}, met, &logs
}

func TestRunSendsEveryDueCopyOnce(t *testing.T) {
	st := newStore(now, "a", "b", "c", "d", "e")
	st.add("later", now.Add(time.Minute), 1) // not due yet
	st.add("expired", now.Add(-40*24*time.Hour), 1)
	st.items["expired"].s.ExpiresAt = now.Add(-time.Hour)
	m := &mailer{}
	svc, met, _ := service(st, m)
	rep, err := svc.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Due != 5 || rep.Sent != 5 || rep.Failed+rep.Retried+rep.Skipped+rep.Errors != 0 {
		t.Errorf("report %+v, want 5 due and sent", rep)
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if m.sent[id] != 1 {
			t.Errorf("%s sent %d times", id, m.sent[id])
		}
		if it := st.get(id); it.status != "sent" || it.pending || it.attempts != 2 {
			t.Errorf("%s: status %s pending %v attempts %d, want sent, out of the index, 2 attempts", id, it.status, it.pending, it.attempts)
		}
	}
	if m.sent["later"]+m.sent["expired"] != 0 {
		t.Error("a copy not yet due or expired was sent")
	}
	if got := met.total(redrive.MetricSent); got != 5 {
		t.Errorf("%s = %d, want 5", redrive.MetricSent, got)
	}
	if got := met.total(redrive.MetricFailed); got != 0 {
		t.Errorf("%s = %d on a clean run", redrive.MetricFailed, got)
	}
}

// Two runs at the same time, each with several workers, over the same
// copies: the claims let each copy out once.
func TestOverlappingRunsSendEachCopyOnce(t *testing.T) {
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = string(rune('A'+i/26)) + string(rune('a'+i%26))
	}
	st := newStore(now, ids...)
	m := &mailer{}
	a, _, _ := service(st, m)
	b, _, _ := service(st, m)
	var wg sync.WaitGroup
	reps := make([]redrive.Report, 2)
	for i, svc := range []*redrive.Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], _ = svc.Run(context.Background())
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if m.sent[id] != 1 {
			t.Errorf("%s sent %d times", id, m.sent[id])
		}
	}
	if got := reps[0].Sent + reps[1].Sent; got != len(ids) {
		t.Errorf("runs sent %d + %d, want %d in all", reps[0].Sent, reps[1].Sent, len(ids))
	}
}

func TestFailedResendBacksOffThenGivesUp(t *testing.T) {
	st := newStore(now, "x")
	m := &mailer{fail: func(string) error { return down }}
	svc, met, logs := service(st, m)
	svc.MaxAttempts = 5
	clock := now
	svc.Now = func() time.Time { return clock }
	var waits []time.Duration
	for run := 0; run < 10; run++ {
		rep, err := svc.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		it := st.get("x")
		if !it.pending {
			if it.status != "failed" || it.attempts != 5 || it.lastErr != "unavailable" || rep.Failed != 1 {
				t.Fatalf("after run %d: %+v, report %+v; want failed after 5 attempts", run, it, rep)
			}
			break
		}
		wait := time.Unix(it.next, 0).Sub(clock)
		waits = append(waits, wait)
		clock = time.Unix(it.next, 0) // the next run that finds it due
	}
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d = %v, want %v", i, waits[i], want[i])
		}
	}
	if got := met.total(redrive.MetricFailed); got != 1 {
		t.Errorf("%s = %d, want 1", redrive.MetricFailed, got)
	}
	if got := met.total(redrive.MetricPermanent); got != 0 {
		t.Errorf("%s = %d for a temporary error", redrive.MetricPermanent, got)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"giving up`) {
		t.Errorf("giving up is not logged as an error:\n%s", logs)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	st := newStore(now)
	st.add("x", now.Add(-time.Minute), 20)
	svc, _, _ := service(st, &mailer{fail: func(string) error { return down }})
	svc.MaxAttempts = 50
	if _, err := svc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := time.Unix(st.get("x").next, 0).Sub(now); got != svc.MaxBackoff {
		t.Errorf("wait after attempt 21 = %v, want the cap %v", got, svc.MaxBackoff)
	}
}

// A permanent error is not retried: one attempt, failed, both alarmed
// metrics.
func TestPermanentErrorIsNotRetried(t *testing.T) {
	st := newStore(now, "x")
	m := &mailer{fail: func(string) error { return rejected }}
	svc, met, logs := service(st, m)
	rep, _ := svc.Run(context.Background())
	if it := st.get("x"); it.status != "failed" || it.pending || it.lastErr != "rejected" {
		t.Errorf("copy %+v, want failed with class rejected", it)
	}
	if rep.Permanent != 1 || rep.Failed != 1 || rep.Retried != 0 {
		t.Errorf("report %+v", rep)
	}
	if met.total(redrive.MetricPermanent) != 1 || met.total(redrive.MetricFailed) != 1 {
		t.Errorf("metrics %v", met.counts)
	}
	if strings.Contains(logs.String(), "kari@example.no") {
		t.Error("the error text (which can quote an address) reached the log")
	}
}

// Throttling: the throttled copy is retried later and the run stops
// sending, leaving the rest due for the next run.
func TestThrottlingStopsTheRun(t *testing.T) {
	st := newStore(now, "a", "b", "c", "d", "e", "f")
	m := &mailer{fail: func(string) error { return throttled }}
	svc, met, _ := service(st, m)
	svc.Workers = 1
	rep, _ := svc.Run(context.Background())
	if rep.Throttled != 1 || rep.Retried != 1 || rep.Sent != 0 {
		t.Errorf("report %+v, want one throttled retry", rep)
	}
	if rep.Deferred == 0 || st.claims != 1 {
		t.Errorf("claims %d, deferred %d: the run went on after SES throttled", st.claims, rep.Deferred)
	}
	if it := st.get("a"); !it.pending || it.lastErr != "throttled" || it.next <= now.Unix() {
		t.Errorf("throttled copy %+v, want pending again later", it)
	}
	if met.total(redrive.MetricThrottled) != 1 {
		t.Errorf("metrics %v", met.counts)
	}
	// SES recovers: the next run sends all six.
	m.fail = nil
	svc.Now = func() time.Time { return now.Add(svc.Backoff) }
	rep, _ = svc.Run(context.Background())
	if rep.Sent != 6 {
		t.Errorf("recovery run %+v, want 6 sent", rep)
	}
}

func TestTakenCopiesAreSkipped(t *testing.T) {
	st := newStore(now, "x")
	m := &mailer{}
	svc, _, _ := service(st, m)
	// Listed as due at another time than the table now holds: another run
	// claimed it after the index was read.
	svc.Store = staleIndex{st}
	rep, _ := svc.Run(context.Background())
	if rep.Skipped != 1 || len(m.sent) != 0 {
		t.Errorf("report %+v, sent %v; want skipped, nothing sent", rep, m.sent)
	}
}

type staleIndex struct{ *memStore }

func (s staleIndex) Due(ctx context.Context, now time.Time, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	page, next, err := s.memStore.Due(ctx, now, after)
	for i := range page {
		page[i].Due--
	}
	return page, next, err
}

func TestUnknownFormIsGivenUp(t *testing.T) {
	st := newStore(now, "x")
	st.items["x"].s.FormID = "removed"
	m := &mailer{}
	svc, met, _ := service(st, m)
	if _, err := svc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if it := st.get("x"); it.status != "failed" || it.lastErr != "unknown_form" || len(m.sent) != 0 {
		t.Errorf("copy %+v, want failed as unknown_form", it)
	}
	if met.total(redrive.MetricFailed) != 1 {
		t.Errorf("metrics %v", met.counts)
	}
}

func TestUnreadableIndexFailsTheRun(t *testing.T) {
	st := newStore(now, "x")
	st.dueErr = errors.New("connection refused")
	svc, _, logs := service(st, &mailer{})
	if _, err := svc.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded without reading the index")
	}
	if !strings.Contains(logs.String(), "could not read the pending index") {
		t.Errorf("logs:\n%s", logs)
	}
}

// Each send's deadline comes from the Lambda deadline less the reserve, and
// no copy is started that could not be recorded before the deadline.
func TestRunKeepsToTheLambdaDeadline(t *testing.T) {
	st := newStore(now, "a", "b")
	m := &mailer{}
	svc, _, _ := service(st, m)
	svc.Timeouts = redrive.Timeouts{Query: time.Second, Claim: time.Second, Send: 10 * time.Second, Mark: time.Second, Reserve: time.Second}

	// Too little time for one round: nothing is claimed.
	short, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, _ := svc.Run(short)
	if st.claims != 0 || rep.Sent != 0 {
		t.Errorf("claimed %d copies with 5s left for a 13s round", st.claims)
	}

	long, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dl, _ := long.Deadline()
	if rep, _ = svc.Run(long); rep.Sent != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range m.ctxs {
		got, ok := c.Deadline()
		if !ok || got.After(dl.Add(-svc.Timeouts.Reserve)) {
			t.Errorf("send deadline %v, want before the Lambda deadline %v less the reserve", got, dl)
		}
	}
}

func (st *memStore) addHeld(id string, received time.Time) {
	st.items[id] = &item{
		s:       submission.Submission{ID: id, FormID: "contact", ExpiresAt: received.Add(30 * 24 * time.Hour)},
		pending: true, held: true, next: received.Unix(), status: "pending",
	}
}

// Held copies are released at most Release a run, oldest first, after the
// copies whose email failed; the rest wait for the next runs, and every one
// is sent in the end, once.
func TestHeldCopiesAreReleasedAtAPace(t *testing.T) {
	st := newStore(now, "retry")
	for i := range 7 {
		st.addHeld(string(rune('a'+i)), now.Add(-time.Duration(7-i)*time.Second))
	}
	m := &mailer{}
	svc, met, _ := service(st, m)
	svc.Release = 3
	var runs []redrive.Report
	for range 3 {
		rep, err := svc.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, rep)
	}
	for i, want := range []struct{ due, held, released int }{{1, 3, 3}, {0, 3, 3}, {0, 1, 1}} {
		if r := runs[i]; r.Due != want.due || r.Held != want.held || r.Released != want.released || r.Sent != want.due+want.released {
			t.Errorf("run %d: %+v, want due %d, held %d, released %d", i+1, r, want.due, want.held, want.released)
		}
	}
	for _, id := range []string{"retry", "a", "b", "c", "d", "e", "f", "g"} {
		if m.sent[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, m.sent[id])
		}
	}
	if it := st.get("a"); it.status != "sent" || it.attempts != 1 || it.held {
		t.Errorf("released copy: %+v, want sent after one attempt", it)
	}
	if got := met.total(redrive.MetricReleased); got != 7 {
		t.Errorf("%s = %d, want 7", redrive.MetricReleased, got)
	}
}

// A held copy released into a failing SES is retried like any other copy
// (it left the held partition), not released again from it.
func TestReleasedCopyThatFailsIsRetried(t *testing.T) {
	st := newStore(now)
	st.addHeld("h", now.Add(-time.Second))
	m := &mailer{fail: func(string) error { return down }}
	svc, _, _ := service(st, m)
	rep, err := svc.Run(context.Background())
	if err != nil || rep.Held != 1 || rep.Retried != 1 || rep.Released != 0 {
		t.Fatalf("run = %+v, %v; want the held copy tried and rescheduled", rep, err)
	}
	if it := st.get("h"); it.held || !it.pending || it.attempts != 1 || it.lastErr != "unavailable" {
		t.Errorf("copy after a failed release: %+v", it)
	}
}

// SES throttling stops the release too: nothing more is taken on this run.
func TestThrottlingStopsTheRelease(t *testing.T) {
	st := newStore(now, "retry")
	st.addHeld("h", now.Add(-time.Second))
	m := &mailer{fail: func(string) error { return throttled }}
	svc, _, _ := service(st, m)
	svc.Workers = 1
	rep, err := svc.Run(context.Background())
	// With one worker the held copy waits for it, which by then has seen
	// the throttling: claimed never.
	if err != nil || rep.Throttled != 1 || m.sent["h"] != 0 || st.claims != 1 {
		t.Errorf("run = %+v, %v; want the release left for the next run", rep, err)
	}
	if it := st.get("h"); !it.held {
		t.Error("the held copy left the held partition without being sent")
	}
}
