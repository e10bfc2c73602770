// Package e2e runs the functions as Lambda runs them: built by the same
// Makefile targets `sam build` uses (for this machine's architecture), run
// under the Lambda Runtime Interface Emulator, against the AWS-API
// emulators, with the sample events in events/.
package e2e_test

import (
	"context"
	"encoding/json"

	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/rie"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/config"
)

var (
	env *testenv.Env
	// riePath is the Lambda Runtime Interface Emulator, installed once for
	// the package (installRIE).
	riePath string
)

func TestMain(m *testing.M) { testenv.MainWith(m, testing.Short, &env, installRIE) }

// installRIE is the package's set-up (testenv.MainWith): the emulator every
// test runs its function under, installed before the first needs it.
func installRIE() (stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	riePath, err = rie.Ensure(ctx, env.Root)
	return nil, err
}

// endToEnd skips t under -short (make unit) and where the stack is moto and
// t is on testenv's skip list.
func endToEnd(t *testing.T) {
	t.Helper()
	testenv.Gate(t, env, "end-to-end test")
}

// build runs `make build-<Logical>Function` into a temporary folder, as sam
// build does with ARTIFACTS_DIR.
func build(t *testing.T, logicalID string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "build-"+logicalID, "ARTIFACTS_DIR="+dir, "GOARCH="+runtime.GOARCH)
	cmd.Dir = env.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-%s: %v\n%s", logicalID, err, out)
	}
	return filepath.Join(dir, "bootstrap")
}

func start(t *testing.T, bootstrap string, vars map[string]string) *rie.Emulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fnEnv := append(env.Env(), "AWS_LAMBDA_FUNCTION_TIMEOUT=10", "AWS_LAMBDA_LOG_FORMAT=JSON")
	for k, v := range vars {
		fnEnv = append(fnEnv, k+"="+v)
	}
	e, err := rie.Start(ctx, rie.Options{RIEPath: riePath, Bootstrap: bootstrap, Env: fnEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.Root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invoke(t *testing.T, e *rie.Emulator, payload []byte, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := e.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v\n%s\nlogs:\n%s", err, body, e.Logs())
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
}

func TestSubmitFunction(t *testing.T) {
	endToEnd(t)
	e := start(t, build(t, "SubmitFunction"), env.FunctionVars())
	ctx := context.Background()
	if err := env.ClearEmails(ctx); err != nil {
		t.Fatal(err)
	}
	// One invoke at a time: the emulator cannot take parallel ones.
	for _, tc := range []struct {
		event       string
		status      int
		email       string // Reply-To of the email it must produce, or ""
		contentType string // when it matters
	}{
		{"submit-json.json", 200, "kari@example.no", ""},
		{"submit-urlencoded.json", 303, "ola@example.no", ""},
		{"submit-multipart.json", 200, "per@example.no", ""},
		{"preflight.json", 204, "", ""},
		{"honeypot.json", 200, "", ""},
		// The route works; this form (from parameters) has no form_token.
		{"token.json", 404, "", ""},
		{"script.json", 200, "", "text/javascript; charset=utf-8"},
	} {
		var resp events.APIGatewayV2HTTPResponse
		invoke(t, e, sample(t, tc.event), &resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.event, resp.StatusCode, tc.status, resp.Body)
		}
		if tc.contentType != "" && resp.Headers["Content-Type"] != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.event, resp.Headers["Content-Type"], tc.contentType)
		}
	}
	emails, err := env.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 3 {
		t.Errorf("%d emails, want 3 (the honeypot and preflight send nothing)", len(emails))
	}
	t.Run("Reply-To", func(t *testing.T) {
		testenv.SkipOnMoto(t)
		var replyTos []string
		for _, m := range emails {
			replyTos = append(replyTos, strings.Join(m.ReplyTo, ","))
		}
		if got, want := strings.Join(replyTos, " "), "kari@example.no ola@example.no per@example.no"; got != want {
			t.Errorf("emails' Reply-To = %q, want %q", got, want)
		}
	})
	// The honeypot hit is counted as a CloudWatch EMF line on stdout.
	if l := e.LogsWith(`"rule":"honeypot"`, 10*time.Second); !strings.Contains(l, `"_aws":{`) || !strings.Contains(l, `"rule":"honeypot"`) {
		t.Errorf("no honeypot metric in the logs:\n%s", l)
	}
	if d, ok := e.InitDuration(); !ok || d <= 0 {
		t.Errorf("no init duration reported")
	}
	checkLogs(t, e.Logs(), "Kari", "kari@example.no", "Nordmann", "Kan dere sende", "198.51.100.7")
}

