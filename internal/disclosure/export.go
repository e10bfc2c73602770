package disclosure

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// ExportSelector names what to export: exactly one of an address, a
// submission id, or a form with a range of days.
type ExportSelector struct {
	Email        string
	SubmissionID string
	FormID       string
	// From and To are the first and the last day (UTC) of a form's range.
	From, To time.Time
}

// Selector errors: the command's words are off, and the error says how to
// put them (kontakt answers these as usage errors).
var (
	ErrSelector      = errors.New("give exactly one of --email, --id, or --form with --from and --to")
	ErrRange         = errors.New("--from and --to must be dates like 2026-01-31, --from not after --to")
	ErrInvalidEmail  = errors.New("--email is not one valid address")
	ErrInvalidCopyID = errors.New("--id is not a submission id")
)

// ErrUnknownCopy: the selector's words are right, but no stored copy has
// the id.
var ErrUnknownCopy = errors.New("no stored submission has that id")

func (s ExportSelector) check() error {
	n := 0
	for _, set := range []bool{s.Email != "", s.SubmissionID != "", s.FormID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return ErrSelector
	}
	switch {
	case s.Email != "":
		if a, code := submission.ParseReplyTo(s.Email); code != "" || a != s.Email {
			return ErrInvalidEmail
		}
	case s.SubmissionID != "":
		if strings.ContainsAny(s.SubmissionID, "#/ ") || len(s.SubmissionID) > 64 {
			return ErrInvalidCopyID
		}
	default:
		if s.From.IsZero() || s.To.IsZero() || s.To.Before(s.From) {
			return ErrRange
		}
	}
	return nil
}

// describe is the selector as a receipt keeps it: never the address.
func (s ExportSelector) describe() string {
	switch {
	case s.Email != "":
		return "email"
	case s.SubmissionID != "":
		return "id:" + s.SubmissionID
	}
	return "form:" + s.FormID + ":" + s.From.Format(time.DateOnly) + ".." + s.To.Format(time.DateOnly)
}

