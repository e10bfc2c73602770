// Command erase is the Lambda function on the erasure queue: it deletes every
// stored copy of a person's submissions and leaves a PII-free receipt.
// Wiring only: see internal/app/erase.
package main

import (
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/config"
)

func main() { app.Start(config.LoadErase, erase.Lambda) }