// A configuration error stops init with the key named, instead of answering
// visitors with errors.
func TestSubmitFunctionRefusesBadConfiguration(t *testing.T) {
	endToEnd(t)
	e := start(t, build(t, "SubmitFunction"), map[string]string{
		config.EnvTable: env.Table, config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no", config.EnvRetentionDays: "tretti",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.Invoke(ctx, sample(t, "submit-json.json")); err == nil {
		t.Fatal("invoke succeeded with a broken configuration")
	}
	if l := e.LogsWith(config.EnvRetentionDays, 20*time.Second); !strings.Contains(l, config.EnvRetentionDays) {
		t.Errorf("logs do not name the bad key:\n%s", l)
	}
}

func TestEraseFunction(t *testing.T) {
	endToEnd(t)
	e := start(t, build(t, "EraseFunction"), map[string]string{
		config.EnvTable: env.Table, config.EnvSender: "kontakt@example.no",
		config.EnvPrivacyContact: "personvern@example.no", config.EnvReceiptRetentionDays: "1095",
		config.EnvSecretID: env.SecretID,
	})
	var resp events.SQSEventResponse
	invoke(t, e, sample(t, "erase-sqs.json"), &resp)
	if len(resp.BatchItemFailures) != 1 || !strings.HasPrefix(resp.BatchItemFailures[0].ItemIdentifier, "0b0c2") {
		t.Fatalf("batch failures = %+v, want only the malformed message", resp.BatchItemFailures)
	}
	checkLogs(t, e.Logs(), "kari@example.no", "per@example.no")
}

// checkLogs fails if any log line holds personal data, and checks the
// function's own lines are JSON.
func checkLogs(t *testing.T, logs string, pii ...string) {
	t.Helper()
	for _, p := range pii {
		if strings.Contains(logs, p) {
			t.Errorf("logs contain %q:\n%s", p, logs)
		}
	}
	jsonLines := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.HasPrefix(line, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("log line is not JSON: %s", line)
			}
			jsonLines++
		}
	}
	if jsonLines == 0 {
		t.Errorf("no JSON log lines:\n%s", logs)
	}

}

func TestPrivacyFunction(t *testing.T) {
	endToEnd(t)
	q := env.TestQueues(context.Background(), t, "-e2e")
	e := start(t, build(t, "PrivacyFunction"), map[string]string{
		config.EnvTable: env.Table, config.EnvSender: "kontakt@example.no", config.EnvPrivacyContact: "personvern@example.no",
		config.EnvErasureQueueURL: q.Erasure.URL, config.EnvTokenSecret: testenv.TokenSecretID,
		config.EnvTokenLifetimeHours: "24", config.EnvPublicURL: "", config.EnvPrivacyNote: "", config.EnvLanguage: "nb",
		config.EnvSecretID: env.SecretID,
	})
	var page events.APIGatewayV2HTTPResponse
	invoke(t, e, []byte(`{"version":"2.0","rawPath":"/erasure","headers":{"accept":"text/html","accept-language":"en"},"requestContext":{"domainName":"abc.execute-api.eu-north-1.amazonaws.com","http":{"method":"GET","path":"/erasure"}}}`), &page)
	if page.StatusCode != 200 || !strings.Contains(page.Body, "Delete my data") || !strings.Contains(page.Body, "Datatilsynet") {
		t.Fatalf("erasure page: %d %s", page.StatusCode, page.Body)
	}
	env.ClearEmails(context.Background())
	var asked events.APIGatewayV2HTTPResponse
	invoke(t, e, []byte(`{"version":"2.0","rawPath":"/erasure","body":"email=siri%40example.no","headers":{"content-type":"application/x-www-form-urlencoded","accept-language":"en"},"requestContext":{"domainName":"abc.execute-api.eu-north-1.amazonaws.com","http":{"method":"POST","path":"/erasure"}}}`), &asked)
	if asked.StatusCode != 202 {
		t.Fatalf("ask: %d %s", asked.StatusCode, asked.Body)
	}
	emails, _ := env.Emails(context.Background())
	if len(emails) != 1 || !strings.Contains(emails[0].Body.Text, "https://abc.execute-api.eu-north-1.amazonaws.com/erasure/confirm?token=") {
		t.Fatalf("confirmation email: %+v", emails)
	}
	checkLogs(t, e.Logs(), "siri@example.no")
}
