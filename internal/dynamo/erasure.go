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
