package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/infra/harness/esm"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

func eraseConfig() *config.Erase {
	return &config.Erase{Table: env.Table, Sender: "kontakt@example.no", PrivacyContact: "personvern@example.no", ReceiptRetention: 3 * 365 * 24 * time.Hour,
		SecretID: env.SecretID}
}

// eraseHandler is the erase function as erase.Handler wires it, its
// metrics into metrics.
func eraseHandler(t *testing.T, logs, metrics *bytes.Buffer) *erasure.QueueHandler {
	t.Helper()
	h, err := erase.Handler(ctx(t), eraseConfig(), erase.NewClients(env.AWS), slog.New(slog.NewJSONHandler(logs, nil)), metrics, "EraseFunction")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func poller(t *testing.T, q *testenv.Queues, logs *bytes.Buffer) *esm.Poller {
	return pollerWithMetrics(t, q, logs, &bytes.Buffer{})
}

func pollerWithMetrics(t *testing.T, q *testenv.Queues, logs, metrics *bytes.Buffer) *esm.Poller {
	return &esm.Poller{
		Client: sqs.NewFromConfig(env.AWS), QueueURL: q.Erasure.URL, QueueARN: q.Erasure.ARN,
		Handler:   eraseHandler(t, logs, metrics).Handle,
		BatchSize: 10, Wait: 0, RetryAfter: time.Second, Timeout: 30 * time.Second, Log: slog.New(slog.DiscardHandler),
	}
}

func enqueue(t *testing.T, q *testenv.Queues, body string) {
	t.Helper()
	if _, err := sqs.NewFromConfig(env.AWS).SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: aws.String(q.Erasure.URL), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// A person with copies on three forms (one of them pending) and another
// person with one: erasure removes exactly the first person's copies, leaves
// a PII-free receipt, tells the privacy contact the ids, and a second run of
// the same message changes nothing.
func TestEraseThroughTheQueue(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-erase")
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC()
	save := func(form, addr string, sent bool) string {
		s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: addr,
			Fields: []submission.Field{{Name: "message", Value: "Hemmelig melding fra " + addr}}}
		if err := store.Save(ctx(t), s); err != nil {
			t.Fatal(err)
		}
		if sent {
			store.MarkSent(ctx(t), s.ID, now)
		}
		return s.ID
	}
	kari := []string{save("contact", "kari@example.no", true), save("quote", "Kari@Example.no", false), save("job", "kari@example.no", true)}
	ola := save("contact", "ola@example.no", true)
	// An expired copy not yet removed by TTL is still personal data.
	expired := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now.Add(-40 * 24 * time.Hour), ExpiresAt: now.Add(-time.Hour), ReplyTo: "kari@example.no"}
	if err := store.Save(ctx(t), expired); err != nil {
		t.Fatal(err)
	}
	kari = append(kari, expired.ID)
	env.ClearEmails(ctx(t))

	var logs bytes.Buffer
	p := poller(t, q, &logs)
	msg := `{"email":"KARI@example.no","request_id":"op-2026-11-25-1","source":"operator"}`
	enqueue(t, q, msg)
	res, err := p.Once(ctx(t))
	if err != nil || res.Deleted != 1 || res.Failed != 0 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	db := dynamodb.NewFromConfig(env.AWS)
	for _, id := range kari {
		if c := getRaw(t, id); c {
			t.Errorf("copy %s of the erased person is still stored", id)
		}
	}
	if !getRaw(t, ola) {
		t.Error("another person's copy was erased")
	}
	rec, err := (&erasurestore.Store{Client: db, Table: env.Table}).GetReceipt(ctx(t), "op-2026-11-25-1")
	if err != nil || rec == nil || rec.Count != 4 || !rec.Complete || rec.Source != "operator" {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}
	if d := rec.ExpiresAt.Sub(now); d < 3*365*24*time.Hour-time.Minute {
		t.Errorf("receipt kept %v, want 3 years", d)
	}
	emails, _ := env.Emails(ctx(t))
	if len(emails) != 1 || strings.Join(emails[0].Destination.To, ",") != "personvern@example.no" {
		t.Fatalf("privacy contact emails = %+v", emails)
	}
	for _, id := range kari {
		if !strings.Contains(emails[0].Body.Text, id) {
			t.Errorf("notice lacks submission id %s", id)
		}
	}
	for _, pii := range []string{"kari", "Hemmelig"} {
		if strings.Contains(strings.ToLower(emails[0].Body.Text+emails[0].Subject), strings.ToLower(pii)) {
			t.Errorf("notice contains %q", pii)
		}
	}

	// The same message again: nothing changes, no second notice.
	enqueue(t, q, msg)
	if res, err := p.Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("second poll = %+v, %v", res, err)
	}
	if emails, _ := env.Emails(ctx(t)); len(emails) != 1 {
		t.Errorf("second run sent %d more emails", len(emails)-1)
	}
	if rec2, _ := (&erasurestore.Store{Client: db, Table: env.Table}).GetReceipt(ctx(t), "op-2026-11-25-1"); rec2 == nil || rec2.Count != 4 {
		t.Errorf("second run changed the receipt: %+v", rec2)
	}
	if !getRaw(t, ola) {
		t.Error("second run erased another person's copy")
	}
	logsHoldNone(t, logs.String(), "kari", "Hemmelig", "ola@")
}

