package doctor_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/doctor"
	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/dynamo"
)

// The two operations moto 5.2.1 lacks, as function values: SESv2
// GetAccount (the sandbox flag) and Lambda GetAccountSettings.
type getAccountFunc func(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)

func (f getAccountFunc) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, o ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return f(ctx, in, o...)
}

type accountSettingsFunc func(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)

func (f accountSettingsFunc) GetAccountSettings(ctx context.Context, in *lambda.GetAccountSettingsInput, o ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	return f(ctx, in, o...)
}

// moto confirms every SNS subscription at once, so the unconfirmed state
// is moto's real answer with one subscription shown as SNS shows a pending
// one.
type pendingSubscriptions struct{ doctor.SubscriptionsAPI }

func (p pendingSubscriptions) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, o ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	out, err := p.SubscriptionsAPI.ListSubscriptionsByTopic(ctx, in, o...)
	if err == nil && len(out.Subscriptions) > 0 {
		out.Subscriptions[0].SubscriptionArn = aws.String("PendingConfirmation")
	}
	return out, err
}

func production(on bool) getAccountFunc {
	return func(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
		max := 50000.0
		if !on {
			max = 200
		}
		return &sesv2.GetAccountOutput{ProductionAccessEnabled: on, SendingEnabled: true,
			SendQuota: &sesv2types.SendQuota{Max24HourSend: max, MaxSendRate: 1, SentLast24Hours: 3}}, nil
	}
}

func quota(limit, unreserved int32) accountSettingsFunc {
	return func(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
		return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{ConcurrentExecutions: limit, UnreservedConcurrentExecutions: aws.Int32(unreserved)}}, nil
	}
}

// deployment is a kontakt stack's resources created in moto.
type deployment struct {
	st      *stack.Stack
	clients doctor.Clients
	db      *dynamodb.Client
	sqs     *sqs.Client
	cw      *cloudwatch.Client
	alarm   string
}

func deploy(t *testing.T, ctx context.Context) *deployment {
	t.Helper()
	m, err := localstack.StartMoto(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	st := &stack.Stack{Name: "kontakt", Region: cfg.Region, AWS: cfg, Sender: "skjema@example.no",
		Recipients: []string{"post@example.no"}, ConfigurationSet: "kontakt-set", RedriveFunction: "kontakt-redrive"}

	v1 := ses.NewFromConfig(cfg)
	must(v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(st.Sender)}))
	sn := sns.NewFromConfig(cfg)
	for _, p := range []*string{&st.AlarmTopicARN, &st.FeedbackTopicARN} {
		out, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("topic" + strconv.Itoa(len(*p)+int(time.Now().UnixNano()%1000)))})
		if err != nil {
			t.Fatal(err)
		}
		*p = aws.ToString(out.TopicArn)
		must(sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("drift@example.no")}))
	}
	must(v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &sestypes.ConfigurationSet{Name: aws.String(st.ConfigurationSet)}}))
	must(v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(st.ConfigurationSet),
		EventDestination: &sestypes.EventDestination{Name: aws.String("feedback"), Enabled: true,
			MatchingEventTypes: []sestypes.EventType{sestypes.EventTypeBounce, sestypes.EventTypeComplaint},
			SNSDestination:     &sestypes.SNSDestination{TopicARN: aws.String(st.FeedbackTopicARN)}},
	}))

	// The submissions table as template.yaml defines it, made in moto by the
	// harness's own CreateTable (which needs only the repository and the SDK
	// configuration of an Env), as every other package's tests make it.
	if st.Table, err = (&testenv.Env{Root: testenv.RepoRoot(), AWS: cfg}).CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	must(db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(st.Table),
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{AttributeName: aws.String(dynamo.TTLAttribute), Enabled: aws.Bool(true)}}))

	q := sqs.NewFromConfig(cfg)
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ErasureDeadLetterQueue")})
	if err != nil {
		t.Fatal(err)
	}
	st.ErasureDeadLetterQueueURL = aws.ToString(dlq.QueueUrl)

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("kontakt-redrive"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	fn := lambda.NewFromConfig(cfg)
	must(fn.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(st.RedriveFunction),
		Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}}))
	must(fn.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(st.RedriveFunction), ReservedConcurrentExecutions: aws.Int32(1)}))

	cw := cloudwatch.NewFromConfig(cfg)
	alarm := "kontakt-FailedSubmissionsAlarm-X"
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(alarm), AlarmDescription: aws.String("A submission's email was given up."),
		Namespace: aws.String("kontakt"), MetricName: aws.String("SubmissionsFailed"), Statistic: cwtypes.StatisticSum,
		Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{st.AlarmTopicARN}}))

	clients := doctor.NewClients(st)
	clients.Account = production(true)
	clients.AccountSettings = quota(1000, 999)
	return &deployment{st: st, clients: clients, db: db, sqs: q, cw: cw, alarm: alarm}
}

