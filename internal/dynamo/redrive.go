package dynamo

// Attributes the redrive function writes.
const (
	AttrClaimedAt = "claimed_at"
	AttrFailedAt  = "failed_at"
)

// RedriveIAMActions are the DynamoDB actions the redrive function calls:
// Query on the pending index only, UpdateItem on the table.
// GetItem and DeleteItem end legal holds whose date has passed (holdstore).
var RedriveIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
