package dynamo

// Attributes the redrive function writes.
const (
	AttrClaimedAt = "claimed_at"
	AttrFailedAt  = "failed_at"
)
