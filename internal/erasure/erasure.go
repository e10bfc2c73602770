// Package erasure keeps the promise "everything about a person is deleted on
// request": it finds every stored copy for an address through the lookup
// index, tells the privacy contact which submissions went (so staff can
// delete the matching emails, which this system cannot reach), deletes them
// and leaves a receipt that proves it without any personal data.
package erasure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// Sources of a request.
const (
	SourceOperator    = "operator"
	SourceSelfService = "self-service"
)

// Request is one erasure queue message.
type Request struct {
	Email     string `json:"email"`
	RequestID string `json:"request_id"`
	Source    string `json:"source"`
	// Language is the visitor's ("nb" or "en"), for the confirmation a
	// self-service request gets when it is done; optional.
	Language string `json:"language,omitempty"`
}

// Copy is what erasure knows of a stored submission: never its content.
type Copy struct {
	ID         string
	FormID     string
	ReceivedAt time.Time
	// HeldUntil is set when the copy is under a legal hold: erasure keeps
	// it, and says so, until then.
	HeldUntil time.Time
	// Files are the files sent with it (where the bucket keeps each, its
	// name and size; never their content). They go with the copy, or are
	// kept with it under a hold.
	Files []submission.File
}

// Receipt proves an erasure without personal data.
type Receipt struct {
	RequestID string
	Source    string
	// Count is the copies erased; Held the copies kept under a legal hold,
	// the last of them until HeldUntil.
	Count     int
	Held      int
	HeldUntil time.Time
	// Files counts the files erased with the copies.
	Files     int
	At        time.Time
	ExpiresAt time.Time
	Complete  bool
}

// Finder lists every copy for a lookup key, expired ones included: a copy
// past its TTL is still personal data until DynamoDB has deleted it.
type Finder interface {
	FindByLookupKey(ctx context.Context, key string) ([]Copy, error)
}

// Deleter claims copies for an erasure and deletes them.
type Deleter interface {
	// ClaimCopy marks the copy as being erased by requestID unless a legal
	// hold covers it now, and for a while (longer than one run of the
	// erasure) no hold can land on it (package hold). A hold placed after
	// the copies were found must still keep its copy, and erasure must not
	// delete files a hold then tries to keep: the claim is the moment one
	// of the two wins. A claim whose erasure failed goes stale, so that a
	// later hold still keeps what is left.
	ClaimCopy(ctx context.Context, id, requestID string) (Claim, error)
	// DeleteCopies deletes copies by id; one that is gone is not an error.
	DeleteCopies(ctx context.Context, ids []string) error
}

// Claim is how a copy stood when erasure claimed it.
type Claim struct {
	// Gone: deleted since it was found (by an earlier attempt at the same
	// request, another request, or its TTL).
	Gone bool
	// HeldUntil is set when a legal hold covers the copy: it was not
	// claimed, and is kept.
	HeldUntil time.Time
}

// Claimed reports whether the copy is now erasure's to delete.
func (c Claim) Claimed() bool { return !c.Gone && c.HeldUntil.IsZero() }

// Files deletes files from the bucket by key (bucket.Bucket.Delete). A key
// with no object is no error, so a retry after a partial failure finishes
// the job.
type Files interface {
	Delete(ctx context.Context, keys []string) error
}

// ErrNoFilesBucket fails a request that found files to erase when the
// function has no bucket to erase them from (KONTAKT_FILES_BUCKET unset).
// Nothing is notified, deleted or receipted: the message is retried and,
// still failing, dead-lettered with an alarm, rather than deleting the
// copies and leaving their files behind with nothing that points to them.
var ErrNoFilesBucket = &submission.ClassedError{Class: "misconfigured", Err: errors.New("copies have files but no files bucket is configured (KONTAKT_FILES_BUCKET)")}

// Receipts stores receipts. CreateReceipt does nothing when one exists.
type Receipts interface {
	GetReceipt(ctx context.Context, requestID string) (*Receipt, error)
	CreateReceipt(ctx context.Context, r Receipt) error
	CompleteReceipt(ctx context.Context, requestID string, at time.Time) error
}

// Notifier tells the privacy contact which submissions were erased, and
// which were kept under a legal hold.
type Notifier interface {
	NotifyErased(ctx context.Context, r Receipt, copies []Copy) error
}

// PersonNotifier confirms a self-service erasure to the address that asked
// (and verified it through the link): how many copies went, and how many
// are kept under a legal obligation and until when.
type PersonNotifier interface {
	NotifyPerson(ctx context.Context, to, lang string, r Receipt) error
}

// InvalidError is a message that can never succeed: it fails on its own and,
// after the queue's retries, ends in the dead-letter queue.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "invalid erasure request: " + e.Reason }

