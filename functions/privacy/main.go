// Command privacy is the Lambda function behind the self-service erasure
// pages (/erasure, /erasure/confirm). Wiring only: see internal/app/privacy.
package main

import (
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/privacy"
	"github.com/opt-e/kontakt/internal/config"
)

func main() { app.Start(config.LoadPrivacy, privacy.Lambda) }
