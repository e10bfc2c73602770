// Command erase is the Lambda function on the erasure queue: it deletes every
// stored copy of a person's submissions and leaves a PII-free receipt.
// Wiring only: see internal/app.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(func(ctx context.Context, awsCfg aws.Config, log *slog.Logger) (any, error) {
		cfg, err := config.LoadErase(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		h, err := app.Erase(ctx, cfg, awsCfg, log)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
