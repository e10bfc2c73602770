// Package erase wires the erase function, which acts on the erasure queue
// (see internal/erasure).
package erase

import (
	"github.com/aws/aws-lambda-go/lambdacontext"
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
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the erase function calls.
type Clients struct {
	DynamoDB erasurestore.API
	SES      ses.API
	Secrets  secrets.API
	// S3 deletes a person's files with their copies.
	S3 bucket.API
}

// NewClients builds one client per service from the SDK configuration.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{DynamoDB: dynamodb.NewFromConfig(awsCfg), SES: sesapi.NewFromConfig(awsCfg), Secrets: secretsmanager.NewFromConfig(awsCfg),
		S3: s3.NewFromConfig(awsCfg)}
}

// Handler builds the erase function's SQS handler. It reads the generated
// secret (lookup keys are derived from it, as the submit function derives
// them), so it belongs in init, bounded by ctx. Metrics are EMF lines
// written to metricsOut (the function's stdout in Lambda), named for
// function.
func Handler(ctx context.Context, cfg *config.Erase, c Clients, log *slog.Logger, metricsOut io.Writer, function string) (*erasure.QueueHandler, error) {
	_, keys, err := app.Keys(ctx, cfg.SecretID, &secrets.Reader{Client: c.Secrets})
	if err != nil {
		return nil, err
	}
	store := &erasurestore.Store{Client: c.DynamoDB, Table: cfg.Table}
	svc := &erasure.Service{
		Finder: store, Deleter: store, Receipts: store, LookupKeys: keys,
		Notifier:  &erasuremail.Notifier{Client: c.SES, Sender: cfg.Sender, Contact: cfg.PrivacyContact, ConfigurationSet: cfg.ConfigurationSet},
		Person:    &erasuremail.PersonNotifier{Client: c.SES, Sender: cfg.Sender, ConfigurationSet: cfg.ConfigurationSet},
		Metrics:   &metrics.EMF{W: metricsOut, Function: function},
		Retention: cfg.ReceiptRetention, Now: time.Now, Log: log,
	}
	// Without a bucket the function still starts: people without files
	// are erased, and a request that finds files fails loudly (retried,
	// then dead-lettered with an alarm) instead of erasing copies and
	// leaving their files (erasure.ErrNoFilesBucket).
	if cfg.FilesBucket != "" && c.S3 != nil {
		svc.Files = &bucket.Bucket{Client: c.S3, Name: cfg.FilesBucket}
	} else {
		log.WarnContext(ctx, "no files bucket: erasure requests whose copies have files will fail", slog.String("setting", config.EnvFilesBucket))
	}
	return &erasure.QueueHandler{Service: svc, Log: log}, nil
}

// Lambda builds the function as Lambda runs it (app.Start): the clients
// from the SDK configuration, and metrics as EMF lines on stdout, which
// Lambda sends to CloudWatch.
func Lambda(ctx context.Context, cfg *config.Erase, awsCfg aws.Config, log *slog.Logger) (any, error) {
	h, err := Handler(ctx, cfg, NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
