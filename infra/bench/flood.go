package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/countertest"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

// The flood: floodPosts posts from floodSources addresses against one form
// with the default limits, all within one rate window.
const (
	floodPosts   = 10000
	floodSources = 1000
)

// floodResult is what the real rules decided for each post of the flood,
// and the writes and emails those decisions cost.
type floodResult struct {
	sent, held, refused, other int
	writeUnits                 float64
}

// flood runs the submit handler as the function wires it (httpapi, the
// abuse guard with the form's default limits, the submission service with
// idempotency) over in-memory ports that keep DynamoDB's conditions, and
// counts what it decided: emailed now, held (stored, emailed later by the
// redrive function at its pace), or refused by an address's limit.
func flood(table *dynamodb.CreateTableInput) (*floodResult, error) {
	vars := map[string]string{
		config.EnvTable: "bench", config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) // the start of a window
	now := func() time.Time { return start }
	res := &floodResult{}
	small := &floodWrites{}
	counter := floodCounter{floodWrites: small, c: &countertest.Counter{}}
	markers := floodMarkers{floodWrites: small, m: map[string]*submission.Marker{}}
	store := &floodStore{table: table, res: res}
	mailer := &floodMailer{}
	log := slog.New(slog.DiscardHandler)
	svc := &submission.Service{
		Store: store, Mailer: mailer, Log: log, Timeouts: submission.DefaultTimeouts, Now: now,
		Markers: markers, Idempotency: submission.DefaultIdempotency,
	}
	guard := &abuse.Guard{Counter: counter, IPKey: []byte("bench flood key"), Log: log, Now: now}
	seq := 0
	h := &httpapi.Handler{Config: cfg, Service: svc, Guard: guard, Log: log, Now: now,
		NewID: func() string { seq++; return "flood-" + strconv.Itoa(seq) }}

	// Round after round, every address posts once: what a botnet's flood
	// looks like to the form. Each post says something else, so none is a
	// repeat of another.
	for i := range floodPosts {
		src := i % floodSources
		body := url.Values{"name": {"Flood " + strconv.Itoa(src)}, "email": {fmt.Sprintf("flood%d@example.com", src)},
			"message": {fmt.Sprintf("Post %d from address %d: buy now", i, src)}}.Encode()
		ev := events.APIGatewayV2HTTPRequest{
			RawPath: "/f/contact", Body: body, PathParameters: map[string]string{"form": "contact"},
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "application/json", "origin": "https://www.example.no"},
		}
		ev.RequestContext.HTTP.Method = "POST"
		ev.RequestContext.HTTP.SourceIP = fmt.Sprintf("10.%d.%d.%d", src>>16&255, src>>8&255, src&255)
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case 200:
			res.sent++
		case 202:
			res.held++
		case 429:
			res.refused++
		default:
			res.other++
		}
	}
	if res.other > 0 {
		return nil, fmt.Errorf("flood: %d posts answered neither 200, 202 nor 429", res.other)
	}
	if mailer.n != res.sent {
		return nil, fmt.Errorf("flood: %d emails for %d posts answered sent", mailer.n, res.sent)
	}
	// Items of a fixed shape far below 1 KB: one unit each.
	res.writeUnits += float64(small.n)
	return res, nil
}

// figures prices the flood with the rules' decisions: every post is one API
// request and one invoke of billed duration; the writes it made; an email
// for each post sent now. Held copies are emailed later, at most the
// redrive function's release per run.
func (f *floodResult) figures(billed time.Duration) (map[string]float64, string) {
	per := costOf(billed, memoryMB, 0)
	usd := floodPosts*(per.lambda+per.gbsec+per.api) + f.writeUnits*priceDynamoWriteUnit + float64(f.sent)*priceSESMessage
	note := fmt.Sprintf("flood: %d posts from %d addresses in one window with the default limits (%d per address, %d per form): "+
		"%d emailed now, %d held (stored; the redrive function emails at most %d a run, %s of SES once all are out), %d refused (429); "+
		"%.0f DynamoDB write units; Lambda priced at %v billed per invoke",
		floodPosts, floodSources, config.DefaultRatePerIP, config.DefaultRatePerForm, f.sent, f.held, config.DefaultRedriveRelease,
		fmt.Sprintf("$%.2f", float64(f.held)*priceSESMessage), f.refused, f.writeUnits, billed)
	return map[string]float64{
		"flood_usd_per_10k":               usd * 10000 / floodPosts,
		"flood_emails_sent_within_window": float64(f.sent),
		"flood_held":                      float64(f.held),
		"flood_refused":                   float64(f.refused),
	}, note
}

