// Command redrive is the scheduled Lambda function that re-sends emails
// still pending after the submit function (see internal/redrive). Wiring
// only; reserved concurrency 1 in the template is a second guard behind the
// per-copy claims.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/redrive"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(config.LoadRedrive, func(_ context.Context, cfg *config.Redrive, awsCfg aws.Config, log *slog.Logger) (any, error) {
		// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch.
		return redrive.Service(cfg, redrive.NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName).Handle, nil
	})
}
