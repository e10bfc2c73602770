// Command privacy is the Lambda function behind the self-service erasure
// pages (/erasure, /erasure/confirm). Wiring only: see internal/app/privacy.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/privacy"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(config.LoadPrivacy, func(ctx context.Context, cfg *config.Privacy, awsCfg aws.Config, log *slog.Logger) (any, error) {
		// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch.
		h, err := privacy.Handler(ctx, cfg, privacy.NewClients(awsCfg), log, os.Stdout, lambdacontext.FunctionName)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
