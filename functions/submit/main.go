// Command submit is the Lambda function behind POST/OPTIONS /f/{form},
// GET /f/{form}/token and GET /f/{form}/kontakt.js (the embeddable script).
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
		cfg, err := config.Load(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		h, err := app.Submit(ctx, cfg, awsCfg, log)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
