// Package doctor checks a kontakt deployment, read-only, the way its
// operators lose messages: SES still in its sandbox or the sender not
// verified, alarm subscriptions never confirmed, a dead-letter queue that
// fills quietly, copies whose email was given up. Each check prints one
// line, and the fix when it fails.
//
// Each check calls AWS through a narrow interface per SDK operation, so
// that tests inject the real clients pointed at moto, or a function value
// where moto lacks the operation.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
)

// The operations the checks call, one interface each.
type (
	// GetAccountAPI: SESv2 GetAccount (the sandbox flag and quota).
	GetAccountAPI interface {
		GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
	}
	// VerificationAPI: SES GetIdentityVerificationAttributes.
	VerificationAPI interface {
		GetIdentityVerificationAttributes(context.Context, *ses.GetIdentityVerificationAttributesInput, ...func(*ses.Options)) (*ses.GetIdentityVerificationAttributesOutput, error)
	}
	// DkimAPI: SES GetIdentityDkimAttributes.
	DkimAPI interface {
		GetIdentityDkimAttributes(context.Context, *ses.GetIdentityDkimAttributesInput, ...func(*ses.Options)) (*ses.GetIdentityDkimAttributesOutput, error)
	}
	// ConfigurationSetAPI: SES DescribeConfigurationSet.
	ConfigurationSetAPI interface {
		DescribeConfigurationSet(context.Context, *ses.DescribeConfigurationSetInput, ...func(*ses.Options)) (*ses.DescribeConfigurationSetOutput, error)
	}
	// SubscriptionsAPI: SNS ListSubscriptionsByTopic.
	SubscriptionsAPI interface {
		ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	}
	// TTLAPI: DynamoDB DescribeTimeToLive.
	TTLAPI interface {
		DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	}
	// QueueAttributesAPI: SQS GetQueueAttributes.
	QueueAttributesAPI interface {
		GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	}
	// QueryAPI: DynamoDB Query (the pending index).
	QueryAPI interface {
		Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	}
	// ScanAPI: DynamoDB Scan (failed copies have no index).
	ScanAPI interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	}
	// FunctionConcurrencyAPI: Lambda GetFunctionConcurrency.
	FunctionConcurrencyAPI interface {
		GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	}
	// AccountSettingsAPI: Lambda GetAccountSettings.
	AccountSettingsAPI interface {
		GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
	}
	// AlarmsAPI: CloudWatch DescribeAlarms.
	AlarmsAPI interface {
		DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	}
	// MetricsAPI reads kontakt's own metrics (kontakt status).
	MetricsAPI interface {
		ListMetrics(context.Context, *cloudwatch.ListMetricsInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error)
		GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	}
)

// Clients are the AWS operations the checks use.
type Clients struct {
	Account             GetAccountAPI
	Verification        VerificationAPI
	Dkim                DkimAPI
	ConfigurationSet    ConfigurationSetAPI
	Subscriptions       SubscriptionsAPI
	TTL                 TTLAPI
	QueueAttributes     QueueAttributesAPI
	Query               QueryAPI
	Scan                ScanAPI
	FunctionConcurrency FunctionConcurrencyAPI
	AccountSettings     AccountSettingsAPI
	Alarms              AlarmsAPI
	Metrics             MetricsAPI
}

// NewClients builds the real clients from the stack's SDK configuration.
// The SES emulator of the local stack hangs on actions it does not know,
// so every call also has its own deadline (Doctor.Timeout).
func NewClients(st *stack.Stack) Clients {
	v1 := ses.NewFromConfig(st.AWS)
	db := dynamodb.NewFromConfig(st.AWS)
	fn := lambda.NewFromConfig(st.AWS)
	cw := cloudwatch.NewFromConfig(st.AWS)
	return Clients{
		Account: sesv2.NewFromConfig(st.AWS), Verification: v1, Dkim: v1, ConfigurationSet: v1,
		Subscriptions: sns.NewFromConfig(st.AWS), TTL: db, QueueAttributes: sqs.NewFromConfig(st.AWS),
		Query: db, Scan: db, FunctionConcurrency: fn, AccountSettings: fn,
		Alarms: cw, Metrics: cw,
	}
}

// Status of one check.
type Status int

const (
	OK Status = iota
	// Warn is worth knowing but loses nothing (e.g. copies waiting for
	// their next attempt); it does not fail the run.
	Warn
	Fail
	// Skipped: the check does not apply (e.g. locally, where there is no
	// CloudWatch); never a failure.
	Skipped
)

func (s Status) String() string {
	return [...]string{"ok", "warn", "FAIL", "skip"}[s]
}

// Result is one line of the checklist.
type Result struct {
	Check  string
	Status Status
	// Detail says what was found; more lines follow it indented.
	Detail string
	More   []string
	// Fix says what to do, for Warn and Fail.
	Fix string
}

// Groups of checks, for --only.
const (
	GroupSES        = "ses"
	GroupAlarms     = "alarms"
	GroupData       = "data"
	GroupFunctions  = "functions"
	DefaultTimeout  = 15 * time.Second
	pendingWarnTime = time.Hour
)

// Check is one named check.
type Check struct {
	Name  string
	Group string
	// Local is why the check does not apply to the `make dev` stack, or
	// "" when it runs there too.
	Local string
	// Needs is the stack output naming what the check looks at, if it has
	// one: a stack deployed from an older template.yaml lacks it, and the
	// check then fails, saying so, without calling AWS.
	Needs Output
	Run   func(ctx context.Context, d *Doctor) Result
}

