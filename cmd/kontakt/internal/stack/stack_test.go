package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
)

// Every output the command reads is one template.yaml declares.
func TestTemplateHasEveryOutput(t *testing.T) {
	raw, err := samtemplate.LoadRaw(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	outputs, _ := raw["Outputs"].(map[string]any)
	for _, k := range stack.OutputKeys {
		if _, ok := outputs[k]; !ok {
			t.Errorf("template.yaml has no output %s", k)
		}
	}
	params, _ := raw["Parameters"].(map[string]any)
	for _, k := range []string{stack.ParamSender, stack.ParamRecipients, stack.ParamPrivacyContact, stack.ParamAlarmEmail} {
		if _, ok := params[k]; !ok {
			t.Errorf("template.yaml has no parameter %s", k)
		}
	}
}

func setenv(t *testing.T, vars []string) {
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Resolve reads a deployed stack's outputs and parameters through
// CloudFormation DescribeStacks (moto), and says what to do when the stack
// is not there.
func TestResolveDeployed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := localstack.StartMoto(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	setenv(t, m.Env())
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"Parameters": {"SenderAddress": {"Type": "String"}, "RecipientAddresses": {"Type": "String"}},
	  "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
	  "Outputs": {"TableName": {"Value": "kontakt-SubmissionsTable-1"}, "ErasureQueueUrl": {"Value": {"Ref": "Q"}}}}`
	if _, err := cloudformation.NewFromConfig(cfg).CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("forms"), TemplateBody: aws.String(body),
		Parameters: []cfntypes.Parameter{
			{ParameterKey: aws.String("SenderAddress"), ParameterValue: aws.String("skjema@example.no")},
			{ParameterKey: aws.String("RecipientAddresses"), ParameterValue: aws.String("a@example.no, b@example.no")},
		},
	}); err != nil {
		t.Fatal(err)
	}

	st, err := stack.Resolve(ctx, stack.Options{Name: "forms"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Table, "kontakt-SubmissionsTable-1"; got != want {
		t.Errorf("table %q, want %q", got, want)
	}
	if !strings.Contains(st.ErasureQueueURL, "/Q") && !strings.Contains(st.ErasureQueueURL, "-Q-") {
		t.Errorf("erasure queue %q: not the stack's queue", st.ErasureQueueURL)
	}
	if got, want := st.Sender, "skjema@example.no"; got != want {
		t.Errorf("sender %q, want %q", got, want)
	}
	if got := strings.Join(st.Recipients, "|"); got != "a@example.no|b@example.no" {
		t.Errorf("recipients %q", got)
	}
	if st.Local || st.Region != localstack.Region {
		t.Errorf("local %v region %q", st.Local, st.Region)
	}

	_, err = stack.Resolve(ctx, stack.Options{Name: "nope"})
	if err == nil || !strings.Contains(err.Error(), `no stack "nope"`) || !strings.Contains(err.Error(), "--stack") {
		t.Errorf("missing stack: %v", err)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, err = stack.Resolve(ctx, stack.Options{Name: "forms"})
	if err == nil || !strings.Contains(err.Error(), "--region") {
		t.Errorf("no region: %v", err)
	}
}

// --local reads stack.json and points the SDK at the emulators through
// the standard endpoint variables.
func TestResolveLocal(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_EC2_METADATA_DISABLED", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	_, err := stack.Resolve(context.Background(), stack.Options{Local: true, DevDir: dir})
	if err == nil || !strings.Contains(err.Error(), "make dev") {
		t.Errorf("no stack.json: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "stack.json"), []byte(`{"dynamodb": "http://127.0.0.1:8000", "sqs": "http://127.0.0.1:9324",
	  "mail_viewer": "http://127.0.0.1:8005", "table": "t", "erasure_queue_url": "http://127.0.0.1:9324/q",
	  "erasure_dlq_url": "http://127.0.0.1:9324/dlq", "region": "eu-north-1", "sender": "kontakt@example.no"}`), 0o644)
	st, err := stack.Resolve(context.Background(), stack.Options{Local: true, DevDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Local || st.Table != "t" || st.ErasureDeadLetterQueueURL != "http://127.0.0.1:9324/dlq" || st.Sender != "kontakt@example.no" || st.Region != "eu-north-1" {
		t.Errorf("local stack %+v", st)
	}
	for k, want := range map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:8005"} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "stack.json"), []byte(`{"table": "t"}`), 0o644)
	if _, err := stack.Resolve(context.Background(), stack.Options{Local: true, DevDir: dir}); err == nil || !strings.Contains(err.Error(), "restart make dev") {
		t.Errorf("incomplete stack.json: %v", err)
	}
}
