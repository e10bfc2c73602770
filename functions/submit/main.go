// Command submit is the Lambda function behind POST/OPTIONS /f/{form}.
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
	app.Start(func(_ context.Context, awsCfg aws.Config, log *slog.Logger) (any, error) {
		cfg, err := config.Load(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		return app.Submit(cfg, awsCfg, log).Handle, nil
	})
}
