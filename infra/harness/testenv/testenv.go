// Package testenv brings up the local AWS-API emulators for integration and
// end-to-end tests and for `make dev`: it installs the pinned emulators,
// starts them on loopback, points the SDK at them through the standard
// AWS_ENDPOINT_URL_* variables and creates the table and the files bucket
// from template.yaml.
//
// With KONTAKT_TEST_AWS=moto (make test-aws) it starts moto_server instead
// of the npm emulators and sets it up as an operator sets up an account:
// the sender verified in SES, the configuration set created, the secrets in
// Secrets Manager (see moto.go).
package testenv

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// TableLogicalID is the table's logical id in template.yaml.
const TableLogicalID = "SubmissionsTable"

// SecretLogicalID is the generated secret's logical id in template.yaml.
const SecretLogicalID = "KontaktSecret"

// TokenSecretID names the stand-in for the template's TokenSecret, the key
// that signs self-service erasure links.
const TokenSecretID = "TokenSecret"

// Env is a running local stack.
type Env struct {
	*localstack.Stack
	Root  string
	Table string
	// SecretID is the ARN of the stand-in for the template's generated
	// secret (config.EnvSecretID).
	SecretID string
	// Secret is its value, for tests that must compute what the functions
	// derive from it (LookupKeys).
	Secret string
	// Bucket is the files bucket (config.EnvFilesBucket), created from the
	// template (CreateBucket).
	Bucket  string
	AWS     aws.Config
	restore func()
}

// Options choose ports (0 = any free loopback port) and which emulators run.
type Options struct {
	DynamoPort, SESPort, SQSPort, SecretsPort, S3Port int
	SQS                                               bool
	// UploadOrigins are the files bucket's CORS origins (moto only; the
	// in-process emulator allows any); nil means FunctionVars' origin.
	UploadOrigins []string
	Log           io.Writer
}

