// Command submit is the Lambda function behind POST/OPTIONS /f/{form}. It
// only wires: configuration and SDK clients are built once, at init, and the
// handler is started.
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
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		fail(log, err)
	}
	awsCfg, err := app.AWSConfig(context.Background())
	if err != nil {
		fail(log, err)
	}
	h, err := app.Submit(context.Background(), cfg, awsCfg, log)
	if err != nil {
		fail(log, err)
	}
	lambda.Start(h.Handle)
}

// fail stops init with the reason: Lambda reports a failed init on every
// invocation, which is louder than answering visitors with errors.
func fail(log *slog.Logger, err error) {
	log.Error("start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
