// Command erase is the Lambda function on the erasure queue: it deletes every
// stored copy of a person's submissions and leaves a PII-free receipt.
// Wiring only: see internal/app/erase.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/config"
)

func main() {
	app.Start(func(_ context.Context, awsCfg aws.Config, log *slog.Logger) (any, error) {
		cfg, err := config.LoadErase(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		return erase.Handler(cfg, erase.NewClients(awsCfg), log).Handle, nil
	})
}
