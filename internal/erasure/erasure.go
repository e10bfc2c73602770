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
}

// Copy is what erasure knows of a stored submission: never its content.
type Copy struct {
	ID         string
	FormID     string
	ReceivedAt time.Time
}

// Receipt proves an erasure without personal data.
type Receipt struct {
	RequestID string
	Source    string
	Count     int
	At        time.Time
	ExpiresAt time.Time
	Complete  bool
}

// Finder lists every copy for a lookup key, expired ones included: a copy
// past its TTL is still personal data until DynamoDB has deleted it.
type Finder interface {
	FindByLookupKey(ctx context.Context, key string) ([]Copy, error)
}

// Deleter deletes copies by id; deleting one that is gone is not an error.
type Deleter interface {
	DeleteCopies(ctx context.Context, ids []string) error
}

// Receipts stores receipts. CreateReceipt does nothing when one exists.
type Receipts interface {
	GetReceipt(ctx context.Context, requestID string) (*Receipt, error)
	CreateReceipt(ctx context.Context, r Receipt) error
	CompleteReceipt(ctx context.Context, requestID string, at time.Time) error
}

// Notifier tells the privacy contact which submissions were erased.
type Notifier interface {
	NotifyErased(ctx context.Context, r Receipt, copies []Copy) error
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
	if _, code := submission.ParseReplyTo(r.Email); code != "" {
		return Request{}, &InvalidError{Reason: "email is not one valid address"}
	}
	if !validRequestID(r.RequestID) {
		return Request{}, &InvalidError{Reason: "request_id must be 1-128 letters, digits or . _ : -"}
	}
	if r.Source != SourceOperator && r.Source != SourceSelfService {
		return Request{}, &InvalidError{Reason: `source must be "operator" or "self-service"`}
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
	Finder   Finder
	Deleter  Deleter
	Receipts Receipts
	Notifier Notifier
	// LookupKeys computes the key copies are indexed under.
	LookupKeys *submission.LookupKeys
	Metrics    Metrics
	Retention  time.Duration // how long receipts are kept
	Now        func() time.Time
	Log        *slog.Logger
}

// find lists the copies under the address's lookup key and, during the
// migration window (see submission.LegacyLookupKey), under the plain hash
// that copies stored before keyed lookup keys carry.
func (s *Service) find(ctx context.Context, address string) ([]Copy, error) {
	var copies []Copy
	seen := map[string]bool{}
	for _, key := range []string{s.LookupKeys.Key(address), submission.LegacyLookupKey(address)} {
		found, err := s.Finder.FindByLookupKey(ctx, key)
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			if !seen[c.ID] {
				seen[c.ID] = true
				copies = append(copies, c)
			}
		}
	}
	return copies, nil
}

// Erase deletes every copy for r.Email. It is idempotent: a message that is
// delivered again, or retried after a partial failure, finishes the job and
// changes nothing more. The order keeps every promise under failure:
// the privacy contact hears of the copies before they are gone (a retry may
// repeat the notice, never lose it), and the receipt is written before the
// deletes so its count covers copies deleted by an attempt that then failed.
// A request that finds nothing is not told to the privacy contact (anyone
// can ask for any address on the self-service page; telling of each would
// be noise, and mail anyone could trigger); it is counted, and its receipt
// kept like every other.
func (s *Service) Erase(ctx context.Context, r Request) (Receipt, error) {
	copies, err := s.find(ctx, r.Email)
	if err != nil {
		return Receipt{}, fmt.Errorf("find copies: %w", err)
	}
	existing, err := s.Receipts.GetReceipt(ctx, r.RequestID)
	if err != nil {
		return Receipt{}, fmt.Errorf("read receipt: %w", err)
	}
	now := s.Now().UTC()
	receipt := Receipt{RequestID: r.RequestID, Source: r.Source, Count: len(copies), At: now, ExpiresAt: now.Add(s.Retention)}
	if existing != nil {
		receipt = *existing
	}
	if len(copies) > 0 {
		if err := s.Notifier.NotifyErased(ctx, receipt, copies); err != nil {
			return Receipt{}, fmt.Errorf("notify privacy contact: %w", err)
		}
	}
	if existing == nil {
		if err := s.Receipts.CreateReceipt(ctx, receipt); err != nil {
			return Receipt{}, fmt.Errorf("write receipt: %w", err)
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
	if existing == nil || !existing.Complete || len(copies) > 0 {
		if err := s.Receipts.CompleteReceipt(ctx, r.RequestID, now); err != nil {
			return Receipt{}, fmt.Errorf("complete receipt: %w", err)
		}
	}
	if existing == nil && len(copies) == 0 && s.Metrics != nil {
		s.Metrics.Publish(map[string]int{MetricNothingErased: 1})
	}
	receipt.Complete = true
	s.Log.InfoContext(ctx, "erasure done",
		slog.String("request_id", r.RequestID), slog.String("source", r.Source),
		slog.Int("erased_now", len(copies)), slog.Int("receipt_count", receipt.Count),
		slog.Bool("repeat", existing != nil))
	return receipt, nil
}

// IsInvalid reports whether err can never succeed on retry.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}
