// Package disclosure is the only way stored content leaves the table
// besides the staff emails: a person's own access request (every stored
// copy, emailed to the verified address that asked), and an operator's
// export for an authority or to settle a dispute (a JSON file, with a
// required reason). Each leaves a receipt with no content: what kind of
// disclosure, when, by whom, why, and how many copies.
package disclosure

import (
	"context"
	"errors"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// Copy is a stored submission as disclosed: all of it.
type Copy struct {
	submission.Submission
	// Status is the email's delivery status (pending, sent, failed).
	Status string
	// HeldUntil is set when the copy is under a legal hold; ExpiresAt is
	// then zero (its TTL is lifted until the hold ends).
	HeldUntil time.Time
}

// KeptUntil is when the copy will be deleted: the end of its retention, or
// of its legal hold.
func (c Copy) KeptUntil() time.Time {
	if !c.HeldUntil.IsZero() {
		return c.HeldUntil
	}
	return c.ExpiresAt
}

// ByAddress reads every copy for address under every key erasure looks
// under (submission.LookupKeys.All), so that an access request shows all
// that an erasure would delete, older copies of an internationalised
// address included.
func ByAddress(ctx context.Context, r Reader, keys *submission.LookupKeys, address string) ([]Copy, error) {
	return submission.FindUnderKeys(ctx, keys.All(address), r.ByLookupKey, func(c Copy) string { return c.ID })
}

// Reader reads whole copies. Copies past their TTL (not yet deleted by
// DynamoDB) are left out: they must look deleted.
type Reader interface {
	ByLookupKey(ctx context.Context, key string) ([]Copy, error)
	// ByID returns the copy, or nil when there is none.
	ByID(ctx context.Context, id string) (*Copy, error)
	// ByForm returns a form's copies received in [from, to).
	ByForm(ctx context.Context, formID string, from, to time.Time) ([]Copy, error)
}

// Receipt kinds.
const (
	KindAccess = "access"
	KindExport = "export"
)

// Receipt records a disclosure without its content.
type Receipt struct {
	ID   string
	Kind string
	// By is who disclosed: the operator's identity for an export,
	// "self-service" for an access request.
	By     string
	Reason string
	// Selector says what was asked for, without an address: "email" (the
	// address is not kept), "id:<submission id>", or
	// "form:<form>:<from>..<to>".
	Selector  string
	Count     int
	At        time.Time
	ExpiresAt time.Time
}

// Receipts stores receipts.
type Receipts interface {
	PutReceipt(ctx context.Context, r Receipt) error
}

// ErrNoReason: an export needs a reason.
var ErrNoReason = errors.New("a reason is required (--reason): it is kept in the export's receipt")
