package erasure_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// memory is an in-memory store with switchable faults, for the order and
// idempotency rules; the DynamoDB adapter is tested against the emulator.
type memory struct {
	copies      map[string][]erasure.Copy // by lookup key
	receipts    map[string]*erasure.Receipt
	notices     [][]erasure.Copy
	failDelete  error
	failNotify  error
	deleteCalls int
	// onClaim runs as a copy is claimed: what another writer (an operator
	// placing a hold, a concurrent delete) did since the copies were found.
	onClaim   func(id string)
	failClaim error
	claimed   []string
}

func (m *memory) FindByLookupKey(_ context.Context, key string) ([]erasure.Copy, error) {
	return append([]erasure.Copy(nil), m.copies[key]...), nil
}
func (m *memory) ClaimCopy(_ context.Context, id, _ string) (erasure.Claim, error) {
	if m.onClaim != nil {
		m.onClaim(id)
	}
	if m.failClaim != nil {
		return erasure.Claim{}, m.failClaim
	}
	for _, cs := range m.copies {
		for _, c := range cs {
			if c.ID == id {
				if !c.HeldUntil.After(time.Now()) { // no hold, or one that has ended
					m.claimed = append(m.claimed, id)
					return erasure.Claim{}, nil
				}
				return erasure.Claim{HeldUntil: c.HeldUntil}, nil
			}
		}
	}
	return erasure.Claim{Gone: true}, nil
}

// hold puts a legal hold on the stored copy id, as holdstore does.
func (m *memory) hold(id string, until time.Time) {
	for _, cs := range m.copies {
		for i := range cs {
			if cs[i].ID == id {
				cs[i].HeldUntil = until
			}
		}
	}
}

func (m *memory) DeleteCopies(_ context.Context, ids []string) error {
	m.deleteCalls++
	if m.failDelete != nil {
		// Fail half-way: the first copy is gone.
		for k, cs := range m.copies {
			if len(cs) > 0 && cs[0].ID == ids[0] {
				m.copies[k] = cs[1:]
			}
		}
		return m.failDelete
	}
	for k, cs := range m.copies {
		var kept []erasure.Copy
		for _, c := range cs {
			del := false
			for _, id := range ids {
				del = del || c.ID == id
			}
			if !del {
				kept = append(kept, c)
			}
		}
		m.copies[k] = kept
	}
	return nil
}
func (m *memory) GetReceipt(_ context.Context, id string) (*erasure.Receipt, error) {
	if r, ok := m.receipts[id]; ok {
		c := *r
		return &c, nil
	}
	return nil, nil
}
func (m *memory) CreateReceipt(_ context.Context, r erasure.Receipt) error {
	if _, ok := m.receipts[r.RequestID]; !ok {
		m.receipts[r.RequestID] = &r
	}
	return nil
}
func (m *memory) CompleteReceipt(_ context.Context, id string, _ time.Time) error {
	m.receipts[id].Complete = true
	return nil
}
func (m *memory) NotifyErased(_ context.Context, _ erasure.Receipt, copies []erasure.Copy) error {
	if m.failNotify != nil {
		return m.failNotify
	}
	m.notices = append(m.notices, copies)
	return nil
}

var keys, _ = submission.NewLookupKeys(strings.Repeat("k", 64))

// counts is a fake erasure.Metrics.
type counts map[string]int

func (c counts) Publish(m map[string]int) {
	for k, v := range m {
		c[k] += v
	}
}

func setup() (*memory, *erasure.Service, *bytes.Buffer) {
	m := &memory{copies: map[string][]erasure.Copy{
		keys.Key("kari@example.no"): {{ID: "a", FormID: "contact"}, {ID: "b", FormID: "quote"}, {ID: "c", FormID: "job"}},
		keys.Key("ola@example.no"):  {{ID: "d", FormID: "contact"}},
	}, receipts: map[string]*erasure.Receipt{}}
	var logs bytes.Buffer
	return m, &erasure.Service{Finder: m, Deleter: m, Receipts: m, Notifier: m, Retention: 3 * 365 * 24 * time.Hour,
		LookupKeys: keys, Metrics: counts{}, Now: time.Now, Log: slog.New(slog.NewJSONHandler(&logs, nil))}, &logs
}

