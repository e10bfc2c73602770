// Package submit wires the submit function: the form endpoint, its abuse
// rules, the send-and-store promise and the idempotency markers. The
// Lambda main, the local stack, the tests and the benchmark all call
// Handler, so what they run is wired exactly as what runs on AWS.
package submit

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// Clients are the AWS clients the submit function calls: the SDK's in
// Lambda and against the emulators, function values in the benchmark.
type Clients struct {
	DynamoDB dynamo.MarkerAPI
	SES      ses.MailerAPI
	Secrets  secrets.API
	// S3 and Presign keep and hand out visitors' files; nil where no form
	// takes files.
	S3      bucket.API
	Presign bucket.Presigner
	Tagging bucket.TaggingAPI
}

// NewClients builds one client per service from the SDK configuration: each
// costs cold-start time, so the S3 clients only when a form of cfg takes
// files.
func NewClients(awsCfg aws.Config, cfg *config.Config) Clients {
	c := Clients{
		DynamoDB: dynamodb.NewFromConfig(awsCfg),
		SES:      sesapi.NewFromConfig(awsCfg),
		Secrets:  secretsmanager.NewFromConfig(awsCfg),
	}
	if cfg.TakesFiles() {
		s3c := s3.NewFromConfig(awsCfg)
		c.S3, c.Presign, c.Tagging = s3c, s3.NewPresignClient(s3c), s3c
	}
	return c
}

// Handler builds the submit function's HTTP handler. It reads secrets (the
// generated secret, from which the guard's keys and the lookup keys are
// derived, and the forms' captcha secrets, see guard), all at once, so it
// belongs in init, bounded by ctx. Metrics are EMF lines written to
// metricsOut (the function's stdout in Lambda).
func Handler(ctx context.Context, cfg *config.Config, c Clients, log *slog.Logger, metricsOut io.Writer) (*httpapi.Handler, error) {
	sr := app.Prefetch(ctx, &secrets.Reader{Client: c.Secrets}, append([]string{cfg.SecretID}, cfg.CaptchaSecrets()...)...)
	secret, keys, err := app.Keys(ctx, cfg.SecretID, sr)
	if err != nil {
		return nil, err
	}
	guard, err := guard(ctx, cfg, secret, sr, c.DynamoDB, log, metricsOut)
	if err != nil {
		return nil, err
	}
	idem := submission.DefaultIdempotency
	idem.DuplicateWindow = cfg.DuplicateWindow
	store := &dynamo.Store{Client: c.DynamoDB, Table: cfg.Table, LookupKeys: keys}
	mailer := &ses.Mailer{Client: c.SES, ConfigurationSet: cfg.ConfigurationSet}
	var (
		files   submission.Files
		links   httpapi.FileLinks
		uploads httpapi.Uploads
	)
	if cfg.TakesFiles() {
		if cfg.FilesBucket == "" || c.S3 == nil {
			return nil, &config.Error{Key: config.EnvFilesBucket, Reason: "is needed: a form takes files"}
		}
		b := &bucket.Bucket{Client: c.S3, Presign: c.Presign, Tagging: c.Tagging, Name: cfg.FilesBucket}
		files, links = b, fileLinks{b, store}
		uploads = &submission.UploadDesk{
			Uploads: &dynamo.Uploads{Client: c.DynamoDB, Table: cfg.Table}, Objects: b, Log: log, Now: time.Now,
			Timeout: submission.DefaultUploadTimeout, ReadTimeout: submission.DefaultUploadReadTimeout,
		}
		mailer.Files, mailer.Links, mailer.LinkOnly = b, ses.Links(cfg.PublicURL), cfg.MalwareScan
	}
	svc := &submission.Service{
		Store:       store,
		Mailer:      mailer,
		Files:       files,
		Markers:     &dynamo.Markers{Client: c.DynamoDB, Table: cfg.Table},
		Idempotency: idem,
		Timeouts:    submission.DefaultTimeouts,
		Log:         log,
		Now:         time.Now,
	}
	return &httpapi.Handler{Config: cfg, Service: svc, Guard: guard, Log: log, Now: time.Now, NewID: submission.NewID, Files: links, Uploads: uploads, ScanFiles: cfg.MalwareScan}, nil
}

// fileLinks serves download links from the copy and the bucket.
type fileLinks struct {
	*bucket.Bucket
	store *dynamo.Store
}

func (l fileLinks) Copy(ctx context.Context, id string) (*submission.Submission, error) {
	c, err := l.store.Get(ctx, id)
	if err != nil || c == nil {
		return nil, err
	}
	return &c.Submission, nil
}

// Lambda builds the function as Lambda runs it (app.Start): the clients
// from the SDK configuration, and metrics as EMF lines on stdout, which
// Lambda sends to CloudWatch.
func Lambda(ctx context.Context, cfg *config.Config, awsCfg aws.Config, log *slog.Logger) (any, error) {
	h, err := Handler(ctx, cfg, NewClients(awsCfg, cfg), log, os.Stdout)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