// floodWrites is what the rate counter and the idempotency markers share:
// a lock, and the count of their writes. Each is a write of a small item
// to DynamoDB, charged whether or not its condition holds.
type floodWrites struct {
	mu sync.Mutex
	n  int
}

// write does change as one such write.
func (w *floodWrites) write(change func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	change()
}

// floodCounter is the tests' in-memory counter (the adapter's condition:
// a hit on a full counter fails), each call charged as one write.
type floodCounter struct {
	*floodWrites
	c *countertest.Counter
}

func (f floodCounter) Hit(ctx context.Context, key string, limit int, now time.Time) (ok bool, err error) {
	f.write(func() { ok, err = f.c.Hit(ctx, key, limit, now) })
	return ok, err
}

func (f floodCounter) Undo(ctx context.Context, key string) (err error) {
	f.write(func() { err = f.c.Undo(ctx, key) })
	return err
}

// floodMarkers keeps idempotency markers in memory; no flood post repeats
// another, so none is ever taken over.
type floodMarkers struct {
	*floodWrites
	m map[string]*submission.Marker
}

func (m floodMarkers) Reserve(_ context.Context, key, id, content string, _ time.Time, _, _ time.Duration) (first *submission.Marker, _ error) {
	m.write(func() {
		if mk := m.m[key]; mk != nil {
			c := *mk
			first = &c
			return
		}
		m.m[key] = &submission.Marker{SubmissionID: id, Content: content}
	})
	return first, nil
}

// Get reads; only writes are charged.
func (m floodMarkers) Get(_ context.Context, key string, _ time.Time) (*submission.Marker, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mk := m.m[key]; mk != nil {
		c := *mk
		return &c, nil
	}
	return nil, nil
}

func (m floodMarkers) Complete(_ context.Context, key, id string, o submission.Outcome) error {
	m.write(func() {
		if mk := m.m[key]; mk != nil && mk.SubmissionID == id {
			mk.Outcome = o
		}
	})
	return nil
}

func (m floodMarkers) Release(_ context.Context, key, id string) error {
	m.write(func() {
		if mk := m.m[key]; mk != nil && mk.SubmissionID == id && mk.Outcome == 0 {
			delete(m.m, key)
		}
	})
	return nil
}

// floodStore prices each copy by the item the DynamoDB adapter writes
// (dynamo.Item), its indexes included, and each sent mark by the change.
type floodStore struct {
	mu    sync.Mutex
	table *dynamodb.CreateTableInput
	items map[string]map[string]types.AttributeValue
	res   *floodResult
}

func (st *floodStore) Save(_ context.Context, s *submission.Submission) error {
	lookup := ""
	if s.ReplyTo != "" {
		// The keyed lookup key has the plain one's size, which is all the
		// write units see.
		lookup = submission.LegacyLookupKey(s.ReplyTo)
	}
	item := dynamo.Item(s, lookup)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.items == nil {
		st.items = map[string]map[string]types.AttributeValue{}
	}
	st.items[s.ID] = item
	st.res.writeUnits += writeUnits(nil, item, st.table)
	return nil
}

func (st *floodStore) MarkSent(_ context.Context, id string, at time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	before := st.items[id]
	after := make(map[string]types.AttributeValue, len(before))
	for k, v := range before {
		after[k] = v
	}
	after[dynamo.AttrStatus] = &types.AttributeValueMemberS{Value: dynamo.StatusSent}
	after[dynamo.AttrSentAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Unix(), 10)}
	delete(after, dynamo.AttrPending)
	delete(after, dynamo.AttrNextAttemptAt)
	delete(after, dynamo.AttrLastError)
	st.res.writeUnits += writeUnits(before, after, st.table)
	return nil
}

func (st *floodStore) MarkPending(context.Context, string, string) error { return nil }

type floodMailer struct {
	mu sync.Mutex
	n  int
}

func (m *floodMailer) Send(context.Context, *config.Form, *submission.Submission) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return nil
}
