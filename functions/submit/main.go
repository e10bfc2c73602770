// Command submit is the Lambda function behind POST/OPTIONS /f/{form},
// GET /f/{form}/token and GET /f/{form}/kontakt.js (the embeddable script).
// Wiring only: see internal/app/submit.
package main

import (
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
)

func main() { app.Start(config.Load, submit.Lambda) }
