package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/gcpolicy"
)

// Start is every Lambda main: it sets the collector for the function's
// memory (package gcpolicy), reads the function's configuration from the
// environment with load, builds the handler once, at init, with build (the
// configuration, the SDK configuration and Lambda's JSON logger), and
// starts it. A start-up error (a bad configuration key, an unreadable
// secret) is logged and ends init: Lambda then reports the failure on every
// invocation, which is louder than answering visitors with errors.
func Start[C any](load func(lookup func(string) (string, bool)) (C, error), build func(ctx context.Context, cfg C, awsCfg aws.Config, log *slog.Logger) (any, error)) {
	gcpolicy.Apply(gcpolicy.LambdaMemoryMB(os.Getenv), os.Getenv)
	log := lambdacontext.NewLogger()
	ctx := context.Background()
	awsCfg, err := AWSConfig(ctx)
	if err != nil {
		fail(log, err)
	}
	cfg, err := load(os.LookupEnv)
	if err != nil {
		fail(log, err)
	}
	h, err := build(ctx, cfg, awsCfg, log)
	if err != nil {
		fail(log, err)
	}
	lambda.Start(h)
}

func fail(log *slog.Logger, err error) {
	log.Error("start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
