package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/infra/harness/rie"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// typicalEvent is the submission every latency figure uses: five fields and
// a 1 KB message, as the handler benchmark uses.
const typicalEvent = "submit-typical-json.json"

// latency holds the e2e and raw samples of one run.
type latency struct {
	e2e, put, send, update []time.Duration
	// hello is the same invoke of the hello-world function: the emulator's
	// own share of e2e.
	hello []time.Duration
	// inProcess is the submit handler wired by submit.Handler, called in this
	// process: e2e without the emulator and the event's JSON.
	inProcess []time.Duration
	// gate and record are the submit path's other two rounds made directly:
	// its two rate counters and the idempotency reservation at once, then
	// the copy's sent mark and the marker's outcome at once.
	gate, record []time.Duration
	// billed are the billed durations of the e2e invokes, from REPORT.
	billed []time.Duration
	// saved and sent are a copy as stored and after it was marked sent,
	// read back from the table, for the write units in the cost model;
	// counter and marker are the other items a submission writes (the
	// counters once each, the marker twice).
	saved, sent, counter, marker map[string]types.AttributeValue
}

// capture stands in for the service to learn exactly which submission the
// handler builds from the event, so the raw calls send what the function
// sends.
type capture struct {
	form *config.Form
	s    *submission.Submission
}

func (c *capture) Accept(_ context.Context, f *config.Form, s *submission.Submission, _ submission.Gate) (submission.Outcome, error) {
	c.form, c.s = f, s
	return submission.Sent, nil
}

// Repeat: the typical submission names no direct uploads.
func (c *capture) Repeat(context.Context, *config.Form, *submission.Submission) (submission.Outcome, bool, error) {
	return 0, false, nil
}

// latencyRun holds what measureLatency works with.
type latencyRun struct {
	ev        events.APIGatewayV2HTTPRequest // the same, decoded
	got       capture                        // the submission and form the handler builds from it
	db        *dynamodb.Client
	table     string
	store     *dynamo.Store
	counter   *dynamo.RateCounter
	markers   *dynamo.Markers
	mailer    *ses.Mailer
	submit    *rie.Emulator
	hello     *rie.Emulator
	inProcess *httpapi.Handler
	l         latency
}

// measureLatency invokes the submit function n times under the emulator
// and, between invokes, makes the function's own PutItem and SendEmail
// calls directly with the same SDK clients submit.NewClients builds, so that both
// see the same emulators in the same moment. warmup rounds go first,
// unmeasured.
func measureLatency(ctx context.Context, rieBin string, env *testenv.Env, boot, helloBoot string, n, warmup int) (*latency, error) {
	r, err := newLatencyRun(ctx, env)
	if err != nil {
		return nil, err
	}
	if r.submit, err = rie.Start(ctx, rie.Options{RIEPath: rieBin, Bootstrap: boot, Env: lambdaEnv(env), Log: io.Discard}); err != nil {
		return nil, err
	}
	defer r.submit.Stop()
	if r.hello, err = rie.Start(ctx, rie.Options{RIEPath: rieBin, Bootstrap: helloBoot, Env: lambdaEnv(env), Log: io.Discard}); err != nil {
		return nil, err
	}
	defer r.hello.Stop()
	for i := 0; i < warmup+n; i++ {
		if i%50 == 0 {
			// The SES emulator keeps every message in memory; keep its
			// store small so it does not slow down as the run goes on.
			if err := env.ClearEmails(ctx); err != nil {
				return nil, err
			}
		}
		if err := r.round(ctx, i >= warmup, i == warmup+n-1); err != nil {
			return nil, err
		}
	}
	reports := r.submit.Reports()
	for wait := time.Now(); len(reports) < warmup+n && time.Since(wait) < 5*time.Second; reports = r.submit.Reports() {
		time.Sleep(5 * time.Millisecond) // the last lines may still be in the pipe
	}
	if len(reports) != warmup+n {
		return nil, fmt.Errorf("%d REPORT lines for %d invokes", len(reports), warmup+n)
	}
	for _, rep := range reports[warmup:] {
		r.l.billed = append(r.l.billed, rep.Billed)
	}
	return &r.l, nil
}

