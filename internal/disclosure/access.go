package disclosure

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// AccessMailer emails a person what is stored about them.
type AccessMailer interface {
	SendAccessReport(ctx context.Context, to, lang string, copies []Copy) error
}

// Access answers a person's verified "what do you hold about me?".
type Access struct {
	Reader Reader
	// LookupKeys computes the key copies are indexed under.
	LookupKeys *submission.LookupKeys
	Mailer     AccessMailer
	Receipts   Receipts
	Retention  time.Duration // how long receipts are kept
	Now        func() time.Time
	Log        *slog.Logger
}

// SendAccess emails every stored copy for address to address, and nowhere
// else: the caller has verified that the person reads that mailbox. An
// address with nothing stored gets an email that says so, so the pages
// answer the same either way. The receipt is written after the email,
// and holds the request id and the count, never the address.
func (a *Access) SendAccess(ctx context.Context, address, lang, requestID string) error {
	copies, err := ByAddress(ctx, a.Reader, a.LookupKeys, address)
	if err != nil {
		return fmt.Errorf("read copies: %w", err)
	}
	if err := a.Mailer.SendAccessReport(ctx, address, lang, copies); err != nil {
		return fmt.Errorf("send access report: %w", err)
	}
	now := a.Now().UTC()
	r := Receipt{ID: requestID, Kind: KindAccess, By: "self-service", Selector: "email", Count: len(copies), At: now, ExpiresAt: now.Add(a.Retention)}
	if err := a.Receipts.PutReceipt(ctx, r); err != nil {
		return fmt.Errorf("write access receipt: %w", err)
	}
	a.Log.InfoContext(ctx, "access report sent", slog.String("request_id", requestID), slog.Int("copies", len(copies)))
	return nil
}
