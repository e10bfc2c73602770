// Package deadline gives every external call of every function its own
// deadline. A call without one waits as long as the SDK's retries let it,
// and the function then ends in a Lambda timeout instead of a clean answer.
// One helper, so that every function reasons about its time the same way.
package deadline

import (
	"context"
	"time"
)

// Bound returns a context for one external call: it ends after limit, or
// reserve before ctx's own deadline (the Lambda deadline), whichever comes
// first. reserve is the time the caller still needs after the call (to
// record the outcome, to answer); a call that would get less than nothing
// gets a millisecond, so it fails fast with context.DeadlineExceeded rather
// than not at all. ctx without a deadline (a test, a local tool) still gets
// limit.
func Bound(ctx context.Context, limit, reserve time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - reserve; left < limit {
			limit = max(left, time.Millisecond)
		}
	}
	return context.WithTimeout(ctx, limit)
}
