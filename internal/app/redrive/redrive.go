// Package redrive wires the scheduled redrive function, which re-sends the
// emails still pending after the submit function (see internal/redrive).
package redrive

import (
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/dynamo/redrivestore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the redrive function calls.
type Clients struct {
	DynamoDB interface {
		redrivestore.API
		holdstore.API
	}
	SES ses.MailerAPI
	// S3 reads back the files of copies, to attach them again.
	S3 interface {
		bucket.API
		bucket.RetagAPI
	}
}

// NewClients builds one client per service from the SDK configuration.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{DynamoDB: dynamodb.NewFromConfig(awsCfg), SES: sesapi.NewFromConfig(awsCfg), S3: s3.NewFromConfig(awsCfg)}
}

// Service builds the redrive function's handler. Metrics are EMF lines
// written to metricsOut (the function's stdout in Lambda), named for
// function.
func Service(cfg *config.Redrive, c Clients, log *slog.Logger, metricsOut io.Writer, function string) *redrive.Service {
	settings := redrive.DefaultSettings
	settings.MaxAttempts = cfg.MaxAttempts
	settings.Release = cfg.Release
	// A re-sent email carries the same files as the first would have:
	// attached again from the bucket, or linked (links need the public
	// URL, which the template gives this function). The hold sweep ends
	// holds on their date and gives their copies' files back their
	// retention tag.
	mailer := &ses.Mailer{Client: c.SES, ConfigurationSet: cfg.ConfigurationSet, Links: ses.Links(cfg.PublicURL), LinkOnly: cfg.MalwareScan}
	holds := &holdstore.Store{Client: c.DynamoDB, Table: cfg.Table}
	sweep := &hold.Service{Store: holds, FileStore: holds, Now: time.Now, Log: log}
	if cfg.FilesBucket != "" && c.S3 != nil {
		mailer.Files = &bucket.Bucket{Client: c.S3, Name: cfg.FilesBucket}
		sweep.Files = &bucket.Tagger{Client: c.S3, Name: cfg.FilesBucket}
	}
	return &redrive.Service{
		Store:    &redrivestore.Store{Client: c.DynamoDB, Table: cfg.Table},
		Holds:    sweep,
		Mailer:   mailer,
		Form:     cfg.Form,
		Log:      log,
		Metrics:  &metrics.EMF{W: metricsOut, Function: function},
		Now:      time.Now,
		Settings: settings,
	}
}

// Lambda builds the function as Lambda runs it (app.Start): the clients
// from the SDK configuration, and metrics as EMF lines on stdout, which
// Lambda sends to CloudWatch.
func Lambda(_ context.Context, cfg *config.Redrive, awsCfg aws.Config, log *slog.Logger) (any, error) {
	return Service(cfg, NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName).Handle, nil
}
