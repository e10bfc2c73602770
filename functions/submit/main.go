// Command submit is the Lambda function behind POST/OPTIONS /f/{form},
// GET /f/{form}/token and GET /f/{form}/kontakt.js (the embeddable script).
// Wiring only: see internal/app/submit.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(config.Load, func(ctx context.Context, cfg *config.Config, awsCfg aws.Config, log *slog.Logger) (any, error) {
		// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch.
		h, err := submit.Handler(ctx, cfg, submit.NewClients(awsCfg), log, os.Stdout)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