// RepoRoot finds the module root from this source file, so tests in any
// package find infra/ and template.yaml.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Start brings the stack up: the npm emulators, or moto when
// KONTAKT_TEST_AWS=moto. Callers must Stop it.
func Start(ctx context.Context, opt Options) (*Env, error) {
	moto, err := onMoto()
	if err != nil {
		return nil, err
	}
	root := RepoRoot()
	infra := filepath.Join(root, "infra")
	lo := localstack.Options{
		InfraDir: infra, Dynamo: true, SES: true, SQS: opt.SQS, Secrets: true, S3: true,
		DynamoPort: opt.DynamoPort, SESPort: opt.SESPort, SQSPort: opt.SQSPort, SecretsPort: opt.SecretsPort, S3Port: opt.S3Port,
		Log: opt.Log, Moto: moto,
	}
	if !moto {
		if err := localstack.EnsureInstalled(ctx, infra); err != nil {
			return nil, fmt.Errorf("install emulators: %w", err)
		}
	}
	st, err := localstack.Start(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("start emulators: %w", err)
	}
	e := &Env{Stack: st, Root: root, restore: st.Setenv()}
	if e.AWS, err = app.AWSConfig(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	if moto {
		if err := e.setUpMoto(ctx); err != nil {
			e.Stop()
			return nil, err
		}
	}
	// What GenerateSecretString makes in the template: 64 letters and digits.
	e.Secret = rand.Text() + rand.Text() + rand.Text()[:12]
	if e.SecretID, err = e.PutSecret(ctx, SecretLogicalID, e.Secret); err != nil {
		e.Stop()
		return nil, err
	}
	if _, err = e.PutSecret(ctx, TokenSecretID, rand.Text()+rand.Text()+rand.Text()[:12]); err != nil {
		e.Stop()
		return nil, err
	}
	if e.Table, err = e.CreateTable(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	origins := opt.UploadOrigins
	if origins == nil {
		origins = []string{allowedOrigin}
	}
	if e.Bucket, err = e.CreateBucket(ctx, BucketName, origins); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// CreateTable creates the submissions table exactly as template.yaml
// defines it and returns its name.
func (e *Env) CreateTable(ctx context.Context) (string, error) { return e.createTable(ctx, "", "") }

// NewTable creates another table like the submissions table, named with
// suffix, so that a test can count exactly what its own run left behind.
func (e *Env) NewTable(ctx context.Context, suffix string) (string, error) {
	return e.createTable(ctx, "", suffix)
}

// CreateTableNamed creates another table like the submissions table, named
// name ("" keeps the template's name), e.g. for a benchmark that must not
// share the table with other work.
func (e *Env) CreateTableNamed(ctx context.Context, name string) (string, error) {
	return e.createTable(ctx, name, "")
}

func (e *Env) createTable(ctx context.Context, name, suffix string) (string, error) {
	tpl, err := samtemplate.Load(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		return "", fmt.Errorf("load template: %w", err)
	}
	in, err := samtemplate.TableInput(tpl, TableLogicalID)
	if err != nil {
		return "", fmt.Errorf("table from template: %w", err)
	}
	if name != "" {
		in.TableName = aws.String(name)
	}
	in.TableName = aws.String(aws.ToString(in.TableName) + suffix)
	db := dynamodb.NewFromConfig(e.AWS)
	if _, err := db.CreateTable(ctx, in); err != nil {
		return "", fmt.Errorf("create table: %w", err)
	}
	// dynalite may answer CREATING once; the waiter's default first delay
	// would then be 20 s.
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30e9); err != nil {
		return "", fmt.Errorf("wait for table: %w", err)
	}
	return aws.ToString(in.TableName), nil
}

const allowedOrigin = "https://www.example.no"

// FunctionVars is a working configuration for every function on this stack
// (the union of the variables each reads, see config.EnvVars and
// config.EraseEnvVars): one form, "contact", posting from
// https://www.example.no, mail from kontakt@example.no to post@example.no.
func (e *Env) FunctionVars() map[string]string {
	return map[string]string{
		config.EnvTable:                e.Table,
		config.EnvSender:               Sender,
		config.EnvRecipients:           "post@example.no",
		config.EnvAllowedOrigins:       allowedOrigin,
		config.EnvRetentionDays:        "30",
		config.EnvLanguage:             "nb",
		config.EnvFormID:               "contact",
		config.EnvRedirectURL:          "",
		config.EnvFormsFile:            "",
		config.EnvPrivacyContact:       "personvern@example.no",
		config.EnvReceiptRetentionDays: "1095",
		config.EnvSecretID:             e.SecretID,
		config.EnvErasureQueueURL:      "http://127.0.0.1:1/000000000000/ErasureQueue",
		config.EnvTokenSecret:          TokenSecretID,
		config.EnvTokenLifetimeHours:   "24",
		config.EnvFilesBucket:          e.Bucket,
	}
}

// LookupKeys are the lookup keys the functions on this stack derive from
// the generated secret.
func (e *Env) LookupKeys() *submission.LookupKeys {
	k, err := submission.NewLookupKeys(e.Secret)
	if err != nil {
		panic(err) // Start made the secret; it is long enough
	}
	return k
}

// Stop stops the emulators and restores the environment.
func (e *Env) Stop() {
	if e.restore != nil {
		e.restore()
	}
	e.Stack.Stop()
}

// Main runs a package's tests against a fresh stack; packages call it from
// TestMain. With -short the stack is not started and integration tests skip
// themselves (make unit); otherwise a stack that cannot start fails the run.
func Main(m interface{ Run() int }, short func() bool, env **Env) {
	MainWith(m, short, env, nil)
}

// MainWith is Main for a package whose tests share more than the stack
// (servers, a browser, a binary to install): once the stack is up, so
// never with -short, setUp prepares it, and the stop it returns (if any)
// runs after the tests. An error from setUp fails the run.
func MainWith(m interface{ Run() int }, short func() bool, env **Env, setUp func() (stop func(), err error)) {
	flag.Parse()
	if short() {
		os.Exit(m.Run())
	}
	ctx := context.Background()
	if OnMoto() {
		printMotoSkips()
	}
	e, err := Start(ctx, Options{SQS: true, Log: io.Discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need the local emulators (run make unit for the tests that need none):", err)
		os.Exit(1)
	}
	*env = e
	code := runSetUp(m, setUp)
	e.Stop()
	os.Exit(code)
}

func runSetUp(m interface{ Run() int }, setUp func() (stop func(), err error)) int {
	if setUp == nil {
		return m.Run()
	}
	stop, err := setUp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setting up the tests:", err)
		return 1
	}
	if stop != nil {
		defer stop()
	}
	return m.Run()
}

// Queue is a local queue created from the template.
type Queue struct{ URL, ARN string }

// Queues are the erasure queue and its dead-letter queue.
type Queues struct {
	Erasure, DeadLetter Queue
	MaxReceiveCount     int
}

// number prints a template number as SQS wants it (YAML numbers decode as
// float64, which fmt would print as 1.2096e+06).
func number(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// TestQueues is CreateQueues for one test: t fails when the queues cannot
// be made.
func (e *Env) TestQueues(ctx context.Context, t testing.TB, suffix string) *Queues {
	t.Helper()
	q, err := e.CreateQueues(ctx, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// CreateQueues creates the erasure queue and its dead-letter queue with the
// template's settings (visibility timeout, retention, redrive policy). The
// names get suffix, so tests can have queues of their own.
func (e *Env) CreateQueues(ctx context.Context, suffix string) (*Queues, error) {
	raw, err := samtemplate.LoadRaw(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	attrs := func(id string) (map[string]string, map[string]any, error) {
		p, err := samtemplate.RawProperties(raw, id)
		if err != nil {
			return nil, nil, err
		}
		a := map[string]string{}
		for _, k := range []string{"VisibilityTimeout", "MessageRetentionPeriod"} {
			if v, ok := p[k]; ok {
				a[k] = number(v)
			}
		}
		return a, p, nil
	}
	client := sqs.NewFromConfig(e.AWS)
	create := func(name string, a map[string]string) (Queue, error) {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: a})
		if err != nil {
			return Queue{}, fmt.Errorf("create queue %s: %w", name, err)
		}
		qa, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return Queue{}, fmt.Errorf("queue %s arn: %w", name, err)
		}
		return Queue{URL: aws.ToString(out.QueueUrl), ARN: qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]}, nil
	}
	dlqAttrs, _, err := attrs("ErasureDeadLetterQueue")
	if err != nil {
		return nil, err
	}
	q := &Queues{}
	if q.DeadLetter, err = create("ErasureDeadLetterQueue"+suffix, dlqAttrs); err != nil {
		return nil, err
	}
	mainAttrs, props, err := attrs("ErasureQueue")
	if err != nil {
		return nil, err
	}
	mrc, _ := samtemplate.Lookup(props, "RedrivePolicy", "maxReceiveCount")
	q.MaxReceiveCount, _ = strconv.Atoi(number(mrc))
	if q.MaxReceiveCount == 0 {
		return nil, fmt.Errorf("template: ErasureQueue has no RedrivePolicy.maxReceiveCount")
	}
	mainAttrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, q.DeadLetter.ARN, q.MaxReceiveCount)
	if q.Erasure, err = create("ErasureQueue"+suffix, mainAttrs); err != nil {
		return nil, err
	}
	return q, nil
}