var kari = erasure.Request{Email: "Kari@Example.no", RequestID: "req-1", Source: erasure.SourceOperator}

func TestEraseIsIdempotent(t *testing.T) {
	m, svc, logs := setup()
	r, err := svc.Erase(context.Background(), kari)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 3 || !r.Complete || len(m.copies[keys.Key("kari@example.no")]) != 0 {
		t.Fatalf("receipt %+v, left %v", r, m.copies)
	}
	if len(m.copies[keys.Key("ola@example.no")]) != 1 {
		t.Fatal("another person's copy was erased")
	}
	if len(m.notices) != 1 || len(m.notices[0]) != 3 {
		t.Fatalf("notices = %v", m.notices)
	}
	// The same message again changes nothing and sends no second notice.
	r2, err := svc.Erase(context.Background(), kari)
	if err != nil || r2.Count != 3 || len(m.notices) != 1 || m.deleteCalls != 1 {
		t.Fatalf("second run: %+v %v, notices %d, deletes %d", r2, err, len(m.notices), m.deleteCalls)
	}
	if strings.Contains(strings.ToLower(logs.String()), "kari") {
		t.Errorf("logs name the person: %s", logs)
	}
}

// A delete that fails half-way is finished by the retry, and the receipt
// still counts every copy.
func TestEraseRetryAfterPartialFailure(t *testing.T) {
	m, svc, _ := setup()
	m.failDelete = errors.New("throttled")
	if _, err := svc.Erase(context.Background(), kari); err == nil {
		t.Fatal("want an error")
	}
	if got := m.receipts["req-1"]; got == nil || got.Count != 3 || got.Complete {
		t.Fatalf("receipt after failure = %+v", got)
	}
	m.failDelete = nil
	r, err := svc.Erase(context.Background(), kari)
	if err != nil || r.Count != 3 || !m.receipts["req-1"].Complete {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if left := m.copies[keys.Key("kari@example.no")]; len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if len(m.notices) != 2 || len(m.notices[1]) != 2 {
		t.Errorf("the retry should name the 2 copies it erased: %v", m.notices)
	}
}

// Without a notice to the privacy contact nothing is deleted: staff would
// never learn which mailbox copies to delete.
func TestEraseNeedsTheNotice(t *testing.T) {
	m, svc, _ := setup()
	m.failNotify = errors.New("ses down")
	if _, err := svc.Erase(context.Background(), kari); err == nil {
		t.Fatal("want an error")
	}
	if m.deleteCalls != 0 || len(m.receipts) != 0 {
		t.Fatalf("deleted %d times, receipts %v", m.deleteCalls, m.receipts)
	}
}

// A request that finds nothing keeps its receipt and is counted, but the
// privacy contact is not told: anyone can ask for any address.
func TestNothingStoredStillGetsAReceipt(t *testing.T) {
	m, svc, _ := setup()
	for range 2 { // a repeated delivery counts once
		r, err := svc.Erase(context.Background(), erasure.Request{Email: "nobody@example.no", RequestID: "req-9", Source: erasure.SourceSelfService})
		if err != nil || r.Count != 0 || !r.Complete || m.receipts["req-9"] == nil || !m.receipts["req-9"].Complete {
			t.Fatalf("%+v %v %v", r, err, m.receipts["req-9"])
		}
	}
	if len(m.notices) != 0 {
		t.Errorf("the privacy contact was told of an erasure that found nothing: %v", m.notices)
	}
	if got := svc.Metrics.(counts)[erasure.MetricNothingErased]; got != 1 {
		t.Errorf("%s = %d, want 1", erasure.MetricNothingErased, got)
	}
}

// Copies stored before lookup keys were keyed with the secret carry the
// plain SHA-256 of the address; erasure finds them too (migration window,
// see submission.LegacyLookupKey), and each copy only once.
func TestEraseFindsCopiesUnderTheLegacyKey(t *testing.T) {
	m, svc, _ := setup()
	m.copies[submission.LegacyLookupKey("kari@example.no")] = []erasure.Copy{{ID: "old", FormID: "contact"}}
	r, err := svc.Erase(context.Background(), kari)
	if err != nil || r.Count != 4 {
		t.Fatalf("receipt %+v, %v; want 4 copies", r, err)
	}
	for _, under := range []struct{ name, key string }{
		{"keyed", keys.Key("kari@example.no")},
		{"legacy", submission.LegacyLookupKey("kari@example.no")},
	} {
		if left := m.copies[under.key]; len(left) != 0 {
			t.Errorf("copies under the %s key survived: %v", under.name, left)
		}
	}
	if len(m.notices) != 1 || len(m.notices[0]) != 4 {
		t.Errorf("notice = %v, want the 4 copies", m.notices)
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"email":"kari@example.no","request_id":"r-1","source":"operator"}`, true},
		{`{"email":"kari@example.no","request_id":"r-1","source":"self-service"}`, true},
		{`not json`, false},
		{`{"email":"kari@example.no","request_id":"r-1","source":"operator"} x`, false},
		{`{"email":"kari","request_id":"r-1","source":"operator"}`, false},
		{`{"email":"a@example.no, b@example.no","request_id":"r-1","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"a b","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"op-2026.11:Z_9","source":"operator"}`, true},
		{`{"email":"kari@example.no","request_id":"` + strings.Repeat("r", 128) + `","source":"operator"}`, true},
		{`{"email":"kari@example.no","request_id":"` + strings.Repeat("r", 129) + `","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"r/1","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"rø","source":"operator"}`, false},
		{`{"email":"kari@example.no","request_id":"r-1","source":"someone"}`, false},
		{`{"email":"kari@example.no","request_id":"r-1","source":"operator","extra":1}`, false},
		// Copies sent with an address SES cannot reach were stored before
		// such addresses were refused: they must stay erasable.
		{`{"email":"kåre@example.no","request_id":"r-1","source":"operator"}`, true},
		{`{"email":"kari@bølgen.no","request_id":"r-1","source":"operator"}`, true},
		{`{"email":"kari@bøl\u200bgen.no","request_id":"r-1","source":"operator"}`, false},
	} {
		_, err := erasure.ParseRequest(tc.body)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.body, err, tc.ok)
		}
		if err != nil && (!erasure.IsInvalid(err) || strings.Contains(err.Error(), "kari")) {
			t.Errorf("%s: error %q is not a PII-free InvalidError", tc.body, err)
		}
	}
}

// A malformed message fails alone; the rest of the batch is processed.
func TestQueueHandlerReportsOnlyTheFailures(t *testing.T) {
	m, svc, _ := setup()
	var logs bytes.Buffer
	h := &erasure.QueueHandler{Service: svc, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"email":"kari@example.no","request_id":"r1","source":"operator"}`},
		{MessageId: "m2", Body: `{"email":"kari@example.no" broken`},
		{MessageId: "m3", Body: `{"email":"ola@example.no","request_id":"r3","source":"self-service"}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Fatalf("failures = %+v", resp.BatchItemFailures)
	}
	if m.receipts["r1"] == nil || m.receipts["r3"] == nil {
		t.Fatal("the good messages were not processed")
	}
	for _, pii := range []string{"kari", "ola@"} {
		if strings.Contains(logs.String(), pii) {
			t.Errorf("logs contain %q: %s", pii, logs.String())
		}
	}
}

// An internationalised address is one person in either spelling, and its
// copies stored before the conversion (under the Unicode spelling's key)
// are found as well, each once.
func TestEraseFindsEverySpelling(t *testing.T) {
	for _, asked := range []string{"kari@xn--blgen-vua.no", "Kari@Bølgen.no"} {
		m, svc, _ := setup()
		legacy := sha256.Sum256([]byte("kari@bølgen.no"))
		m.copies[keys.Key("kari@bølgen.no")] = []erasure.Copy{{ID: "n1", FormID: "contact"}, {ID: "n2", FormID: "quote"}}
		m.copies[hex.EncodeToString(legacy[:])] = []erasure.Copy{{ID: "o1", FormID: "contact"}}
		m.copies[keys.Key("ola@bølgen.no")] = []erasure.Copy{{ID: "x", FormID: "contact"}}
		r, err := svc.Erase(context.Background(), erasure.Request{Email: asked, RequestID: "r-idn", Source: erasure.SourceOperator})
		if err != nil {
			t.Fatal(err)
		}
		if r.Count != 3 || len(m.notices) != 1 || len(m.notices[0]) != 3 {
			t.Errorf("%s: erased %d, notices %v; want 3 copies in one notice", asked, r.Count, m.notices)
		}
		if len(m.copies[keys.Key("ola@bølgen.no")]) != 1 {
			t.Errorf("%s: another person's copy was erased", asked)
		}
	}
}

type personNotices struct {
	got  []erasure.Receipt
	to   []string
	fail error
}

func (p *personNotices) NotifyPerson(_ context.Context, to, lang string, r erasure.Receipt) error {
	if p.fail != nil {
		return p.fail
	}
	p.got = append(p.got, r)
	p.to = append(p.to, to+"/"+lang)
	return nil
}

// A hold placed after the copies were found, before erasure claims them,
// still keeps its copy (and is reported as any hold); a copy deleted
// meanwhile is left out of the counts; copies under a hold are never
// claimed, so that an operator can still hold them later.
func TestEraseMeetsHoldsAndDeletesSinceItFound(t *testing.T) {
	m, svc, _ := setup()
	until := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
	key := keys.Key("kari@example.no")
	m.onClaim = func(id string) {
		switch id {
		case "a":
			m.hold("b", until) // the operator's hold lands between find and claim
		case "c":
			m.copies[key] = slices.DeleteFunc(m.copies[key], func(c erasure.Copy) bool { return c.ID == "c" })
		}
	}
	r, err := svc.Erase(context.Background(), kari)
	if err != nil {
		t.Fatal(err)
	}
	wantHeldB(t, m, r, 1, until)
	if !slices.Equal(m.claimed, []string{"a"}) {
		t.Errorf("claimed %v, want only a", m.claimed)
	}
	if n := m.notices[0]; len(n) != 2 || n[0].ID != "a" || n[1].ID != "b" || !n[1].HeldUntil.Equal(until) {
		t.Errorf("notice = %+v, want a erased and b held", n)
	}
}

// A copy found under a hold that has ended since (released between the
// find and the claim), or whose end has passed though the redrive sweep
// has not ended it yet, is erased with the others: it is claimed too.
func TestEraseClaimsCopiesWhoseHoldEnded(t *testing.T) {
	m, svc, _ := setup()
	key := keys.Key("kari@example.no")
	m.copies[key][0].HeldUntil = time.Now().Add(-time.Hour)          // ended, not swept
	m.copies[key][1].HeldUntil = time.Now().Add(30 * 24 * time.Hour) // released below
	m.onClaim = func(id string) {
		if id == "b" {
			m.hold("b", time.Time{})
		}
	}
	r, err := svc.Erase(context.Background(), kari)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 3 || r.Held != 0 || len(m.copies[key]) != 0 {
		t.Errorf("receipt %+v, left %v: want all three erased", r, m.copies[key])
	}
	if n := m.notices[0]; len(n) != 3 || !n[0].HeldUntil.IsZero() || !n[1].HeldUntil.IsZero() {
		t.Errorf("notice %+v: no copy may be told as held", n)
	}
}

// wantHeldB: the receipt counts erased copies erased and kari's copy b
// held until until, and b is all that is left of kari.
func wantHeldB(t *testing.T, m *memory, r erasure.Receipt, erased int, until time.Time) {
	t.Helper()
	if r.Count != erased || r.Held != 1 || !r.HeldUntil.Equal(until) || !r.Complete {
		t.Errorf("receipt = %+v, want %d erased and b held", r, erased)
	}
	if left := m.copies[keys.Key("kari@example.no")]; len(left) != 1 || left[0].ID != "b" {
		t.Errorf("left %v, want the held copy b", left)
	}
}

// A claim that fails (DynamoDB trouble) fails the request before anyone is
// told or anything is deleted; the queue retries it.
func TestEraseClaimFailureChangesNothing(t *testing.T) {
	m, svc, _ := setup()
	m.failClaim = errors.New("throttled")
	if _, err := svc.Erase(context.Background(), kari); err == nil || !strings.Contains(err.Error(), "claim copies") {
		t.Fatalf("err = %v", err)
	}
	if len(m.notices) != 0 || m.deleteCalls != 0 || len(m.receipts) != 0 {
		t.Errorf("notices %v, deletes %d, receipts %v: want none", m.notices, m.deleteCalls, m.receipts)
	}
}

// A copy under a legal hold is kept and reported: the privacy contact's
// notice lists it, the receipt counts it with its end, and a self-service
// requester is told (once, after a failed send too); an operator's request
// sends the person nothing.
func TestEraseKeepsHeldCopies(t *testing.T) {
	m, svc, _ := setup()
	until := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
	key := keys.Key("kari@example.no")
	m.copies[key][1].HeldUntil = until
	p := &personNotices{fail: errors.New("ses down")}
	svc.Person = p
	req := erasure.Request{Email: "kari@example.no", RequestID: "ss-1", Source: erasure.SourceSelfService, Language: "en"}
	if _, err := svc.Erase(context.Background(), req); err == nil {
		t.Fatal("a failed confirmation to the person must fail the message, to be retried")
	}
	p.fail = nil
	r, err := svc.Erase(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantHeldB(t, m, r, 2, until)
	if len(m.notices) == 0 || len(m.notices[0]) != 3 {
		t.Errorf("notice = %v, want the erased and the held copies", m.notices)
	}
	if len(p.got) != 1 || p.got[0].Held != 1 || p.to[0] != "kari@example.no/en" {
		t.Errorf("person told %v %v", p.got, p.to)
	}
	if _, err := svc.Erase(context.Background(), req); err != nil || len(p.got) != 1 {
		t.Errorf("a repeat told the person again: %v %d", err, len(p.got))
	}
	if _, err := svc.Erase(context.Background(), erasure.Request{Email: "ola@example.no", RequestID: "op-1", Source: erasure.SourceOperator}); err != nil || len(p.got) != 1 {
		t.Errorf("an operator's erasure told the person: %v %d", err, len(p.got))
	}
}

// A run that finds only held copies erased nothing, but still tells the
// privacy contact and the person (copies are kept), and is not counted as
// finding nothing; a self-service run that finds nothing at all emails
// nobody.
func TestEraseOfOnlyHeldCopiesTells(t *testing.T) {
	m, svc, _ := setup()
	n := counts{}
	svc.Metrics = n
	m.copies[keys.Key("ola@example.no")][0].HeldUntil = time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
	p := &personNotices{}
	svc.Person = p
	r, err := svc.Erase(context.Background(), erasure.Request{Email: "ola@example.no", RequestID: "ss-2", Source: erasure.SourceSelfService, Language: "nb"})
	if err != nil || r.Count != 0 || r.Held != 1 {
		t.Fatalf("receipt %+v, %v", r, err)
	}
	if len(m.notices) != 1 || len(m.notices[0]) != 1 || len(p.got) != 1 || n[erasure.MetricNothingErased] != 0 {
		t.Errorf("notices %v, person told %d times, nothing-found metric %d", m.notices, len(p.got), n[erasure.MetricNothingErased])
	}
	if _, err := svc.Erase(context.Background(), erasure.Request{Email: "nobody@example.no", RequestID: "ss-3", Source: erasure.SourceSelfService, Language: "nb"}); err != nil {
		t.Fatal(err)
	}
	if len(m.notices) != 1 || len(p.got) != 1 || n[erasure.MetricNothingErased] != 1 {
		t.Errorf("nothing found: notices %d, person told %d times, metric %d", len(m.notices), len(p.got), n[erasure.MetricNothingErased])
	}
}

func TestParseRequestLanguage(t *testing.T) {
	if r, err := erasure.ParseRequest(`{"email":"a@b.no","request_id":"x","source":"self-service","language":"en"}`); err != nil || r.Language != "en" {
		t.Errorf("language en: %+v %v", r, err)
	}
	if _, err := erasure.ParseRequest(`{"email":"a@b.no","request_id":"x","source":"self-service","language":"sv"}`); !erasure.IsInvalid(err) {
		t.Errorf("language sv: %v", err)
	}
}
