package app_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app/privacy"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/httpapi/privacypages"
	kmetrics "github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/submission"
)

// askForBoth posts form (ending in the address) on path for withData and
// for an address without data: both answers must be 202 and the same, so
// that the page never tells whether anything is stored. It returns the
// answer.
func askForBoth(t *testing.T, h *privacypages.Handler, path, form, withData string) string {
	t.Helper()
	var bodies []string
	for _, addr := range []string{withData, "nobody@example.no"} {
		resp, _ := h.Handle(ctx(t), pageRequest("POST", path, form+url.QueryEscape(addr), nil))
		if resp.StatusCode != 202 {
			t.Fatalf("ask %s: %d %s", addr, resp.StatusCode, resp.Body)
		}
		bodies = append(bodies, resp.Body)
	}
	if bodies[0] != bodies[1] {
		t.Error("the answer differs with whether data exists")
	}
	return bodies[0]
}

func privacyHandler(t *testing.T, q *testenv.Queues, logs *bytes.Buffer) *privacypages.Handler {
	t.Helper()
	return privacyHandlerOn(t, env.Table, q, logs)
}

// privacyHandlerOn is the privacy function as privacy.Handler wires it, on
// table: a test that counts what the page-wide ceiling lets through needs a
// table (and so counters) of its own.
func privacyHandlerOn(t *testing.T, table string, q *testenv.Queues, logs *bytes.Buffer) *privacypages.Handler {
	t.Helper()
	return privacyHandlerWith(t, privacyConfig(table, q), logs)
}

// privacyConfig has no configuration set: the emulators have none to send
// with (a stricter implementation refuses an unknown one).
func privacyConfig(table string, q *testenv.Queues) *config.Privacy {
	return &config.Privacy{Table: table, Sender: "kontakt@example.no", PrivacyContact: "personvern@example.no",
		QueueURL: q.Erasure.URL, TokenSecret: testenv.TokenSecretID, SecretID: env.SecretID, TokenLifetime: 24 * time.Hour,
		PublicURL: "http://127.0.0.1:3000", Language: "nb"}
}

