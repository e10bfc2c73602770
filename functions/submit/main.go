// Command submit is the Lambda function behind POST/OPTIONS /f/{form}. It
// only wires: configuration, SDK clients (built once, at init), adapters and
// the HTTP handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

func main() {
	log := lambdacontext.NewLogger()
	h, err := newHandler(context.Background(), log)
	if err != nil {
		// Failing init with the reason is the loudest signal Lambda offers:
		// every invocation reports it and nothing is half-accepted.
		log.Error("start-up failed", slog.String("error", err.Error()))
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func newHandler(ctx context.Context, log *slog.Logger) (*httpapi.Handler, error) {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(awsCfg), Table: cfg.Table}
	mailer := &ses.Mailer{Client: sesapi.NewFromConfig(awsCfg)}
	svc := &submission.Service{
		Store: store, Mailer: mailer, Log: log,
		Timeouts: submission.DefaultTimeouts, Now: time.Now,
	}
	return &httpapi.Handler{Config: cfg, Service: svc, Log: log, Now: time.Now, NewID: submission.NewID}, nil
}