// Output is a stack output: its key (stack.Output...) and what it names.
type Output struct{ Key, What string }

// Doctor runs the checks on one stack.
type Doctor struct {
	Stack   *stack.Stack
	Clients Clients
	Now     func() time.Time
	// Timeout bounds each AWS call.
	Timeout time.Duration
}

// Checks lists every check, in the order they are printed.
func Checks() []Check {
	return []Check{
		{Name: "SES sender identity", Group: GroupSES, Local: "the SES emulator accepts any sender", Run: checkSender},
		{Name: "SES production access", Group: GroupSES, Run: checkSandbox},
		{Name: "SES configuration set", Group: GroupSES, Local: "make dev sends without a configuration set",
			Needs: Output{stack.OutputConfigurationSet, "SES configuration set"}, Run: checkConfigurationSet},
		{Name: "Alarm subscriptions", Group: GroupAlarms, Local: "make dev has no SNS topics", Run: checkSubscriptions},
		{Name: "Table TTL", Group: GroupData, Local: "dynalite keeps no TTL (reads ignore expired copies)", Run: checkTTL},
		{Name: "Erasure dead-letter queue", Group: GroupData, Needs: Output{stack.OutputErasureDeadLetters, "erasure dead-letter queue"}, Run: checkDeadLetters},
		{Name: "Copies pending or failed", Group: GroupData, Run: checkCopies},
		{Name: "Redrive reserved concurrency", Group: GroupFunctions, Local: "make dev has no Lambda service",
			Needs: Output{stack.OutputRedriveFunction, "redrive function"}, Run: checkConcurrency},
		{Name: "Alarms", Group: GroupAlarms, Local: "make dev has no CloudWatch",
			Needs: Output{stack.OutputAlarmTopic, "alarm topic"}, Run: checkAlarms},
	}
}

func (d *Doctor) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
}

// Run runs the checks of the groups named in only (all when empty), and
// returns their results in order.
func (d *Doctor) Run(ctx context.Context, only []string) []Result {
	d.defaults()
	var out []Result
	for _, c := range Checks() {
		if len(only) > 0 && !contains(only, c.Group) {
			continue
		}
		if d.Stack.Local && c.Local != "" {
			out = append(out, Result{Check: c.Name, Status: Skipped, Detail: "skipped locally: " + c.Local})
			continue
		}
		var r Result
		if n := c.Needs; n.Key != "" && d.Stack.Output(n.Key) == "" {
			r = undeployed(fmt.Sprintf("the stack names no %s (output %s)", n.What, n.Key))
		} else {
			r = c.Run(ctx, d)
		}
		r.Check = c.Name
		out = append(out, r)
	}
	return out
}

// call gives one AWS call its deadline.
func (d *Doctor) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.Timeout)
}

// ask makes one AWS call, op (a client's method) with its input in, under
// its own deadline: the SES emulator hangs on actions it does not know, and
// one hung call must not hold up the rest of the checklist.
func ask[In, Out, Opt any](ctx context.Context, d *Doctor, op func(context.Context, In, ...Opt) (Out, error), in In) (Out, error) {
	c, cancel := d.call(ctx)
	defer cancel()
	return op(c, in)
}

// Failed reports whether any result failed.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Write prints the checklist and a summary line.
func Write(w io.Writer, st *stack.Stack, rs []Result) {
	if st.Local {
		fmt.Fprintf(w, "kontakt doctor: the local stack (make dev), table %s\n\n", st.Table)
	} else {
		fmt.Fprintf(w, "kontakt doctor: stack %s in %s\n\n", st.Name, st.Region)
	}
	failed, warned := 0, 0
	for _, r := range rs {
		fmt.Fprintf(w, "  %-4s  %s: %s\n", r.Status, r.Check, r.Detail)
		for _, m := range r.More {
			fmt.Fprintf(w, "        %s\n", m)
		}
		if r.Fix != "" && (r.Status == Fail || r.Status == Warn) {
			fmt.Fprintf(w, "        fix: %s\n", r.Fix)
		}
		switch r.Status {
		case Fail:
			failed++
		case Warn:
			warned++
		}
	}
	fmt.Fprintln(w)
	switch {
	case failed > 0:
		fmt.Fprintf(w, "%d of %d checks failed.\n", failed, len(rs))
	case warned > 0:
		fmt.Fprintf(w, "No check failed; %d warning(s).\n", warned)
	default:
		fmt.Fprintln(w, "All checks passed.")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unreachable is the result of a call that failed: the check cannot say,
// which is a failure (doctor must not print green on what it could not see).
func unreachable(what string, err error, local bool) Result {
	fix := "check your credentials and region (aws sts get-caller-identity), and that the role may call this read-only action"
	if local {
		fix = "is `make dev` running? start it again (the emulators' log is .dev/emulators.log)"
	}
	return Result{Status: Fail, Detail: "could not " + what + ": " + oneLine(err), Fix: fix}
}

// fixDeploy is the fix when the stack lacks what the current template.yaml
// creates: it was deployed from an older one, or changed by hand since.
const fixDeploy = "deploy the current template.yaml"

// undeployed is the result of a check that finds missing what the
// template creates (an output, the alarms).
func undeployed(detail string) Result {
	return Result{Status: Fail, Detail: detail, Fix: fixDeploy}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
