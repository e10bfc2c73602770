// Package stack finds what the kontakt command works on: a deployed
// CloudFormation stack (its outputs and parameters name the table, queues,
// topics and functions) or the local stack of `make dev` (.dev/stack.json),
// together with the AWS SDK configuration that reaches it.
//
// Every subcommand of cmd/kontakt calls Resolve once and builds the SDK
// clients it needs from Stack.AWS, so the same code runs against AWS and,
// with Options.Local, against the emulators (reached through the SDK's
// standard AWS_ENDPOINT_URL_<SERVICE> variables).
package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
)

// DefaultName is the stack name the documentation deploys with.
const DefaultName = "kontakt"

// Output keys of template.yaml's Outputs section that the command reads.
// The template test in infra/harness/samtemplate checks that each exists.
const (
	OutputTable              = "TableName"
	OutputFilesBucket        = "FilesBucketName"
	OutputErasureQueue       = "ErasureQueueUrl"
	OutputErasureDeadLetters = "ErasureDeadLetterQueueUrl"
	OutputConfigurationSet   = "SesConfigurationSetName"
	OutputFeedbackTopic      = "SesFeedbackTopicArn"
	OutputAlarmTopic         = "AlarmTopicArn"
	OutputSubmitFunction     = "SubmitFunctionName"
	OutputEraseFunction      = "EraseFunctionName"
	OutputRedriveFunction    = "RedriveFunctionName"
	OutputPrivacyFunction    = "PrivacyFunctionName"
	OutputDashboard          = "DashboardName"
	// OutputSecret is the generated secret's ARN: the lookup keys that
	// hold and export find a person's copies by are derived from it.
	OutputSecret = "GeneratedSecretArn"
)

// OutputKeys lists every output the command may read, sorted.
var OutputKeys = slices.Sorted(maps.Keys(new(Stack).outputFields()))

// Parameters of template.yaml the command reads from DescribeStacks.
const (
	ParamSender         = "SenderAddress"
	ParamRecipients     = "RecipientAddresses"
	ParamPrivacyContact = "PrivacyContactAddress"
	ParamAlarmEmail     = "AlarmEmail"
)

// Options say which stack to resolve.
type Options struct {
	// Region overrides the SDK's region (profile, AWS_REGION).
	Region string
	// Name is the CloudFormation stack name (DefaultName when empty).
	Name string
	// Local resolves the `make dev` stack instead, from DevDir.
	Local bool
	// DevDir holds stack.json; empty searches for .dev/stack.json from the
	// working directory upwards.
	DevDir string
	// Timeout bounds resolving (the DescribeStacks call).
	Timeout time.Duration
}

// Stack is a resolved deployment: its resources' names and the SDK
// configuration that reaches them. A field is empty when the stack does not
// have it (e.g. no alarm topic locally); Missing tells a subcommand what to
// say then.
type Stack struct {
	Name   string // stack name, or "make dev"
	Region string
	Local  bool
	AWS    aws.Config

	Table                     string
	FilesBucket               string
	ErasureQueueURL           string
	ErasureDeadLetterQueueURL string
	ConfigurationSet          string
	FeedbackTopicARN          string
	AlarmTopicARN             string
	SubmitFunction            string
	EraseFunction             string
	RedriveFunction           string
	PrivacyFunction           string
	Dashboard                 string
	// SecretID is the generated secret (KONTAKT_SECRET_ID's value).
	SecretID string

	Sender         string
	Recipients     []string
	PrivacyContact string
	AlarmEmail     string

	// Outputs and Parameters are everything DescribeStacks returned (or
	// stack.json held, locally), for subcommands that need more.
	Outputs    map[string]string
	Parameters map[string]string
	// Dev is .dev/stack.json, for the local stack only.
	Dev *Dev
}

// Resolve loads the SDK configuration and finds the stack's resources.
func Resolve(ctx context.Context, opt Options) (*Stack, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.Local {
		return resolveLocal(ctx, opt)
	}
	name := opt.Name
	if name == "" {
		name = DefaultName
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	if opt.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(opt.Region))
	}
	// An operator's machine, not Lambda: the SDK's whole chain of
	// credentials (environment, profiles, SSO), which the functions leave out.
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region (e.g. --region eu-north-1), or set AWS_REGION or a region in your profile")
	}
	c, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(c, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, describeError(name, cfg.Region, err)
	}
	if len(out.Stacks) == 0 {
		return nil, notFound(name, cfg.Region)
	}
	s := out.Stacks[0]
	outputs := map[string]string{}
	for _, o := range s.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	params := map[string]string{}
	for _, p := range s.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	st := FromOutputs(name, cfg.Region, outputs, params)
	st.AWS = cfg
	if st.Table == "" {
		return nil, fmt.Errorf("stack %q in %s has no %s output: is it a kontakt stack? (--stack names it)", name, cfg.Region, OutputTable)
	}
	return st, nil
}

// FromOutputs fills a Stack from a stack's outputs and parameters.
func FromOutputs(name, region string, outputs, params map[string]string) *Stack {
	st := &Stack{
		Name: name, Region: region,
		Sender:         params[ParamSender],
		Recipients:     config.SplitList(params[ParamRecipients]),
		PrivacyContact: params[ParamPrivacyContact],
		AlarmEmail:     params[ParamAlarmEmail],
		Outputs:        outputs,
		Parameters:     params,
	}
	for key, field := range st.outputFields() {
		*field = outputs[key]
	}
	return st
}

// Output is the value of the output named key as s holds it: "" when the
// stack lacks it (deployed from an older template.yaml), or when key is not
// an output the command reads.
func (s *Stack) Output(key string) string {
	if field := s.outputFields()[key]; field != nil {
		return *field
	}
	return ""
}

// outputFields pairs each output the command reads with the field of s it
// fills: the one list of them, so that FromOutputs, Output and OutputKeys
// cannot disagree.
func (s *Stack) outputFields() map[string]*string {
	return map[string]*string{
		OutputTable:              &s.Table,
		OutputFilesBucket:        &s.FilesBucket,
		OutputErasureQueue:       &s.ErasureQueueURL,
		OutputErasureDeadLetters: &s.ErasureDeadLetterQueueURL,
		OutputConfigurationSet:   &s.ConfigurationSet,
		OutputFeedbackTopic:      &s.FeedbackTopicARN,
		OutputAlarmTopic:         &s.AlarmTopicARN,
		OutputSubmitFunction:     &s.SubmitFunction,
		OutputEraseFunction:      &s.EraseFunction,
		OutputRedriveFunction:    &s.RedriveFunction,
		OutputPrivacyFunction:    &s.PrivacyFunction,
		OutputDashboard:          &s.Dashboard,
		OutputSecret:             &s.SecretID,
	}
}

// describeError turns DescribeStacks' errors into what the operator can do.
func describeError(name, region string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
		return notFound(name, region)
	}
	return fmt.Errorf("describe stack %q in %s: %w", name, region, err)
}

func notFound(name, region string) error {
	return fmt.Errorf("no stack %q in %s: pass --stack with the name given to sam deploy (samconfig.toml, stack_name) and --region with its region", name, region)
}