func newLatencyRun(ctx context.Context, env *testenv.Env) (*latencyRun, error) {
	r := &latencyRun{table: env.Table}
	payload, err := os.ReadFile(filepath.Join(env.Root, "events", typicalEvent))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(payload, &r.ev); err != nil {
		return nil, fmt.Errorf("%s: %w", typicalEvent, err)
	}
	vars := benchVars(env)
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	h := &httpapi.Handler{Config: cfg, Service: &r.got, Log: slog.New(slog.DiscardHandler), Now: time.Now, NewID: submission.NewID}
	if resp, _ := h.Handle(ctx, r.ev); resp.StatusCode != 200 || r.got.s == nil {
		return nil, fmt.Errorf("%s: status %d: %s", typicalEvent, resp.StatusCode, resp.Body)
	}
	r.db = dynamodb.NewFromConfig(env.AWS)
	r.store = &dynamo.Store{Client: r.db, Table: env.Table, LookupKeys: env.LookupKeys()}
	r.counter = &dynamo.RateCounter{Client: r.db, Table: env.Table}
	r.markers = &dynamo.Markers{Client: r.db, Table: env.Table}
	r.mailer = &ses.Mailer{Client: sesapi.NewFromConfig(env.AWS)}
	if r.inProcess, err = submit.Handler(ctx, cfg, submit.NewClients(env.AWS, cfg), slog.New(slog.DiscardHandler), io.Discard); err != nil {
		return nil, err
	}
	return r, nil
}

// round is one submission through the function, the same invoke of the
// hello-world function, the handler in this process, and the raw calls.
// The last round also reads the raw copy back before and after it is
// marked sent, for the cost model's write units.
func (r *latencyRun) round(ctx context.Context, measured, last bool) error {
	pick := func(dst *[]time.Duration) *[]time.Duration {
		if measured {
			return dst
		}
		return nil
	}
	// Each round is a new submission, so that the idempotency check (on by
	// default) takes the first-post path every time, as a visitor's post does.
	r.ev.Headers["idempotency-key"] = submission.NewID()
	payload, err := json.Marshal(&r.ev)
	if err != nil {
		return err
	}
	if err := timed(ctx, pick(&r.l.e2e), func(c context.Context) error {
		body, err := r.submit.Invoke(c, payload)
		var resp events.APIGatewayV2HTTPResponse
		if err == nil && (json.Unmarshal(body, &resp) != nil || resp.StatusCode != 200) {
			err = fmt.Errorf("answered %s", body)
		}
		return err
	}); err != nil {
		return fmt.Errorf("invoke submit: %w\n%s", err, r.submit.Logs())
	}
	if err := timed(ctx, pick(&r.l.hello), func(c context.Context) error {
		_, err := r.hello.Invoke(c, []byte(`{"name":"kontakt"}`))
		return err
	}); err != nil {
		return fmt.Errorf("invoke hello: %w", err)
	}
	r.ev.Headers["idempotency-key"] = submission.NewID()
	if err := timed(ctx, pick(&r.l.inProcess), func(c context.Context) error {
		resp, err := r.inProcess.Handle(c, r.ev)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
		return err
	}); err != nil {
		return fmt.Errorf("in-process handler: %w", err)
	}
	s := *r.got.s
	s.ID = submission.NewID()
	if err := timed(ctx, pick(&r.l.put), func(c context.Context) error { return r.store.Save(c, &s) }); err != nil {
		return fmt.Errorf("raw PutItem: %w", err)
	}
	if err := timed(ctx, pick(&r.l.send), func(c context.Context) error { return r.mailer.Send(c, r.got.form, &s) }); err != nil {
		return fmt.Errorf("raw SendEmail: %w", err)
	}
	if last {
		if r.l.saved, err = r.readBack(ctx, s.ID); err != nil {
			return err
		}
	}
	if err := timed(ctx, pick(&r.l.update), func(c context.Context) error { return r.store.MarkSent(c, s.ID, time.Now()) }); err != nil {
		return fmt.Errorf("raw UpdateItem: %w", err)
	}
	if last {
		if r.l.sent, err = r.readBack(ctx, s.ID); err != nil {
			return err
		}
	}
	if err := r.otherRounds(ctx, pick, s.ID); err != nil || !last {
		return err
	}
	if r.l.counter, err = r.readBack(ctx, dynamo.RateIDPrefix+"bench#form"); err != nil {
		return err
	}
	r.l.marker, err = r.readBack(ctx, dynamo.MarkerPrefix+"bench"+s.ID)
	return err
}

