// Command erase is the Lambda function on the erasure queue: it deletes every
// stored copy of a person's submissions and leaves a PII-free receipt. Wiring
// only.
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
	cfg, err := config.LoadErase(os.LookupEnv)
	if err != nil {
		fail(log, err)
	}
	awsCfg, err := app.AWSConfig(context.Background())
	if err != nil {
		fail(log, err)
	}
	lambda.Start(app.Erase(cfg, awsCfg, log).Handle)
}

func fail(log *slog.Logger, err error) {
	log.Error("start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
