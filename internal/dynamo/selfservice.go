package dynamo

// A pending self-service request, erasure or access (the address, until
// the link is used or expires), is an item of its own; the kind and the id
// prefix kept their first names. It carries no lookup key, so erasure's
// index never sees it, and it expires by TTL. Its per-address limit uses
// RateCounter.
const (
	KindPendingErasure     = "pending_erasure"
	PendingErasureIDPrefix = "erasure-pending#"
	AttrEmail              = "email"
	// AttrPurpose is "access" on a pending access request; an item
	// without it is an erasure (items written before access existed).
	AttrPurpose = "purpose"
)