// otherRounds makes the submit path's calls besides PutItem and SendEmail
// as it makes them, each round's calls at the same time: what the e2e
// figure holds beyond the max(raw) floor.
func (r *latencyRun) otherRounds(ctx context.Context, pick func(*[]time.Duration) *[]time.Duration, id string) error {
	window := time.Now().Add(time.Minute)
	key := "bench" + id
	if err := timed(ctx, pick(&r.l.gate), func(c context.Context) error {
		return together(
			func() error { _, err := r.counter.Hit(c, "bench#ip#"+id, 1e6, window); return err },
			func() error { _, err := r.counter.Hit(c, "bench#form", 1e6, window); return err },
			func() error {
				_, err := r.markers.Reserve(c, key, id, "", time.Now(), time.Minute, time.Minute)
				return err
			})
	}); err != nil {
		return fmt.Errorf("raw gate round: %w", err)
	}
	if err := timed(ctx, pick(&r.l.record), func(c context.Context) error {
		return together(
			func() error { return r.store.MarkSent(c, id, time.Now()) },
			func() error { return r.markers.Complete(c, key, id, submission.Sent) })
	}); err != nil {
		return fmt.Errorf("raw record round: %w", err)
	}
	return nil
}

// together runs fs at the same time and returns the first error.
func together(fs ...func() error) error {
	errs := make(chan error, len(fs))
	for _, f := range fs {
		go func() { errs <- f() }()
	}
	var first error
	for range fs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (r *latencyRun) readBack(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.table, Key: dynamo.Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	return out.Item, nil
}

// timed runs f and, when dst is not nil, appends how long it took.
func timed(ctx context.Context, dst *[]time.Duration, f func(context.Context) error) error {
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// On two shared cores the tail of the previous call (the emulator
	// logging, a collection) would otherwise land in this one.
	time.Sleep(2 * time.Millisecond)
	start := time.Now()
	err := f(c)
	if d := time.Since(start); dst != nil {
		*dst = append(*dst, d)
	}
	return err
}

// floor is the least an e2e submission can take with these emulators: the
// emulator's own invoke, then the path's three rounds, each as long as its
// slowest call made directly (sums of medians).
func (l *latency) floor() time.Duration {
	return median(l.hello) + median(l.gate) + max(median(l.put), median(l.send)) + median(l.record)
}

// figures turns the samples into the latency figures and the cost
// per million submissions.
func (l *latency) figures(table *dynamodb.CreateTableInput) (map[string]float64, submissionCost) {
	put, send := median(l.put), median(l.send)
	units := writeUnits(nil, l.saved, table) + writeUnits(l.saved, l.sent, table) +
		2*writeUnits(l.counter, l.counter, table) + 2*writeUnits(l.marker, l.marker, table)
	cost := costOf(mean(l.billed), memoryMB, units)
	return map[string]float64{
		"e2e_p50_ms":                       ms(median(l.e2e)),
		"e2e_p99_ms":                       ms(percentile(l.e2e, 99)),
		"raw_putitem_p50_ms":               ms(put),
		"raw_sendemail_p50_ms":             ms(send),
		"e2e_over_max_raw":                 ms(median(l.e2e)) / ms(max(put, send)),
		"hello_invoke_p50_ms":              ms(median(l.hello)),
		"handler_p50_ms":                   ms(median(l.inProcess)),
		"raw_gate_round_p50_ms":            ms(median(l.gate)),
		"raw_record_round_p50_ms":          ms(median(l.record)),
		"e2e_floor_ms":                     ms(l.floor()),
		"e2e_over_floor":                   ms(median(l.e2e)) / ms(l.floor()),
		"cost_usd_per_million_submissions": cost.total() * 1e6,
	}, cost
}
