// Command privacy is the Lambda function behind the self-service erasure
// pages (/erasure, /erasure/confirm). Wiring only.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, err := config.LoadPrivacy(os.LookupEnv)
	if err != nil {
		fail(log, err)
	}
	ctx := context.Background()
	awsCfg, err := app.AWSConfig(ctx)
	if err != nil {
		fail(log, err)
	}
	h, err := app.Privacy(ctx, cfg, awsCfg, log)
	if err != nil {
		fail(log, err)
	}
	lambda.Start(h.Handle)
}

func fail(log *slog.Logger, err error) {
	log.Error("start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