// A malformed message is the only failure of its batch and, through the
// queue's redrive policy, ends in the dead-letter queue.
func TestMalformedErasureMessageEndsInDeadLetterQueue(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-malformed")
	var logs bytes.Buffer
	p := poller(t, q, &logs)
	enqueue(t, q, `{"email":"per@example.no","request_id":"ok-1","source":"operator"}`)
	enqueue(t, q, `{"email": not json`)
	enqueue(t, q, `{"email":"per@example.no","request_id":"ok-2","source":"self-service"}`)
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, err := p.Once(c)
	if err != nil {
		t.Fatal(err)
	}
	if first.Received != 3 || first.Deleted != 2 || first.Failed != 1 {
		t.Fatalf("first batch = %+v, want 3 received, 2 deleted, 1 failed", first)
	}
	client := sqs.NewFromConfig(env.AWS)
	for i := 0; ; i++ {
		out, err := client.ReceiveMessage(c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.DeadLetter.URL), WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 && strings.Contains(aws.ToString(out.Messages[0].Body), "not json") {
			break
		}
		if i > 5*q.MaxReceiveCount || c.Err() != nil {
			t.Fatalf("the malformed message never reached the dead-letter queue")
		}
		time.Sleep(1100 * time.Millisecond) // past the 1 s visibility the poller set
		if _, err := p.Once(c); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(logs.String(), "erasure message refused") {
		t.Errorf("no log line for the refused message: %s", logs.String())
	}
}

// getRaw reports whether an item with the id exists at all, expired or not.
func getRaw(t *testing.T, id string) bool {
	t.Helper()
	out, err := dynamodb.NewFromConfig(env.AWS).GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String(env.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// Copies stored before lookup keys were keyed with the secret carry the
// address's plain SHA-256; the erase function finds and deletes them along
// with the keyed ones (migration window, see submission.LegacyLookupKey).
func TestEraseFindsCopiesUnderTheLegacyKey(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-legacy")
	db := dynamodb.NewFromConfig(env.AWS)
	store := &dynamo.Store{Client: db, Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC()
	addr := "legacy.kari@example.no"
	keyed := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: addr}
	if err := store.Save(ctx(t), keyed); err != nil {
		t.Fatal(err)
	}
	old := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), ReplyTo: addr}
	if _, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: dynamo.Item(old, submission.LegacyLookupKey(addr))}); err != nil {
		t.Fatal(err)
	}
	env.ClearEmails(ctx(t))
	enqueue(t, q, `{"email":"`+addr+`","request_id":"op-legacy-1","source":"operator"}`)
	if res, err := poller(t, q, &bytes.Buffer{}).Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	for _, id := range []string{keyed.ID, old.ID} {
		if getRaw(t, id) {
			t.Errorf("copy %s survived", id)
		}
	}
	if rec, err := (&erasurestore.Store{Client: db, Table: env.Table}).GetReceipt(ctx(t), "op-legacy-1"); err != nil || rec == nil || rec.Count != 2 {
		t.Errorf("receipt = %+v, %v; want 2 copies", rec, err)
	}
}

// A request that finds nothing leaves its receipt and a metric, and sends
// the privacy contact nothing: anyone can ask for any address.
func TestEraseOfNothingTellsNobody(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-nothing")
	env.ClearEmails(ctx(t))
	var metrics bytes.Buffer
	enqueue(t, q, `{"email":"never-wrote@example.no","request_id":"ss-nothing-1","source":"self-service"}`)
	if res, err := pollerWithMetrics(t, q, &bytes.Buffer{}, &metrics).Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	if emails, _ := env.Emails(ctx(t)); len(emails) != 0 {
		t.Errorf("%d emails sent for an erasure that found nothing: %+v", len(emails), emails)
	}
	rec, err := (&erasurestore.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).GetReceipt(ctx(t), "ss-nothing-1")
	if err != nil || rec == nil || rec.Count != 0 || !rec.Complete {
		t.Errorf("receipt = %+v, %v; want a complete one counting 0", rec, err)
	}
	if !strings.Contains(metrics.String(), `"`+erasure.MetricNothingErased+`":1`) || !strings.Contains(metrics.String(), `"FunctionName":"EraseFunction"`) {
		t.Errorf("metrics = %s, want %s counted", metrics.String(), erasure.MetricNothingErased)
	}
}
