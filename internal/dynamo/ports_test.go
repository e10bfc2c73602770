package dynamo_test

import (
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/dynamo"
)

// Asserted here rather than in package dynamo, so that the functions
// without abuse rules (erase, redrive) do not link package abuse.
var _ abuse.Counter = (*dynamo.RateCounter)(nil)