// run runs every check and returns the checklist as printed.
func (d *deployment) run(t *testing.T) (string, bool) {
	t.Helper()
	doc := &doctor.Doctor{Stack: d.st, Clients: d.clients, Now: time.Now}
	rs := doc.Run(context.Background(), nil)
	var b bytes.Buffer
	doctor.Write(&b, d.st, rs)
	return b.String(), doctor.Failed(rs)
}

func line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return l
		}
	}
	return ""
}

// expect checks that the check's line has the status and says want, and
// that the lines after it (details, fix) contain more.
func expect(t *testing.T, out, status, check, want string, more ...string) {
	t.Helper()
	l := line(out, status+" ")
	found := false
	for _, l = range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == status && strings.Contains(l, check+":") {
			found = true
			break
		}
	}
	if !found || !strings.Contains(l, want) {
		t.Errorf("want a %s line for %q saying %q in\n%s", status, check, want, out)
		return
	}
	rest := out[strings.Index(out, l):]
	for _, m := range more {
		if !strings.Contains(rest, m) {
			t.Errorf("want %q after the %s line in\n%s", m, check, out)
		}
	}
}

func TestDoctorAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := deploy(t, ctx)

	t.Run("healthy", func(t *testing.T) {
		out, failed := d.run(t)
		if failed {
			t.Errorf("a healthy deployment failed:\n%s", out)
		}
		expect(t, out, "ok", "SES sender identity", "skjema@example.no is verified")
		expect(t, out, "ok", "SES production access", "out of the SES sandbox")
		expect(t, out, "ok", "SES configuration set", "sends bounces and complaints to the feedback topic")
		expect(t, out, "ok", "Alarm subscriptions", "every subscription is confirmed")
		expect(t, out, "ok", "Table TTL", "expires copies on expires_at")
		expect(t, out, "ok", "Erasure dead-letter queue", "empty")
		expect(t, out, "ok", "Copies pending or failed", "none pending, none failed")
		expect(t, out, "ok", "Redrive reserved concurrency", "reserves 1")
		expect(t, out, "ok", "Alarms", "1 alarms, none in ALARM")
		if !strings.Contains(out, "All checks passed.") {
			t.Errorf("no summary:\n%s", out)
		}
	})

	t.Run("sandbox", func(t *testing.T) {
		defer func(c doctor.GetAccountAPI) { d.clients.Account = c }(d.clients.Account)
		d.clients.Account = production(false)
		out, failed := d.run(t)
		if !failed {
			t.Errorf("sandbox passed:\n%s", out)
		}
		expect(t, out, "FAIL", "SES production access", "SES is in its sandbox", "200 emails a day",
			"unverified recipients (SES refuses mail to them): post@example.no", "fix: request production access")
	})

	t.Run("unverified sender", func(t *testing.T) {
		defer func(s string) { d.st.Sender = s }(d.st.Sender)
		d.st.Sender = "noreply@example.com"
		out, failed := d.run(t)
		if !failed {
			t.Errorf("unverified sender passed:\n%s", out)
		}
		expect(t, out, "FAIL", "SES sender identity", "noreply@example.com is not an SES identity", "fix: aws sesv2 create-email-identity")
	})

	t.Run("unconfirmed subscription", func(t *testing.T) {
		defer func(c doctor.SubscriptionsAPI) { d.clients.Subscriptions = c }(d.clients.Subscriptions)
		d.clients.Subscriptions = pendingSubscriptions{d.clients.Subscriptions}
		out, failed := d.run(t)
		if !failed {
			t.Errorf("unconfirmed subscription passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Alarm subscriptions", "reach nobody", "drift@example.no (email) not confirmed", `fix: click "Confirm subscription"`)
	})

	t.Run("concurrency quota of a new account", func(t *testing.T) {
		defer func(c doctor.AccountSettingsAPI) { d.clients.AccountSettings = c }(d.clients.AccountSettings)
		d.clients.AccountSettings = quota(10, 9)
		out, failed := d.run(t)
		if !failed {
			t.Errorf("quota 10 passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Redrive reserved concurrency", "quota of 10", "Service Quotas")
	})

	t.Run("dead letters", func(t *testing.T) {
		if _, err := d.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(d.st.ErasureDeadLetterQueueURL), MessageBody: aws.String(`{"request_id":"r"}`)}); err != nil {
			t.Fatal(err)
		}
		out, failed := d.run(t)
		if !failed {
			t.Errorf("dead letters passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Erasure dead-letter queue", "1 erasure request(s) failed 5 times", "start-message-move-task")
		if _, err := d.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(d.st.ErasureDeadLetterQueueURL)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("pending and failed copies", func(t *testing.T) {
		now := time.Now()
		put := func(id, status, reason string, received time.Time, expires time.Time) {
			item := map[string]dbtypes.AttributeValue{
				dynamo.AttrID:         &dbtypes.AttributeValueMemberS{Value: id},
				dynamo.AttrStatus:     &dbtypes.AttributeValueMemberS{Value: status},
				dynamo.AttrReceivedAt: &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(received.Unix(), 10)},
				dynamo.TTLAttribute:   &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
			}
			if reason != "" {
				item[dynamo.AttrLastError] = &dbtypes.AttributeValueMemberS{Value: reason}
			}
			if status == dynamo.StatusPending {
				item[dynamo.AttrPending] = &dbtypes.AttributeValueMemberS{Value: dynamo.PendingShard}
				item[dynamo.AttrNextAttemptAt] = &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}
			}
			if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.st.Table), Item: item}); err != nil {
				t.Fatal(err)
			}
		}
		put("p-new", dynamo.StatusPending, "", now.Add(-time.Minute), now.Add(time.Hour))
		out, failed := d.run(t)
		if failed {
			t.Errorf("a fresh pending copy failed the run:\n%s", out)
		}
		expect(t, out, "ok", "Copies pending or failed", "1 pending, 0 failed", "1 pending (first attempt 1); the oldest, p-new")

		put("p-old", dynamo.StatusPending, "throttled", now.Add(-3*time.Hour), now.Add(time.Hour))
		put("p-expired", dynamo.StatusPending, "throttled", now.Add(-50*24*time.Hour), now.Add(-time.Hour))
		out, failed = d.run(t)
		if failed {
			t.Errorf("pending copies failed the run:\n%s", out)
		}
		expect(t, out, "warn", "Copies pending or failed", "2 pending, 0 failed", "first attempt 1, throttled 1", "the oldest, p-old, arrived 3h0m0s ago")

		put("f-1", dynamo.StatusFailed, "rejected", now.Add(-2*time.Hour), now.Add(time.Hour))
		put("f-2", dynamo.StatusFailed, "paused", now.Add(-2*time.Hour), now.Add(time.Hour))
		put("s-1", dynamo.StatusSent, "", now.Add(-2*time.Hour), now.Add(time.Hour))
		out, failed = d.run(t)
		if !failed {
			t.Errorf("failed copies passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Copies pending or failed", "2 pending, 2 failed", "2 failed: their email was given up (paused 1, rejected 1)", "fix: fix what SES refused", "kontakt requeue f-1 f-2")
		for _, id := range []string{"f-1", "f-2", "p-new", "p-old", "p-expired", "s-1"} {
			d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.st.Table), Key: map[string]dbtypes.AttributeValue{dynamo.AttrID: &dbtypes.AttributeValueMemberS{Value: id}}})
		}
	})

	t.Run("alarm in ALARM", func(t *testing.T) {
		if _, err := d.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(d.alarm), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
			t.Fatal(err)
		}
		out, failed := d.run(t)
		if !failed {
			t.Errorf("an alarm in ALARM passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Alarms", "1 of 1 alarms are in ALARM", d.alarm+": ALARM", "A submission's email was given up.")
	})

	t.Run("TTL off", func(t *testing.T) {
		if _, err := d.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(d.st.Table),
			TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{AttributeName: aws.String(dynamo.TTLAttribute), Enabled: aws.Bool(false)}}); err != nil {
			t.Fatal(err)
		}
		out, failed := d.run(t)
		if !failed {
			t.Errorf("TTL off passed:\n%s", out)
		}
		expect(t, out, "FAIL", "Table TTL", "copies are never deleted", "update-time-to-live")
	})

	t.Run("no configuration set", func(t *testing.T) {
		defer func(s string) { d.st.ConfigurationSet = s }(d.st.ConfigurationSet)
		d.st.ConfigurationSet = "gone"
		out, _ := d.run(t)
		expect(t, out, "FAIL", "SES configuration set", "gone does not exist")
	})

	// A stack deployed from an older template.yaml lacks outputs: every
	// check that needs one fails, naming it and the fix, and the checks
	// that need none still run.
	t.Run("older stack", func(t *testing.T) {
		outputs := map[string]string{}
		for _, k := range stack.OutputKeys {
			outputs[k] = d.st.Output(k)
		}
		needs := map[string]doctor.Output{}
		for _, c := range doctor.Checks() {
			if c.Needs.Key != "" {
				needs[c.Name] = c.Needs
				delete(outputs, c.Needs.Key)
			}
		}
		if len(needs) < 4 {
			t.Fatalf("%d checks need an output, want at least 4", len(needs))
		}
		old := stack.FromOutputs(d.st.Name, d.st.Region, outputs, nil)
		old.AWS, old.Sender, old.Recipients = d.st.AWS, d.st.Sender, d.st.Recipients
		rs := (&doctor.Doctor{Stack: old, Clients: d.clients, Now: time.Now}).Run(ctx, nil)
		var b bytes.Buffer
		doctor.Write(&b, old, rs)
		out := b.String()
		for _, r := range rs {
			n, ok := needs[r.Check]
			if !ok {
				if strings.Contains(r.Detail, "the stack names no") {
					t.Errorf("%s needs no output but said %q", r.Check, r.Detail)
				}
				continue
			}
			expect(t, out, "FAIL", r.Check, fmt.Sprintf("the stack names no %s (output %s)", n.What, n.Key), "fix: deploy the current template.yaml")
		}
		if len(rs) != len(doctor.Checks()) {
			t.Errorf("ran %d checks, want %d", len(rs), len(doctor.Checks()))
		}
	})

	t.Run("only ses", func(t *testing.T) {
		doc := &doctor.Doctor{Stack: d.st, Clients: d.clients}
		rs := doc.Run(ctx, []string{doctor.GroupSES})
		if len(rs) != 3 {
			t.Errorf("--only ses ran %d checks, want 3", len(rs))
		}
	})
}

// A stack deployed from an older template.yaml lacks outputs: each check
// that needs one fails, naming it, with the fix, and calls no AWS (the
// clients are nil). TestDoctorAgainstMoto's "older stack" case covers every
// check that needs an output; this one, without an emulator, that they
// make no call.
func TestMissingOutputs(t *testing.T) {
	st := &stack.Stack{Name: "kontakt", Region: "eu-north-1"}
	doc := &doctor.Doctor{Stack: st}
	var b bytes.Buffer
	doctor.Write(&b, st, doc.Run(context.Background(), []string{doctor.GroupFunctions, doctor.GroupAlarms}))
	out := b.String()
	expect(t, out, "FAIL", "Redrive reserved concurrency", "the stack names no redrive function (output RedriveFunctionName)", "fix: deploy the current template.yaml")
	expect(t, out, "FAIL", "Alarms", "the stack names no alarm topic (output AlarmTopicArn)", "fix: deploy the current template.yaml")
}
