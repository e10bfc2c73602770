package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/infra/harness/logcheck"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/submission"
)

func formVars(table string) map[string]string {
	return map[string]string{
		config.EnvTable: table, config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no", config.EnvRetentionDays: "30", config.EnvLanguage: "nb",
		config.EnvFormID: "contact", config.EnvRedirectURL: "", config.EnvFormsFile: "",
		config.EnvConfigurationSet: "kontakt-local",
	}
}

// The redrive function as Lambda runs it, on the schedule's sample event:
// copies whose email failed three minutes ago are sent once each, the run's
// counts come back and go out as an EMF metric line, and no log line holds
// what the visitors wrote.
func TestRedriveFunction(t *testing.T) {
	endToEnd(t)
	ctx := context.Background()
	table, err := env.NewTable(ctx, "-e2e-redrive")
	if err != nil {
		t.Fatal(err)
	}
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: table}
	then := time.Now().Add(-3 * time.Minute)
	logs := logcheck.New(t)
	var ids []string
	for _, who := range []string{"Kari Nordmann", "Ola Nordmann", "Åse Ødegård"} {
		s := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: then, ExpiresAt: then.Add(30 * 24 * time.Hour),
			Fields: []submission.Field{{Name: "name", Value: who}, {Name: "message", Value: "Melding fra " + who}}}
		if err := store.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		logs.Secret(who, "Melding fra "+who)
		ids = append(ids, s.ID)
	}
	if err := env.ClearEmails(ctx); err != nil {
		t.Fatal(err)
	}
	vars := formVars(table)
	vars[config.EnvRedriveMaxAttempts] = "10"
	vars["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "60" // the template's
	e := start(t, build(t, "RedriveFunction"), vars)

	var rep redrive.Report
	invoke(t, e, sample(t, "redrive-schedule.json"), &rep)
	if rep.Sent != 3 || rep.Due != 3 {
		t.Fatalf("report %+v, want 3 due and sent\n%s", rep, e.Logs())
	}
	invoke(t, e, sample(t, "redrive-schedule.json"), &rep)
	if rep.Due != 0 {
		t.Errorf("second run %+v, want nothing due", rep)
	}
	emails, err := env.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for _, m := range emails {
		for _, id := range ids {
			if strings.Contains(m.Body.Text, id) {
				sent[id]++
			}
		}
	}
	for _, id := range ids {
		if sent[id] != 1 {
			t.Errorf("%s emailed %d times", id, sent[id])
		}
	}
	out := e.Logs()
	logs.Write([]byte(out))
	if !strings.Contains(out, `"_aws"`) || !strings.Contains(out, `"`+redrive.MetricSent+`":3`) {
		t.Errorf("no EMF line counting %s in the function's output:\n%s", redrive.MetricSent, out)
	}
	checkLogs(t, out)
}

// SES slower than the function's timeout allows: the real binary, with
// Lambda's real 10 s deadline, answers 202 instead of timing out.
func TestSubmitFunctionWithSlowSES(t *testing.T) {
	endToEnd(t)
	proxy, err := faultproxy.Start(env.SESURL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxy.Set(faultproxy.Fault{Delay: time.Minute})
	// A table of its own: the sample event was posted before, and a repeat
	// would be answered like that first post.
	table, err := env.NewTable(context.Background(), "-e2e-slow")
	if err != nil {
		t.Fatal(err)
	}
	vars := formVars(table)
	vars[config.EnvDuplicateWindow] = "10"
	vars[config.EnvSecretID] = env.SecretID
	vars["AWS_ENDPOINT_URL_SES"] = proxy.URL()
	e := start(t, build(t, "SubmitFunction"), vars)
	var resp events.APIGatewayV2HTTPResponse
	invoke(t, e, sample(t, "submit-json.json"), &resp)
	var body struct{ Status, ID string }
	json.Unmarshal([]byte(resp.Body), &body)
	if resp.StatusCode != 202 || body.Status != "queued" {
		t.Fatalf("answer %d %s, want 202 queued\n%s", resp.StatusCode, resp.Body, e.Logs())
	}
	c, err := (&dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: table}).Get(context.Background(), body.ID)
	if err != nil || c == nil || c.Status != dynamo.StatusPending || c.LastError != "timeout" {
		t.Errorf("copy %+v, %v; want pending with class timeout", c, err)
	}
	checkLogs(t, e.Logs(), "Kari", "kari@example.no", "198.51.100.7")
}
