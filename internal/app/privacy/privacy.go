// Package privacy wires the self-service erasure pages' function, the only
// one that links the SQS client.
package privacy

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"context"
	"log/slog"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/erasurequeue"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the privacy function calls.
type Clients struct {
	DynamoDB dynamo.SelfServiceAPI
	SES      ses.API
	SQS      erasurequeue.API
	Secrets  secrets.API
}

// NewClients builds one client per service from the SDK configuration.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(awsCfg),
		SES:      sesapi.NewFromConfig(awsCfg),
		SQS:      sqs.NewFromConfig(awsCfg),
		Secrets:  secretsmanager.NewFromConfig(awsCfg),
	}
}

// Handler builds the self-service erasure pages' handler. The HMAC key is
// read from Secrets Manager here, once, with its own deadline.
func Handler(ctx context.Context, cfg *config.Privacy, c Clients, log *slog.Logger) (*httpapi.ErasureHandler, error) {
	key, err := (&secrets.Reader{Client: c.Secrets}).Get(ctx, cfg.TokenSecret)
	if err != nil {
		return nil, err
	}
	if len(key) < 32 {
		return nil, &config.Error{Key: config.EnvTokenSecret, Reason: "the secret is shorter than 32 characters; too weak to sign links"}
	}
	svc := &erasure.SelfService{
		Tokens:  erasure.Tokens{Key: []byte(key), Lifetime: cfg.TokenLifetime},
		Store:   &dynamo.SelfService{Client: c.DynamoDB, Table: cfg.Table},
		Counter: &dynamo.RateCounter{Client: c.DynamoDB, Table: cfg.Table},
		Queue:   &erasurequeue.Queue{Client: c.SQS, URL: cfg.QueueURL},
		Mailer:  &ses.LinkMailer{Client: c.SES, Sender: cfg.Sender},
		// A person rarely needs more than a few links an hour; more looks
		// like someone flooding a stranger's mailbox.
		Limit: 3, Window: time.Hour,
		Now: time.Now, Log: log,
	}
	return &httpapi.ErasureHandler{Config: cfg, Service: svc, Log: log}, nil
}
