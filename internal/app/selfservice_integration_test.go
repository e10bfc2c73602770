package app_test

import (
	"bytes"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app/privacy"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

func privacyHandler(t *testing.T, q *testenv.Queues, logs *bytes.Buffer) *httpapi.ErasureHandler {
	t.Helper()
	cfg := &config.Privacy{Table: env.Table, Sender: "kontakt@example.no", PrivacyContact: "personvern@example.no",
		QueueURL: q.Erasure.URL, TokenSecret: testenv.TokenSecretID, TokenLifetime: 24 * time.Hour,
		PublicURL: "http://127.0.0.1:3000", Language: "nb"}
	h, err := privacy.Handler(ctx(t), cfg, privacy.NewClients(env.AWS), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func pageRequest(method, path, body string, query map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RawPath: path, Body: body, QueryStringParameters: query,
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html", "accept-language": "nb"}}
	ev.RequestContext.HTTP.Method = method
	return ev
}

var linkPattern = regexp.MustCompile(`http://127\.0\.0\.1:3000/erasure/confirm\?token=(\S+)`)

// The visitor's own erasure, end to end: ask → email with link → open the
// link → press confirm → queue → erase function → receipt.
func TestSelfServiceErasure(t *testing.T) {
	integration(t)
	q, err := env.CreateQueues(ctx(t), "-self")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := privacyHandler(t, q, &logs)
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
	now := time.Now().UTC()
	stored := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "nina@example.no"}
	if err := store.Save(ctx(t), stored); err != nil {
		t.Fatal(err)
	}
	env.ClearEmails(ctx(t))

	// The answer is the same for an address with data and one without.
	var bodies []string
	for _, addr := range []string{"nina@example.no", "nobody@example.no"} {
		resp, _ := h.Handle(ctx(t), pageRequest("POST", "/erasure", "email="+url.QueryEscape(addr), nil))
		if resp.StatusCode != 202 {
			t.Fatalf("ask %s: %d %s", addr, resp.StatusCode, resp.Body)
		}
		bodies = append(bodies, resp.Body)
	}
	if bodies[0] != bodies[1] {
		t.Error("the answer differs with whether data exists")
	}
	if !strings.Contains(bodies[0], "Datatilsynet") || !strings.Contains(bodies[0], "personvern@example.no") {
		t.Errorf("page does not name the privacy contact and Datatilsynet: %s", bodies[0])
	}
	emails, _ := env.Emails(ctx(t))
	var token string
	for _, e := range emails {
		if strings.Join(e.Destination.To, ",") == "nina@example.no" {
			if m := linkPattern.FindStringSubmatch(e.Body.Text); m != nil {
				token = m[1]
			}
		}
	}
	if token == "" {
		t.Fatalf("no confirmation link emailed to the visitor: %+v", emails)
	}
	if strings.Contains(token, "nina") {
		t.Error("the link carries the address")
	}

	// Opening the link erases nothing: it shows a button.
	resp, _ := h.Handle(ctx(t), pageRequest("GET", "/erasure/confirm", "", map[string]string{"token": token}))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<form method="post"`) {
		t.Fatalf("confirm page: %d %s", resp.StatusCode, resp.Body)
	}
	// Tampered and unknown tokens get a clear page.
	tampered := token[:len(token)-2] + "xx"
	for _, tc := range []struct {
		token  string
		status int
		text   string
	}{
		{tampered, 400, "endret"},
		{"garbage", 400, "endret"},
	} {
		resp, _ := h.Handle(ctx(t), pageRequest("GET", "/erasure/confirm", "", map[string]string{"token": tc.token}))
		if resp.StatusCode != tc.status || !strings.Contains(resp.Body, tc.text) {
			t.Errorf("token %q: %d, want %d with %q: %s", tc.token, resp.StatusCode, tc.status, tc.text, resp.Body)
		}
	}

	resp, _ = h.Handle(ctx(t), pageRequest("POST", "/erasure/confirm", "token="+url.QueryEscape(token), nil))
	if resp.StatusCode != 202 || !strings.Contains(resp.Body, "Slettingen er i gang") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, resp.Body)
	}
	// Used once; a second use is refused.
	for _, method := range []string{"GET", "POST"} {
		again, _ := h.Handle(ctx(t), pageRequest(method, "/erasure/confirm", "token="+url.QueryEscape(token), map[string]string{"token": token}))
		if again.StatusCode != 410 || !strings.Contains(again.Body, "allerede brukt") {
			t.Errorf("reused token (%s): %d %s", method, again.StatusCode, again.Body)
		}
	}

	var eraseLogs bytes.Buffer
	p := poller(t, q, &eraseLogs)
	if res, err := p.Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("erase poll = %+v, %v", res, err)
	}
	if getRaw(t, stored.ID) {
		t.Error("the copy survived the self-service erasure")
	}
	m := regexp.MustCompile(`Referanse: (ss-[a-z0-9]+)`).FindStringSubmatch(resp.Body)
	if m == nil {
		t.Fatalf("no reference on the page: %s", resp.Body)
	}
	rec, err := (&dynamo.Erasure{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).GetReceipt(ctx(t), m[1])
	if err != nil || rec == nil || rec.Count != 1 || rec.Source != "self-service" || !rec.Complete {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}
	for _, pii := range []string{"nina", "nobody@"} {
		if strings.Contains(logs.String()+eraseLogs.String(), pii) {
			t.Errorf("logs contain %q", pii)
		}
	}
}

// An expired token gets its own page.
func TestSelfServiceExpiredToken(t *testing.T) {
	integration(t)
	q, err := env.CreateQueues(ctx(t), "-expired")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := privacyHandler(t, q, &logs)
	h.Config.TokenLifetime = time.Hour
	env.ClearEmails(ctx(t))
	resp, _ := h.Handle(ctx(t), pageRequest("POST", "/erasure", "email=ivar%40example.no", nil))
	if resp.StatusCode != 202 {
		t.Fatal(resp.Body)
	}
	emails, _ := env.Emails(ctx(t))
	m := linkPattern.FindStringSubmatch(emails[len(emails)-1].Body.Text)
	if m == nil {
		t.Fatal("no link")
	}
	// Move the service's clock past the token's lifetime.
	later := time.Now().Add(25 * time.Hour)
	h.Service.(*erasure.SelfService).Now = func() time.Time { return later }
	resp, _ = h.Handle(ctx(t), pageRequest("GET", "/erasure/confirm", "", map[string]string{"token": m[1]}))
	if resp.StatusCode != 410 || !strings.Contains(resp.Body, "utløpt") {
		t.Errorf("expired token: %d %s", resp.StatusCode, resp.Body)
	}
}

// More than a few asks for one address in an hour send no more emails, and
// the answer stays the same.
func TestSelfServiceRateLimitPerAddress(t *testing.T) {
	integration(t)
	q, err := env.CreateQueues(ctx(t), "-rate")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := privacyHandler(t, q, &logs)
	env.ClearEmails(ctx(t))
	for i := 0; i < 6; i++ {
		resp, _ := h.Handle(ctx(t), pageRequest("POST", "/erasure", "email=flood%40example.no", nil))
		if resp.StatusCode != 202 {
			t.Fatalf("ask %d: %d", i, resp.StatusCode)
		}
	}
	emails, _ := env.Emails(ctx(t))
	if len(emails) != 3 {
		t.Errorf("%d links sent for 6 asks, want 3 (the per-address limit)", len(emails))
	}
}
