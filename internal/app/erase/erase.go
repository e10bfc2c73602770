// Package erase wires the erase function, which acts on the erasure queue
// (see internal/erasure).
package erase

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"log/slog"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the erase function calls.
type Clients struct {
	DynamoDB dynamo.ErasureAPI
	SES      ses.API
}

// NewClients builds one client per service from the SDK configuration.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{DynamoDB: dynamodb.NewFromConfig(awsCfg), SES: sesapi.NewFromConfig(awsCfg)}
}

// Handler builds the erase function's SQS handler.
func Handler(cfg *config.Erase, c Clients, log *slog.Logger) *erasure.QueueHandler {
	store := &dynamo.Erasure{Client: c.DynamoDB, Table: cfg.Table}
	svc := &erasure.Service{
		Finder: store, Deleter: store, Receipts: store,
		Notifier:  &ses.Notifier{Client: c.SES, Sender: cfg.Sender, Contact: cfg.PrivacyContact, ConfigurationSet: cfg.ConfigurationSet},
		Retention: cfg.ReceiptRetention, Now: time.Now, Log: log,
	}
	return &erasure.QueueHandler{Service: svc, Log: log}
}
