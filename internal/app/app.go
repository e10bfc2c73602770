// Package app wires configuration, SDK clients and adapters into the
// handlers. The Lambda mains and the local stack both call it, so what runs
// locally is wired exactly as what runs on AWS.
package app

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// Submit builds the submit function's HTTP handler.
func Submit(cfg *config.Config, awsCfg aws.Config, log *slog.Logger) *httpapi.Handler {
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(awsCfg), Table: cfg.Table}
	mailer := &ses.Mailer{Client: sesapi.NewFromConfig(awsCfg)}
	svc := &submission.Service{
		Store: store, Mailer: mailer, Log: log,
		Timeouts: submission.DefaultTimeouts, Now: time.Now,
	}
	return &httpapi.Handler{Config: cfg, Service: svc, Log: log, Now: time.Now, NewID: submission.NewID}
}

// Erase builds the erase function's SQS handler.
func Erase(cfg *config.Erase, awsCfg aws.Config, log *slog.Logger) *erasure.QueueHandler {
	store := &dynamo.Erasure{Client: dynamodb.NewFromConfig(awsCfg), Table: cfg.Table}
	svc := &erasure.Service{
		Finder: store, Deleter: store, Receipts: store,
		Notifier:  &ses.Notifier{Client: sesapi.NewFromConfig(awsCfg), Sender: cfg.Sender, Contact: cfg.PrivacyContact},
		Retention: cfg.ReceiptRetention, Now: time.Now, Log: log,
	}
	return &erasure.QueueHandler{Service: svc, Log: log}
}
