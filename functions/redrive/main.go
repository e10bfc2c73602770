// Command redrive is the scheduled Lambda function that re-sends emails
// still pending after the submit function (see internal/redrive). Wiring
// only; reserved concurrency 1 in the template is a second guard behind the
// per-copy claims.
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
	cfg, err := config.LoadRedrive(os.LookupEnv)
	if err != nil {
		fail(log, err)
	}
	awsCfg, err := app.AWSConfig(context.Background())
	if err != nil {
		fail(log, err)
	}
	// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch Logs.
	lambda.Start(app.Redrive(cfg, awsCfg, log, os.Stdout, lambdacontext.FunctionName).Handle)
}

func fail(log *slog.Logger, err error) {
	log.Error("start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
