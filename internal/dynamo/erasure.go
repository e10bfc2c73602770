package dynamo

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

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
// request's id), AttrErasingAt to when: no legal hold lands on it for
// ClaimLifetime after that (holdstore), so a hold and an erasure that meet
// on one copy never leave it half kept.
const (
	AttrErasingRequest = "erasing_request"
	AttrErasingAt      = "erasing_at"
)

// ClaimLifetime is how long an erasure's claim keeps holds off a copy:
// far longer than one run of the erase function (30 s) and the clocks of
// the operator's machine and Lambda may differ, shorter than an erasure
// that failed for good waits in the dead-letter queue. After it, the claim
// is stale: a hold may keep the copy (and what is left of its files), and
// the erasure, redriven, finds it held.
const ClaimLifetime = 15 * time.Minute

// Claimed reports whether an item's erasure claim is still fresh at now.
func Claimed(it map[string]types.AttributeValue, now time.Time) bool {
	return it[AttrErasingRequest] != nil && int64(number(it[AttrErasingAt])) > now.Add(-ClaimLifetime).Unix()
}
