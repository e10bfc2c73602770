// Package privacy wires the self-service erasure pages' function. It is
// apart from package app so that only this function links the SQS client:
// Go runs every linked package's initialisation at cold start.
package privacy

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/erasurequeue"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
)

// Limits of the erasure page per hour (erasure.AskLimits): a person rarely
// needs more than a few links an hour, a household or an office behind one
// address a few more; more looks like someone flooding mailboxes. The
// page's ceiling bounds what a flood from many sources can send (and cost)
// in an hour; ErasurePageCeilingAlarm fires when it holds.
var Limits = erasure.AskLimits{PerMailbox: 3, PerSource: 10, PerPage: 100}

// Handler builds the self-service erasure pages' handler. The link-signing
// key and the generated secret are read from Secrets Manager here, once,
// with a deadline each. Metrics go to stdout as EMF lines.
func Handler(ctx context.Context, cfg *config.Privacy, awsCfg aws.Config, log *slog.Logger) (*httpapi.ErasureHandler, error) {
	sr := &secrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)}
	key, err := sr.Get(ctx, cfg.TokenSecret)
	if err != nil {
		return nil, err
	}
	if len(key) < 32 {
		return nil, &config.Error{Key: config.EnvTokenSecret, Reason: "the secret is shorter than 32 characters; too weak to sign links"}
	}
	lookupKeys, ipKey, err := app.Secrets(ctx, cfg.SecretID, sr)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsCfg)
	svc := &erasure.SelfService{
		Tokens:     erasure.Tokens{Key: []byte(key), Lifetime: cfg.TokenLifetime},
		Store:      &dynamo.SelfService{Client: db, Table: cfg.Table},
		Counter:    &dynamo.RateCounter{Client: db, Table: cfg.Table},
		Queue:      &erasurequeue.Queue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL},
		Mailer:     &ses.LinkMailer{Client: sesapi.NewFromConfig(awsCfg), Sender: cfg.Sender, ConfigurationSet: cfg.ConfigurationSet},
		LookupKeys: lookupKeys,
		HashSource: func(ip string) string { return abuse.HashIP(ipKey, ip) },
		Limits:     Limits, Window: time.Hour,
		Metrics: &metrics.EMF{W: os.Stdout, Function: lambdacontext.FunctionName},
		Now:     time.Now, Log: log,
	}
	return &httpapi.ErasureHandler{Config: cfg, Service: svc, Log: log}, nil
}