// validRequestID accepts 1-128 letters, digits, '.', '_', ':' and '-'. A
// loop rather than a regular expression: compiling `^[A-Za-z0-9._:-]{1,128}$`
// at package init cost over 1 ms of every cold start, of the submit function
// too (docs/performance.md).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// ParseRequest decodes and checks a queue message body strictly.
func ParseRequest(body string) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return Request{}, &InvalidError{Reason: "body is not the JSON {email, request_id, source}"}
	}
	if dec.More() {
		return Request{}, &InvalidError{Reason: "unexpected data after the JSON object"}
	}
	// An address SES cannot send to (letters outside ASCII before the @,
	// over 64 octets before it) was accepted before kontakt refused such
	// addresses, and copies sent with one must still be erasable.
	if _, code := submission.ParseReplyTo(r.Email); code != "" && code != submission.CodeEmailNotASCII && code != submission.CodeEmailTooLong {
		return Request{}, &InvalidError{Reason: "email is not one valid address"}
	}
	if !validRequestID(r.RequestID) {
		return Request{}, &InvalidError{Reason: "request_id must be 1-128 letters, digits or . _ : -"}
	}
	if r.Source != SourceOperator && r.Source != SourceSelfService {
		return Request{}, &InvalidError{Reason: `source must be "operator" or "self-service"`}
	}
	if r.Language != "" && r.Language != "nb" && r.Language != "en" {
		return Request{}, &InvalidError{Reason: `language must be "nb" or "en"`}
	}
	return r, nil
}

// Metrics counts erasures. Only names and numbers: never an address.
type Metrics interface {
	Publish(counts map[string]int)
}

// MetricNothingErased counts requests that found no copy: the privacy
// contact is not told of them (each is a self-service click or an operator
// request for someone who never wrote), but their receipts are kept.
const MetricNothingErased = "ErasuresNothingFound"

// Service erases.
type Service struct {
	Finder  Finder
	Deleter Deleter
	// Files deletes the copies' files; nil where the stack keeps none
	// (then a copy with files fails the request, see ErrNoFilesBucket).
	Files    Files
	Receipts Receipts
	Notifier Notifier
	// Person confirms self-service erasures to the person; nil sends none.
	Person PersonNotifier
	// LookupKeys computes the key copies are indexed under.
	LookupKeys *submission.LookupKeys
	Metrics    Metrics
	Retention  time.Duration // how long receipts are kept
	Now        func() time.Time
	Log        *slog.Logger
}

// find lists the copies under every lookup key of the address
// (submission.LookupKeys.All: the keyed one, and in the migration window
// the plain hash and an internationalised domain's Unicode spelling).
func (s *Service) find(ctx context.Context, address string) ([]Copy, error) {
	return submission.FindUnderKeys(ctx, s.LookupKeys.All(address), s.Finder.FindByLookupKey, func(c Copy) string { return c.ID })
}

// claim claims each copy found for the request, held ones too (a hold may
// have ended since they were found, or ended and not yet been swept): it
// returns the copies claimed, which the erasure deletes, and those a hold
// keeps, with the latest end. A copy gone since it was found is left out.
func (s *Service) claim(ctx context.Context, requestID string, found []Copy) (claimed, held []Copy, heldUntil time.Time, err error) {
	for _, c := range found {
		cl, err := s.Deleter.ClaimCopy(ctx, c.ID, requestID)
		if err != nil {
			return nil, nil, time.Time{}, fmt.Errorf("claim copies: %w", err)
		}
		switch {
		case cl.Claimed():
			c.HeldUntil = time.Time{}
			claimed = append(claimed, c)
		case !cl.HeldUntil.IsZero():
			c.HeldUntil = cl.HeldUntil
			held = append(held, c)
			if c.HeldUntil.After(heldUntil) {
				heldUntil = c.HeldUntil
			}
		}
	}
	return claimed, held, heldUntil, nil
}

