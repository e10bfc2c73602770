// Command erase is the Lambda function on the erasure queue: it deletes every
// stored copy of a person's submissions and leaves a PII-free receipt.
// Wiring only: see internal/app/erase.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(config.LoadErase, func(ctx context.Context, cfg *config.Erase, awsCfg aws.Config, log *slog.Logger) (any, error) {
		// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch.
		h, err := erase.Handler(ctx, cfg, erase.NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