func privacyHandlerWith(t *testing.T, cfg *config.Privacy, logs *bytes.Buffer) *privacypages.Handler {
	t.Helper()
	h, err := privacy.Handler(ctx(t), cfg, privacy.NewClients(env.AWS), slog.New(slog.NewJSONHandler(logs, nil)), logs, "PrivacyFunction")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pageRequest is a request to the erasure pages from a source address of
// its own (API Gateway's sourceIp), so that tests do not share the
// per-source limit unless they mean to (see fromSource).
func pageRequest(method, path, body string, query map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RawPath: path, Body: body, QueryStringParameters: query,
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html", "accept-language": "nb"}}
	ev.RequestContext.HTTP.Method = method
	n := sourceSeq.Add(1)
	ev.RequestContext.HTTP.SourceIP = fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
	return ev
}

var sourceSeq atomic.Uint32

func fromSource(ev events.APIGatewayV2HTTPRequest, ip string) events.APIGatewayV2HTTPRequest {
	ev.RequestContext.HTTP.SourceIP = ip
	return ev
}

var linkPattern = regexp.MustCompile(`http://127\.0\.0\.1:3000/erasure/confirm\?token=(\S+)`)

// The visitor's own erasure, end to end: ask → email with link → open the
// link → press confirm → queue → erase function → receipt.
func TestSelfServiceErasure(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-self")
	var logs bytes.Buffer
	h := privacyHandler(t, q, &logs)
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC()
	stored := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "nina@example.no"}
	if err := store.Save(ctx(t), stored); err != nil {
		t.Fatal(err)
	}
	env.ClearEmails(ctx(t))

	// The answer is the same for an address with data and one without.
	answer := askForBoth(t, h, "/erasure", "email=", "nina@example.no")
	if !strings.Contains(answer, "Datatilsynet") || !strings.Contains(answer, "personvern@example.no") {
		t.Errorf("page does not name the privacy contact and Datatilsynet: %s", answer)
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
	rec, err := (&erasurestore.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).GetReceipt(ctx(t), m[1])
	if err != nil || rec == nil || rec.Count != 1 || rec.Source != "self-service" || !rec.Complete {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}
	logsHoldNone(t, logs.String()+eraseLogs.String(), "nina", "nobody@")
}

// An expired token gets its own page.
func TestSelfServiceExpiredToken(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-expired")
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
	q := env.TestQueues(ctx(t), t, "-rate")
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

// ask posts the erasure form for address from source and returns the
// answer, which must be 202.
func ask(t *testing.T, h *privacypages.Handler, address, source string) string {
	t.Helper()
	resp, _ := h.Handle(ctx(t), fromSource(pageRequest("POST", "/erasure", "email="+url.QueryEscape(address), nil), source))
	if resp.StatusCode != 202 {
		t.Fatalf("ask %s: %d %s", address, resp.StatusCode, resp.Body)
	}
	return resp.Body
}

// linksTo counts the confirmation links emailed to addresses containing
// who.
func linksTo(t *testing.T, who string) int {
	t.Helper()
	return countEmails(t, func(e localstack.Email) bool {
		return strings.Contains(strings.ToLower(strings.Join(e.Destination.To, ",")), who) && linkPattern.MatchString(e.Body.Text)
	})
}

// One mailbox gets at most 3 links an hour however its address is spelt
// (case, +tags, Gmail's dots), even when each ask comes from another
// source; every ask gets the same answer as one for a fresh address.
func TestSelfServiceMailboxLimitCountsTheMailbox(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-mailbox")
	h := privacyHandler(t, q, &bytes.Buffer{})
	env.ClearEmails(ctx(t))
	want := ask(t, h, "fresh.person@example.no", "192.0.2.200")
	for i, addr := range []string{"victim@example.no", "victim+1@example.no", "Victim+2@example.no", "VICTIM+x@EXAMPLE.NO", "victim+news@example.no"} {
		if got := ask(t, h, addr, fmt.Sprintf("192.0.2.%d", 10+i)); got != want {
			t.Errorf("ask %s: the answer differs from a fresh address's:\n%s\nwant\n%s", addr, got, want)
		}
	}
	for i, addr := range []string{"gvictim@gmail.com", "g.victim@gmail.com", "G.Vic.Tim+1@gmail.com", "gvictim@googlemail.com"} {
		ask(t, h, addr, fmt.Sprintf("192.0.2.%d", 20+i))
	}
	gmail := linksTo(t, "@gmail.com") + linksTo(t, "@googlemail.com")
	if n := linksTo(t, "@example.no") - linksTo(t, "fresh.person"); n != 3 || gmail != 3 {
		t.Errorf("links sent: %d to victim@example.no for 5 asks, %d to gvictim@gmail.com for 4; want 3 each", n, gmail)
	}
	if n := linksTo(t, "fresh.person"); n != 1 {
		t.Errorf("%d links to the fresh address, want 1", n)
	}
}

// One source gets links sent to at most 10 addresses an hour, whatever the
// addresses; the answer never changes.
func TestSelfServiceSourceLimit(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-source")
	h := privacyHandler(t, q, &bytes.Buffer{})
	env.ClearEmails(ctx(t))
	var answers []string
	for i := range 14 {
		answers = append(answers, ask(t, h, fmt.Sprintf("stranger%d@example.no", i), "198.51.100.77"))
	}
	// IPv6: one subscriber's /64 is one source.
	for i := range 12 {
		answers = append(answers, ask(t, h, fmt.Sprintf("v6stranger%d@example.no", i), fmt.Sprintf("2001:db8:7:7::%x", i+1)))
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatal("the answer changed once the source was over its limit")
		}
	}
	if n, v6 := linksTo(t, "stranger"), linksTo(t, "v6stranger"); n-v6 != 10 || v6 != 10 {
		t.Errorf("links sent: %d from the IPv4 source, %d from the IPv6 /64; want 10 each", n-v6, v6)
	}
}

// The page as a whole sends at most its ceiling of links an hour, however
// many sources ask; what it holds back is counted (the metric the alarm
// watches). Links go out with the stack's configuration set.
func TestSelfServicePageCeiling(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-ceiling")
	table, err := env.NewTable(ctx(t), "-ceiling")
	if err != nil {
		t.Fatal(err)
	}
	withSet := privacyConfig(table, q)
	withSet.ConfigurationSet = "kontakt-feedback"
	if got := privacyHandlerWith(t, withSet, &bytes.Buffer{}).Service.(*erasure.SelfService).Mailer.(*erasuremail.LinkMailer).ConfigurationSet; got != "kontakt-feedback" {
		t.Errorf("links are sent with configuration set %q, want the stack's", got)
	}
	h := privacyHandlerOn(t, table, q, &bytes.Buffer{})
	svc := h.Service.(*erasure.SelfService)
	if svc.Limits != privacy.Limits || privacy.Limits.PerPage < 1 || privacy.Limits.PerSource < 1 || privacy.Limits.PerMailbox < 1 {
		t.Errorf("limits %+v, want privacy.Limits %+v, each at least 1", svc.Limits, privacy.Limits)
	}
	svc.Limits.PerPage = 4
	var metrics bytes.Buffer
	svc.Metrics = &kmetrics.EMF{W: &metrics, Function: "PrivacyFunction"}
	env.ClearEmails(ctx(t))
	for i := range 7 {
		ask(t, h, fmt.Sprintf("crowd%d@example.no", i), fmt.Sprintf("203.0.113.%d", i+1))
	}
	if n := linksTo(t, "crowd"); n != 4 {
		t.Errorf("%d links sent for 7 asks, want the ceiling of 4", n)
	}
	if got := strings.Count(metrics.String(), `"`+erasure.MetricAskPageCeiling+`":1`); got != 3 {
		t.Errorf("%d asks counted over the ceiling, want 3: %s", got, metrics.String())
	}
	if strings.Contains(metrics.String(), "crowd") || strings.Contains(metrics.String(), "203.0.113") {
		t.Errorf("metrics carry personal data: %s", metrics.String())
	}
}