// Exporter writes disclosure exports.
type Exporter struct {
	Reader Reader
	// LookupKeys computes the key copies are indexed under.
	LookupKeys *submission.LookupKeys
	Receipts   Receipts
	Retention  time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// File is the export's JSON document.
type File struct {
	Format     string       `json:"format"`
	ReceiptID  string       `json:"receipt_id"`
	ExportedAt time.Time    `json:"exported_at"`
	ExportedBy string       `json:"exported_by"`
	Reason     string       `json:"reason"`
	Selector   FileSelector `json:"selector"`
	Count      int          `json:"count"`
	Copies     []FileCopy   `json:"copies"`
}

// FileSelector is what was asked for, as the recipient reads it.
type FileSelector struct {
	Email        string `json:"email,omitempty"`
	SubmissionID string `json:"id,omitempty"`
	FormID       string `json:"form,omitempty"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
}

// FileCopy is one stored copy in full.
type FileCopy struct {
	ID         string             `json:"id"`
	FormID     string             `json:"form"`
	ReceivedAt time.Time          `json:"received_at"`
	ExpiresAt  *time.Time         `json:"expires_at,omitempty"`
	HeldUntil  *time.Time         `json:"legal_hold_until,omitempty"`
	Status     string             `json:"email_status,omitempty"`
	ReplyTo    string             `json:"reply_to,omitempty"`
	Subject    string             `json:"subject,omitempty"`
	Language   string             `json:"language,omitempty"`
	Fields     []submission.Field `json:"fields"`
	Consents   []FileConsent      `json:"consents,omitempty"`
	Files      []FileAttachment   `json:"files,omitempty"`
}

// FileAttachment is a file sent with a copy: what it is and where the
// files bucket keeps it, not its content (fetch it from the bucket by its
// key while it is kept). Never the download link's token.
type FileAttachment struct {
	Field string `json:"field"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Size  int64  `json:"size"`
	Key   string `json:"bucket_key"`
}

// FileConsent is the evidence of one consent.
type FileConsent struct {
	Purpose       string    `json:"purpose"`
	Field         string    `json:"field"`
	Value         string    `json:"value"`
	Given         bool      `json:"given"`
	PolicyVersion string    `json:"policy_version"`
	At            time.Time `json:"at"`
}

// FormatVersion names the file's layout.
const FormatVersion = "kontakt-export/1"

// Export reads the copies sel names and writes them to w as JSON, after
// writing the receipt: no content leaves without one. by is who runs it
// (the operator's AWS identity, or the local user).
func (e *Exporter) Export(ctx context.Context, sel ExportSelector, reason, by string, w io.Writer) (Receipt, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Receipt{}, ErrNoReason
	}
	if err := sel.check(); err != nil {
		return Receipt{}, err
	}
	var copies []Copy
	switch {
	case sel.Email != "":
		cs, err := ByAddress(ctx, e.Reader, e.LookupKeys, sel.Email)
		if err != nil {
			return Receipt{}, fmt.Errorf("read copies: %w", err)
		}
		copies = cs
	case sel.SubmissionID != "":
		c, err := e.Reader.ByID(ctx, sel.SubmissionID)
		if err != nil {
			return Receipt{}, fmt.Errorf("read copy: %w", err)
		}
		if c == nil {
			return Receipt{}, ErrUnknownCopy
		}
		copies = []Copy{*c}
	default:
		cs, err := e.Reader.ByForm(ctx, sel.FormID, sel.From, sel.To.AddDate(0, 0, 1))
		if err != nil {
			return Receipt{}, fmt.Errorf("read form copies: %w", err)
		}
		copies = cs
	}
	now := e.Now().UTC()
	r := Receipt{ID: "exp-" + strings.ToLower(rand.Text()), Kind: KindExport, By: by, Reason: reason, Selector: sel.describe(),
		Count: len(copies), At: now, ExpiresAt: now.Add(e.Retention)}
	f := File{Format: FormatVersion, ReceiptID: r.ID, ExportedAt: now, ExportedBy: by, Reason: reason, Count: len(copies), Copies: make([]FileCopy, 0, len(copies))}
	f.Selector = FileSelector{Email: sel.Email, SubmissionID: sel.SubmissionID, FormID: sel.FormID}
	if sel.FormID != "" {
		f.Selector.From, f.Selector.To = sel.From.Format(time.DateOnly), sel.To.Format(time.DateOnly)
	}
	for _, c := range copies {
		f.Copies = append(f.Copies, fileCopy(c))
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return Receipt{}, fmt.Errorf("encode export: %w", err)
	}
	if err := e.Receipts.PutReceipt(ctx, r); err != nil {
		return Receipt{}, fmt.Errorf("write export receipt: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return r, fmt.Errorf("write export: %w", err)
	}
	e.Log.InfoContext(ctx, "disclosure export written", slog.String("receipt_id", r.ID), slog.String("selector_kind", selectorKind(sel)),
		slog.Int("copies", r.Count))
	return r, nil
}

func selectorKind(s ExportSelector) string {
	switch {
	case s.Email != "":
		return "email"
	case s.SubmissionID != "":
		return "id"
	}
	return "form"
}

func fileCopy(c Copy) FileCopy {
	fc := FileCopy{ID: c.ID, FormID: c.FormID, ReceivedAt: c.ReceivedAt, Status: c.Status, ReplyTo: c.ReplyTo,
		Subject: c.Subject, Language: c.Language, Fields: c.Fields}
	if fc.Fields == nil {
		fc.Fields = []submission.Field{}
	}
	if !c.ExpiresAt.IsZero() {
		t := c.ExpiresAt
		fc.ExpiresAt = &t
	}
	if !c.HeldUntil.IsZero() {
		t := c.HeldUntil
		fc.HeldUntil = &t
	}
	for _, f := range c.Files {
		fc.Files = append(fc.Files, FileAttachment{Field: f.Field, Name: f.Name, Type: f.Type, Size: f.Size, Key: f.Key})
	}
	for _, k := range c.Consents {
		fc.Consents = append(fc.Consents, FileConsent{Purpose: k.Purpose, Field: k.Field, Value: k.Value, Given: k.Given, PolicyVersion: k.PolicyVersion, At: k.At})
	}
	return fc
}
