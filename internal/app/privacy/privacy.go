// Package privacy wires the self-service privacy pages' function (access
// and erasure requests), the only one that links the SQS client.
package privacy

import (
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/disclosurestore"
	"github.com/opt-e/kontakt/internal/dynamo/selfservicestore"
	"github.com/opt-e/kontakt/internal/email/accessmail"
	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/erasurequeue"
	"github.com/opt-e/kontakt/internal/httpapi/privacypages"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the privacy function calls.
type Clients struct {
	// DynamoDB: self-service requests and their counters, and the lookup
	// index for access reports.
	DynamoDB interface {
		selfservicestore.API
		disclosurestore.API
	}
	SES     ses.API
	SQS     erasurequeue.API
	Secrets secrets.API
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

// Limits of the erasure page per hour (erasure.AskLimits): a person rarely
// needs more than a few links an hour, a household or an office behind one
// address a few more; more looks like someone flooding mailboxes. The
// page's ceiling bounds what a flood from many sources can send (and cost)
// in an hour; ErasurePageCeilingAlarm fires when it holds.
var Limits = erasure.AskLimits{PerMailbox: 3, PerSource: 10, PerPage: 100}

// Handler builds the self-service privacy pages' handler. The link-signing
// key and the generated secret (lookup keys and the IP-hash key, which key
// the page's counters) are read from Secrets Manager here, once, at the
// same time (app.Prefetch), with a deadline each. Metrics are EMF lines written to metricsOut (the
// function's stdout in Lambda), named for function.
func Handler(ctx context.Context, cfg *config.Privacy, c Clients, log *slog.Logger, metricsOut io.Writer, function string) (*privacypages.Handler, error) {
	sr := app.Prefetch(ctx, &secrets.Reader{Client: c.Secrets}, cfg.TokenSecret, cfg.SecretID)
	key, err := sr.Get(ctx, cfg.TokenSecret)
	if err != nil {
		return nil, &config.Error{Key: config.EnvTokenSecret, Reason: err.Error()}
	}
	if len(key) < 32 {
		return nil, &config.Error{Key: config.EnvTokenSecret, Reason: "the secret is shorter than 32 characters; too weak to sign links"}
	}
	secret, lookupKeys, err := app.Keys(ctx, cfg.SecretID, sr)
	if err != nil {
		return nil, err
	}
	_, ipKey, err := abuse.Keys(secret)
	if err != nil {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	disclosed := &disclosurestore.Store{Client: c.DynamoDB, Table: cfg.Table}
	svc := &erasure.SelfService{
		Tokens:  erasure.Tokens{Key: []byte(key), Lifetime: cfg.TokenLifetime},
		Store:   &selfservicestore.Store{Client: c.DynamoDB, Table: cfg.Table},
		Counter: &dynamo.RateCounter{Client: c.DynamoDB, Table: cfg.Table},
		Queue:   &erasurequeue.Queue{Client: c.SQS, URL: cfg.QueueURL},
		Access: &disclosure.Access{Reader: disclosed, Receipts: disclosed, LookupKeys: lookupKeys,
			Mailer:    &accessmail.Mailer{Client: c.SES, Sender: cfg.Sender, ConfigurationSet: cfg.ConfigurationSet},
			Retention: cfg.ReceiptRetention, Now: time.Now, Log: log},
		Mailer:     &erasuremail.LinkMailer{Client: c.SES, Sender: cfg.Sender, ConfigurationSet: cfg.ConfigurationSet},
		LookupKeys: lookupKeys,
		HashSource: func(ip string) string { return abuse.HashIP(ipKey, ip) },
		Limits:     Limits, Window: time.Hour,
		Metrics: &metrics.EMF{W: metricsOut, Function: function},
		Now:     time.Now, Log: log,
	}
	return &privacypages.Handler{Config: cfg, Service: svc, Log: log}, nil
}

// Lambda builds the function as Lambda runs it (app.Start): the clients
// from the SDK configuration, and metrics as EMF lines on stdout, which
// Lambda sends to CloudWatch.
func Lambda(ctx context.Context, cfg *config.Privacy, awsCfg aws.Config, log *slog.Logger) (any, error) {
	h, err := Handler(ctx, cfg, NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
