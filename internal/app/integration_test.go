package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
	"io"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, testing.Short, &env) }

func integration(t *testing.T) {
	t.Helper()
	testenv.Gate(t, env, "integration test")
}

// logsHoldNone fails t for each of values that logs hold, in any letter
// case: a person's data never reaches a log line.
func logsHoldNone(t *testing.T, logs string, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(v)) {
			t.Errorf("logs contain %q", v)
		}
	}
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	vars := map[string]string{
		config.EnvTable:          env.Table,
		config.EnvSender:         "kontakt@example.no",
		config.EnvRecipients:     "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no",
		config.EnvSecretID:       env.SecretID,
		// These tests post the same sample events again and again; repeats
		// have tests of their own (idempotency_integration_test.go).
		config.EnvDuplicateWindow: "0",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// The sample events share one source IP; these tests are not about
	// the rate limit (abuse_integration_test.go is).
	cfg.Form("contact").Abuse.RateLimit.PerIP = 1000
	cfg.Form("contact").Abuse.RateLimit.PerForm = 1000
	return cfg
}

func submitHandler(t *testing.T, cfg *config.Config, awsCfg aws.Config, log *slog.Logger) *httpapi.Handler {
	t.Helper()
	h, err := submit.Handler(ctx(t), cfg, submit.NewClients(awsCfg, cfg), log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func event(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.Root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// A JSON and a urlencoded post each become one email with the visitor's
// address as Reply-To and one stored copy that expires after the retention.
func TestSubmitSendsAndStores(t *testing.T) {
	integration(t)
	var logs bytes.Buffer
	h := submitHandler(t, testConfig(t), env.AWS, slog.New(slog.NewJSONHandler(&logs, nil)))
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}

	for _, tc := range []struct {
		event, replyTo, status string
		code                   int
	}{
		{"submit-json.json", "kari@example.no", "sent", 200},
		{"submit-urlencoded.json", "ola@example.no", "", 303},
	} {
		t.Run(tc.event, func(t *testing.T) {
			if err := env.ClearEmails(ctx(t)); err != nil {
				t.Fatal(err)
			}
			before := time.Now().Add(-time.Second)
			resp, err := h.Handle(ctx(t), event(t, tc.event))
			if err != nil || resp.StatusCode != tc.code {
				t.Fatalf("Handle = %d %v: %s", resp.StatusCode, err, resp.Body)
			}
			emails, err := env.Emails(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(emails) != 1 {
				t.Fatalf("%d emails, want 1", len(emails))
			}
			e := emails[0]
			t.Run("Reply-To", func(t *testing.T) {
				testenv.SkipOnMoto(t)
				if got := strings.Join(e.ReplyTo, ","); got != tc.replyTo {
					t.Errorf("Reply-To = %q, want %q", got, tc.replyTo)
				}
			})
			if got := strings.Join(e.Destination.To, ","); got != "post@example.no" {
				t.Errorf("To = %q", got)
			}
			if e.From != "kontakt@example.no" {
				t.Errorf("From = %q", e.From)
			}
			id := submissionID(e.Body.Text)
			if id == "" {
				t.Fatalf("no submission id in the email:\n%s", e.Body.Text)
			}
			c, err := store.Get(ctx(t), id)
			if err != nil || c == nil {
				t.Fatalf("stored copy %s: %v %v", id, c, err)
			}
			if c.Status != dynamo.StatusSent {
				t.Errorf("status = %q, want sent", c.Status)
			}
			// Keyed with the generated secret: not the address's plain hash,
			// which anyone could confirm by hashing a guess.
			if got, want := c.LookupKey, env.LookupKeys().Key(tc.replyTo); got != want || got == submission.LegacyLookupKey(tc.replyTo) {
				t.Errorf("lookup key = %q, want %q", got, want)
			}
			exp := c.Submission.ExpiresAt
			if exp.Before(before.Add(30*24*time.Hour)) || exp.After(time.Now().Add(30*24*time.Hour+time.Second)) {
				t.Errorf("expires_at = %v, want 30 days from now", exp)
			}
		})
	}
	logsHoldNone(t, logs.String(), "Kari", "kari@example.no", "ola@example.no", "tilbud")
}

// The copy is found through the lookup index, the way erasure finds it.
func TestLookupIndexFindsCopies(t *testing.T) {
	integration(t)
	h := submitHandler(t, testConfig(t), env.AWS, slog.New(slog.DiscardHandler))
	resp, _ := h.Handle(ctx(t), event(t, "submit-multipart.json"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	db := dynamodb.NewFromConfig(env.AWS)
	out, err := db.Query(ctx(t), &dynamodb.QueryInput{
		TableName:                 aws.String(env.Table),
		IndexName:                 aws.String(dynamo.LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": dynamo.AttrLookupKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: env.LookupKeys().Key("PER@example.no")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("index returned %d items, want 1", len(out.Items))
	}
}

// With SES unreachable the copy is stored pending and the visitor gets 202;
// with DynamoDB unreachable too, 503 and nothing is accepted.
func TestSubmitWhenDependenciesAreDown(t *testing.T) {
	integration(t)
	closed := "http://127.0.0.1:1" // nothing listens on port 1
	for _, tc := range []struct {
		name     string
		down     []string
		status   int
		inEmails bool
	}{
		{"ses down", []string{"AWS_ENDPOINT_URL_SES"}, 202, false},
		{"dynamodb down", []string{"AWS_ENDPOINT_URL_DYNAMODB"}, 200, true},
		{"both down", []string{"AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_DYNAMODB"}, 503, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range tc.down {
				t.Setenv(v, closed)
			}
			t.Setenv("AWS_MAX_ATTEMPTS", "1")
			awsCfg, err := app.AWSConfig(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			env.ClearEmails(ctx(t))
			h := submitHandler(t, testConfig(t), awsCfg, slog.New(slog.DiscardHandler))
			resp, _ := h.Handle(ctx(t), event(t, "submit-json.json"))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			emails, _ := env.Emails(ctx(t))
			if got := len(emails) == 1; got != tc.inEmails {
				t.Errorf("emails = %d, want sent=%v", len(emails), tc.inEmails)
			}
			if tc.status == 202 {
				var body struct{ ID string }
				json.Unmarshal([]byte(resp.Body), &body)
				store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
				c, err := store.Get(ctx(t), body.ID)
				if err != nil || c == nil || c.Status != dynamo.StatusPending || c.LastError == "" {
					t.Fatalf("copy = %+v, %v; want pending with an error class", c, err)
				}
			}
			if tc.status == 503 && resp.Headers["Retry-After"] == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

// Reads ignore a copy whose expires_at has passed, although DynamoDB has not
// deleted it yet.
func TestExpiredCopiesAreNotRead(t *testing.T) {
	integration(t)
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
	now := time.Now()
	s := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := store.Save(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	if c, err := store.Get(ctx(t), s.ID); err != nil || c != nil {
		t.Fatalf("Get = %+v, %v; want nothing", c, err)
	}
	if err := store.Save(ctx(t), s); err == nil {
		t.Fatal("a second Save with the same id overwrote the copy")
	}
}

// submissionID reads the id line staff see at the bottom of the email.
func submissionID(text string) string {
	for _, line := range strings.Split(text, "\n") {
		for _, p := range []string{"Innsendings-ID: ", "Submission id: "} {
			if strings.HasPrefix(line, p) {
				return strings.TrimSpace(strings.TrimPrefix(line, p))
			}
		}
	}
	return ""
}
