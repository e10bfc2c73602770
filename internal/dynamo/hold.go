package dynamo

// Legal holds. On a held copy expires_at is removed (DynamoDB's TTL never
// deletes it) and kept in held_expires_at; hold_ids names the holds on it
// and held_until is the latest of their ends. A hold is an item under
// HoldPrefix with no content; it expires with the hold. The registry item
// maps every hold to its end, for the sweep that ends holds on their date.
const (
	AttrHeldUntil     = "held_until"
	AttrHeldExpiresAt = "held_expires_at"
	AttrHoldIDs       = "hold_ids"

	KindHoldRegistry = "legal_hold_registry"
	HoldRegistryID   = "holds#registry"
	AttrHoldEnds     = "hold_ends"

	KindHold             = "legal_hold"
	HoldPrefix           = "hold#"
	AttrHoldReason       = "hold_reason"
	AttrHoldCreatedAt    = "hold_created_at"
	AttrHoldUntil        = "hold_until"
	AttrHoldLookupKey    = "hold_lookup_key"
	AttrHoldSubmissionID = "hold_submission_id"
	AttrHoldCopies       = "hold_copies"
)
