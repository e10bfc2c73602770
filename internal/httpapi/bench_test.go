package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/gcpolicy"
)

// The submit path as the Lambda runs it, minus the network: wired by
// submit.Handler, the function's own wiring, with function values in place
// of the SDK clients (so building the email and the item is measured). `make bench` reads these numbers;
// `make test` runs each once so they cannot rot.
func BenchmarkSubmitJSON(b *testing.B) { benchmarkSubmit(b, "submit-typical-json.json", 200) }

// BenchmarkSubmitForm is a plain HTML form post: urlencoded, answered with
// the built-in thank-you page.
func BenchmarkSubmitForm(b *testing.B) { benchmarkSubmit(b, "submit-typical-form.json", 200) }

// dynamoAPI and sesAPI stand in for the SDK clients.
type dynamoAPI struct {
	put    func(*dynamodb.PutItemInput) error
	update func(*dynamodb.UpdateItemInput) error
}

// The fakes answer with shared empty outputs (the callers only look at
// the error): what they allocate is not the handler's.
var (
	putOutput    = &dynamodb.PutItemOutput{}
	updateOutput = &dynamodb.UpdateItemOutput{}
	sendOutput   = &sesapi.SendEmailOutput{}
)

func (d dynamoAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return putOutput, d.put(in)
}

func (d dynamoAPI) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return updateOutput, d.update(in)
}

func (dynamoAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	panic("a first post never reads")
}

func (dynamoAPI) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	panic("an accepted post gives no marker back")
}

// secretsAPI answers every secret read with itself.
type secretsAPI string

func (s secretsAPI) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(string(s))}, nil
}

type sesAPI func(*sesapi.SendEmailInput) error

func (f sesAPI) SendEmail(_ context.Context, in *sesapi.SendEmailInput, _ ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
	return sendOutput, f(in)
}

func (f sesAPI) SendRawEmail(context.Context, *sesapi.SendRawEmailInput, ...func(*sesapi.Options)) (*sesapi.SendRawEmailOutput, error) {
	return nil, errors.New("the benchmark posts no files")
}

func benchmarkSubmit(b *testing.B, event string, wantStatus int) {
	ev := loadEvent(b, event)
	// Atomic: the path makes its independent calls at the same time.
	var puts, sends, updates atomic.Int64
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// The fake accepts every write, conditional or not, so every op is a
	// first post within its limits.
	db := dynamoAPI{
		put:    func(*dynamodb.PutItemInput) error { puts.Add(1); return nil },
		update: func(*dynamodb.UpdateItemInput) error { updates.Add(1); return nil },
	}
	cfg := testConfig(b)
	cfg.SecretID = "kontakt/secret"
	h, err := submit.Handler(context.Background(), cfg, submit.Clients{
		DynamoDB: db,
		SES:      sesAPI(func(*sesapi.SendEmailInput) error { sends.Add(1); return nil }),
		Secrets:  secretsAPI(strings.Repeat("k", abuse.MinSecretLength)),
	}, log, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	// The collector as the functions set it for 128 MB (app.Start); a
	// GOGC in the environment overrides it, as it would in Lambda.
	defer gcpolicy.Apply(128, os.Getenv)()
	ctx := context.Background()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		resp, err := h.Handle(ctx, ev)
		if err != nil || resp.StatusCode != wantStatus {
			b.Fatalf("status %d, %v: %s", resp.StatusCode, err, resp.Body)
		}
	}
	// On a shared machine ns/op also counts the time spent waiting for a
	// CPU; the process's CPU time (garbage collection included) does not.
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
	// A benchmark of an error path would be fast and meaningless: every
	// submission must have reached the adapters.
	// Per post: PutItem for the copy and the marker; UpdateItem for the two
	// rate counters, the sent mark and the marker's outcome.
	if n := int64(b.N); puts.Load() != 2*n || sends.Load() != n || updates.Load() != 4*n {
		b.Fatalf("%d ops: %d PutItem, %d SendEmail, %d UpdateItem", b.N, puts.Load(), sends.Load(), updates.Load())
	}
}
