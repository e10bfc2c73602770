package dynamo

// Receipt items live in the same table under their own id prefix; they
// carry no lookup key and no pending flag, so neither index sees them.
const (
	KindReceipt     = "erasure_receipt"
	ReceiptIDPrefix = "receipt#"
	AttrRequestID   = "request_id"
	AttrSource      = "source"
	AttrErasedCount = "erased_count"
	AttrRequestedAt = "requested_at"
	AttrCompletedAt = "completed_at"
	AttrHeldCount   = "held_count"
	AttrErasedFiles = "erased_files"
)

// AttrErasingRequest is set on a copy that an erasure has claimed (the
// request's id): no legal hold lands on it from then on (holdstore), so a
// hold and an erasure that meet on one copy never leave it half kept.
const AttrErasingRequest = "erasing_request"
