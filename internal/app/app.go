// Package app wires configuration, SDK clients and adapters into the
// handlers. The Lambda mains and the local stack both call it, so what runs
// locally is wired exactly as what runs on AWS. The privacy function's
// wiring is in package privacy below: it alone needs the SQS client, whose
// package initialisation every other function would pay for at cold start.
package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// Submit builds the submit function's HTTP handler. It reads secrets (see
// guard), so it belongs in init, bounded by ctx. One client per service:
// each costs cold-start time.
func Submit(ctx context.Context, cfg *config.Config, awsCfg aws.Config, log *slog.Logger) (*httpapi.Handler, error) {
	db := dynamodb.NewFromConfig(awsCfg)
	guard, err := guard(ctx, cfg, &secrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)}, db, log)
	if err != nil {
		return nil, err
	}
	store := &dynamo.Store{Client: db, Table: cfg.Table}
	mailer := &ses.Mailer{Client: sesapi.NewFromConfig(awsCfg), ConfigurationSet: cfg.ConfigurationSet}
	idem := submission.DefaultIdempotency
	idem.DuplicateWindow = cfg.DuplicateWindow
	svc := &submission.Service{
		Store: store, Mailer: mailer, Log: log,
		Timeouts: submission.DefaultTimeouts, Now: time.Now,
		Markers: &dynamo.Markers{Client: db, Table: cfg.Table}, Idempotency: idem,
	}
	return &httpapi.Handler{Config: cfg, Service: svc, Guard: guard, Log: log, Now: time.Now, NewID: submission.NewID}, nil
}

// Redrive builds the redrive function's scheduled handler. Metrics go to
// metricsOut as EMF lines (the function's stdout in Lambda).
func Redrive(cfg *config.Redrive, awsCfg aws.Config, log *slog.Logger, metricsOut io.Writer, function string) *redrive.Service {
	settings := redrive.DefaultSettings
	settings.MaxAttempts = cfg.MaxAttempts
	db := dynamodb.NewFromConfig(awsCfg)
	return &redrive.Service{
		Store:    &dynamo.Redrive{Client: db, Table: cfg.Table},
		Holds:    &hold.Service{Store: &dynamo.Holds{Client: db, Table: cfg.Table}, Now: time.Now, Log: log},
		Mailer:   &ses.Mailer{Client: sesapi.NewFromConfig(awsCfg), ConfigurationSet: cfg.ConfigurationSet},
		Form:     cfg.Form,
		Log:      log,
		Metrics:  &metrics.EMF{W: metricsOut, Function: function},
		Now:      time.Now,
		Settings: settings,
	}
}

// Erase builds the erase function's SQS handler.
func Erase(cfg *config.Erase, awsCfg aws.Config, log *slog.Logger) *erasure.QueueHandler {
	store := &dynamo.Erasure{Client: dynamodb.NewFromConfig(awsCfg), Table: cfg.Table}
	mail := sesapi.NewFromConfig(awsCfg)
	svc := &erasure.Service{
		Finder: store, Deleter: store, Receipts: store,
		Notifier:  &ses.Notifier{Client: mail, Sender: cfg.Sender, Contact: cfg.PrivacyContact, ConfigurationSet: cfg.ConfigurationSet},
		Person:    &ses.PersonNotifier{Client: mail, Sender: cfg.Sender, ConfigurationSet: cfg.ConfigurationSet},
		Retention: cfg.ReceiptRetention, Now: time.Now, Log: log,
	}
	return &erasure.QueueHandler{Service: svc, Log: log}
}