// Erase deletes every copy for r.Email except those under a legal hold,
// which it keeps and reports. It is idempotent: a message that is
// delivered again, or retried after a partial failure, finishes the job and
// changes nothing more. The order keeps every promise under failure:
// the privacy contact hears of the copies before they are gone (a retry may
// repeat the notice, never lose it), and the receipt is written before the
// deletes so its count covers copies deleted by an attempt that then failed,
// and the copies' files are deleted before the copies that name them. Held
// copies keep their files, a copy held after it was found included: each
// copy is claimed first (Deleter.ClaimCopy).
// A request that finds nothing is not told to the privacy contact (anyone
// can ask for any address on the self-service page; telling of each would
// be noise, and mail anyone could trigger); it is counted, and its receipt
// kept like every other.
func (s *Service) Erase(ctx context.Context, r Request) (Receipt, error) {
	found, err := s.find(ctx, r.Email)
	if err != nil {
		return Receipt{}, fmt.Errorf("find copies: %w", err)
	}
	now := s.Now().UTC()
	// Checked before any copy is claimed: nothing is claimed for an
	// erasure that cannot finish.
	if s.Files == nil && slices.ContainsFunc(found, func(c Copy) bool { return !c.HeldUntil.After(now) && len(fileKeys([]Copy{c})) > 0 }) {
		return Receipt{}, ErrNoFilesBucket
	}
	// Claimed before anyone is told or anything deleted, so that the
	// notice, the receipt and the deletes agree on what was held.
	copies, held, heldUntil, err := s.claim(ctx, r.RequestID, found)
	if err != nil {
		return Receipt{}, err
	}
	keys := fileKeys(copies)
	if len(keys) > 0 && s.Files == nil {
		// A copy's hold ended between the find and its claim.
		return Receipt{}, ErrNoFilesBucket
	}
	existing, err := s.Receipts.GetReceipt(ctx, r.RequestID)
	if err != nil {
		return Receipt{}, fmt.Errorf("read receipt: %w", err)
	}
	receipt := Receipt{RequestID: r.RequestID, Source: r.Source, Count: len(copies), Held: len(held), HeldUntil: heldUntil,
		Files: len(keys), At: now, ExpiresAt: now.Add(s.Retention)}
	if existing != nil {
		receipt = *existing
	}
	// Copies kept under a hold are told too: the privacy contact must know
	// that an erasure was asked for and what it could not erase.
	if len(copies) > 0 || len(held) > 0 {
		if err := s.Notifier.NotifyErased(ctx, receipt, append(copies, held...)); err != nil {
			return Receipt{}, fmt.Errorf("notify privacy contact: %w", err)
		}
	}
	if existing == nil {
		if err := s.Receipts.CreateReceipt(ctx, receipt); err != nil {
			return Receipt{}, fmt.Errorf("write receipt: %w", err)
		}
	}
	// The files before the copies that name them: if deleting the copies
	// fails, a retry finds them and their (already deleted) files again;
	// the other way round, a failure would leave files nothing points to.
	if len(keys) > 0 {
		if err := s.Files.Delete(ctx, keys); err != nil {
			return Receipt{}, fmt.Errorf("delete files: %w", err)
		}
	}
	if len(copies) > 0 {
		ids := make([]string, len(copies))
		for i, c := range copies {
			ids[i] = c.ID
		}
		if err := s.Deleter.DeleteCopies(ctx, ids); err != nil {
			return Receipt{}, fmt.Errorf("delete copies: %w", err)
		}
	}
	// Like the privacy contact, the person hears only of an erasure that
	// found something (deleted or kept under a hold): one that found nothing
	// sends no email at all. The receipt's counts are the first run's, so a
	// retry after a failed send still sends it.
	if s.Person != nil && r.Source == SourceSelfService && (existing == nil || !existing.Complete) && (receipt.Count > 0 || receipt.Held > 0) {
		// Before the receipt is complete, so that a failed send is retried.
		if err := s.Person.NotifyPerson(ctx, r.Email, r.Language, receipt); err != nil {
			return Receipt{}, fmt.Errorf("confirm to person: %w", err)
		}
	}
	if existing == nil || !existing.Complete || len(copies) > 0 {
		if err := s.Receipts.CompleteReceipt(ctx, r.RequestID, now); err != nil {
			return Receipt{}, fmt.Errorf("complete receipt: %w", err)
		}
	}
	if existing == nil && len(copies) == 0 && len(held) == 0 && s.Metrics != nil {
		s.Metrics.Publish(map[string]int{MetricNothingErased: 1})
	}
	receipt.Complete = true
	s.Log.InfoContext(ctx, "erasure done",
		slog.String("request_id", r.RequestID), slog.String("source", r.Source),
		slog.Int("erased_now", len(copies)), slog.Int("held", len(held)), slog.Int("files_now", len(keys)), slog.Int("receipt_count", receipt.Count),
		slog.Bool("repeat", existing != nil))
	return receipt, nil
}

// fileKeys lists where the bucket keeps the copies' files.
func fileKeys(copies []Copy) []string {
	var keys []string
	for _, c := range copies {
		for _, f := range c.Files {
			if f.Key != "" {
				keys = append(keys, f.Key)
			}
		}
	}
	return keys
}

// IsInvalid reports whether err can never succeed on retry.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}
