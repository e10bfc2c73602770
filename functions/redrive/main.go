// Command redrive is the scheduled Lambda function that re-sends emails
// still pending after the submit function (see internal/redrive). Wiring
// only; reserved concurrency 1 in the template is a second guard behind the
// per-copy claims.
package main

import (
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/redrive"
	"github.com/opt-e/kontakt/internal/config"
)

func main() { app.Start(config.LoadRedrive, redrive.Lambda) }
