// Package privacy wires the self-service privacy pages' function (access
// and erasure requests). It is
// apart from package app so that only this function links the SQS client:
// Go runs every linked package's initialisation at cold start.
package privacy

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/erasurequeue"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
)

// Handler builds the self-service erasure pages' handler. The HMAC key is
// read from Secrets Manager here, once, with its own deadline.
func Handler(ctx context.Context, cfg *config.Privacy, awsCfg aws.Config, log *slog.Logger) (*httpapi.ErasureHandler, error) {
	key, err := (&secrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)}).Get(ctx, cfg.TokenSecret)
	if err != nil {
		return nil, err
	}
	if len(key) < 32 {
		return nil, &config.Error{Key: config.EnvTokenSecret, Reason: "the secret is shorter than 32 characters; too weak to sign links"}
	}
	db := dynamodb.NewFromConfig(awsCfg)
	mail := sesapi.NewFromConfig(awsCfg)
	disclosed := &dynamo.Disclosure{Client: db, Table: cfg.Table}
	svc := &erasure.SelfService{
		Tokens:  erasure.Tokens{Key: []byte(key), Lifetime: cfg.TokenLifetime},
		Store:   &dynamo.SelfService{Client: db, Table: cfg.Table},
		Counter: &dynamo.RateCounter{Client: db, Table: cfg.Table},
		Queue:   &erasurequeue.Queue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL},
		Access: &disclosure.Access{Reader: disclosed, Receipts: disclosed, Mailer: &ses.AccessMailer{Client: mail, Sender: cfg.Sender},
			Retention: cfg.ReceiptRetention, Now: time.Now, Log: log},
		Mailer: &ses.LinkMailer{Client: mail, Sender: cfg.Sender},
		// A person rarely needs more than a few links an hour; more looks
		// like someone flooding a stranger's mailbox.
		Limit: 3, Window: time.Hour,
		Now: time.Now, Log: log,
	}
	return &httpapi.ErasureHandler{Config: cfg, Service: svc, Log: log}, nil
}
