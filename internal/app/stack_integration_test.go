package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/infra/harness/logcheck"
	"github.com/opt-e/kontakt/internal/app"
	redriveapp "github.com/opt-e/kontakt/internal/app/redrive"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/redrive"
)

// stack is the submit and redrive functions wired as in production, with a
// table of their own and fault proxies in front of the SES and DynamoDB
// emulators. Every log line and metric line goes to logs, which fails the
// test if any submitted value appears in one.
type stack struct {
	table   string
	ses, db *faultproxy.Proxy
	aws     aws.Config
	logs    *logcheck.Capture
	submit  *httpapi.Handler
	cfg     *config.Redrive
	tag     string
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

func newStack(t *testing.T) *stack {
	t.Helper()
	tag := nonName.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), "")
	table, err := env.NewTable(ctx(t), "-"+tag)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{table: table, logs: logcheck.New(t), tag: tag}
	for _, p := range []struct {
		proxy **faultproxy.Proxy
		url   string
		vars  string
	}{{&s.ses, env.SESURL, "AWS_ENDPOINT_URL_SES"}, {&s.db, env.DynamoURL, "AWS_ENDPOINT_URL_DYNAMODB"}} {
		proxy, err := faultproxy.Start(p.url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(proxy.Close)
		*p.proxy = proxy
		t.Setenv(p.vars, proxy.URL())
	}
	// One attempt per call: a fault shows at once instead of after the
	// SDK's backoff. Production keeps the SDK's retries within each call's
	// deadline.
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	if s.aws, err = app.AWSConfig(ctx(t)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		config.EnvTable: table, config.EnvSender: "kontakt@example.no",
		config.EnvRecipients: "post@example.no", config.EnvAllowedOrigins: "https://www.example.no",
		config.EnvConfigurationSet: "kontakt-local", config.EnvSecretID: env.SecretID,
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cfg, err := config.Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg, err = config.LoadRedrive(lookup); err != nil {
		t.Fatal(err)
	}
	// These tests are about faults, not the rate limit.
	cfg.Form("contact").Abuse.RateLimit.PerIP = 100000
	cfg.Form("contact").Abuse.RateLimit.PerForm = 100000
	s.submit = submitHandler(t, cfg, s.aws, s.logs.Logger())
	if err := env.ClearEmails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// visitor is a unique post (the duplicate window would merge equal ones);
// its values are registered as secrets with the log capture.
func (s *stack) visitor(t *testing.T, i int) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := event(t, "submit-json.json")
	name := fmt.Sprintf("Kari Nordmann %s %d", s.tag, i)
	addr := fmt.Sprintf("kari.%d.%s@example.no", i, strings.ToLower(s.tag))
	msg := fmt.Sprintf("Hei, dette er melding %d fra %s.\nKan dere ringe meg?", i, s.tag)
	body, _ := json.Marshal(map[string]string{"name": name, "email": addr, "message": msg})
	ev.Body = string(body)
	s.logs.Secret(name, addr, msg, ev.RequestContext.HTTP.SourceIP)
	return ev
}

type answer struct {
	status int
	OK     bool   `json:"ok"`
	ID     string `json:"id"`
	Status string `json:"status"`
	retry  string
}

func (s *stack) post(t *testing.T, c context.Context, ev events.APIGatewayV2HTTPRequest) answer {
	t.Helper()
	resp, err := s.submit.Handle(c, ev)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, retry: resp.Headers["Retry-After"]}
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatalf("answer %d %q: %v", resp.StatusCode, resp.Body, err)
	}
	return a
}

// redrive is the redrive function as scheduled after the first-retry delay:
// the copies just stored are due.
func (s *stack) redrive(t *testing.T) *redrive.Service {
	t.Helper()
	svc := redriveapp.Service(s.cfg, redriveapp.NewClients(s.aws), s.logs.Logger(), s.logs, "kontakt-test-Redrive")
	svc.Now = func() time.Time { return time.Now().Add(dynamo.FirstRetryDelay + time.Second) }
	return svc
}

// redriveSends runs redrive once and checks it sent want copies.
func (s *stack) redriveSends(t *testing.T, want int) redrive.Report {
	t.Helper()
	rep, err := s.redrive(t).Run(fnCtx(t))
	if err != nil || rep.Sent != want {
		t.Fatalf("redrive = %+v, %v; want %d sent", rep, err, want)
	}
	return rep
}

// copyOf reads a copy straight from the emulator, past the proxies.
func (s *stack) copyOf(t *testing.T, id string) *dynamo.Copy {
	t.Helper()
	c, err := (&dynamo.Store{Client: dynamoClient(), Table: s.table}).Get(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// items counts every item in the test's table.
func (s *stack) items(t *testing.T) int {
	t.Helper()
	out, err := dynamoClient().Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// emailsByID counts the SES emulator's mail by the submission id staff see
// at the bottom of each email.
func emailsByID(t *testing.T) map[string]int {
	t.Helper()
	emails, err := env.Emails(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range emails {
		n[submissionID(e.Body.Text)]++
	}
	return n
}

// assertEmailedOnce checks that each id was emailed exactly once and that
// nothing else was.
func assertEmailedOnce(t *testing.T, ids []string) {
	t.Helper()
	got := emailsByID(t)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("submission %s emailed %d times, want once", id, got[id])
		}
		delete(got, id)
	}
	if len(got) != 0 {
		t.Errorf("unexpected emails: %v", got)
	}
}

// dynamoClient reaches the DynamoDB emulator directly, past any proxy.
func dynamoClient() *dynamodb.Client {
	// The SDK reads AWS_ENDPOINT_URL_DYNAMODB when a client is made, and the
	// test has pointed it at the proxy: name the emulator explicitly.
	return dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(env.DynamoURL) })
}

// fnCtx carries the redrive function's timeout, as Lambda gives it: a run
// starts no copy it could not finish before it.
func fnCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}
