// Package hold keeps the promise "everything about a person is deleted on
// request, unless the law requires keeping it": an operator puts a person's
// stored copies (by address) or one submission (by id) under a legal hold
// with a reason and an end date. A held copy does not expire — its TTL is
// lifted until the hold ends, then restored — and erasure skips it and says
// so. A hold is an item of its own with no content: the reason, the dates,
// the lookup key or submission id, and the ids of the copies it covers; it
// expires with the hold.
package hold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// Selector names what a hold covers: exactly one of a reply address and a
// submission id.
type Selector struct {
	Email        string
	SubmissionID string
}

// HoldID is the id of the hold for sel: one hold per address or submission,
// so releasing finds it without an index. An address enters only as its
// lookup key (keys.Key, a keyed hash).
func (sel Selector) HoldID(keys *submission.LookupKeys) string {
	if sel.Email != "" {
		return "email:" + keys.Key(sel.Email)
	}
	return "id:" + sel.SubmissionID
}

// legacyHoldID is the id a hold by address had while lookup keys were plain
// hashes (submission.LegacyLookupKey); Release looks under it too.
func (sel Selector) legacyHoldID() string {
	return "email:" + submission.LegacyLookupKey(sel.Email)
}

// Hold is a legal hold. It carries no content.
type Hold struct {
	ID string
	// LookupKey is set for a hold by address, SubmissionID for one by id.
	LookupKey    string
	SubmissionID string
	Reason       string
	CreatedAt    time.Time
	// Until is the instant the hold ends (the end of the --until day, UTC).
	Until time.Time
	// Copies are the ids of the copies held.
	Copies []string
	// Held is how many of Copies Place held just now (not stored): a copy
	// gone since it was listed, or one an erasure has claimed, is not.
	Held int
}

// Errors an operator can cause. Each leaves everything as it was.
//
// Wrong use: the command's words are off, and the error says how to put
// them (kontakt answers these as usage errors).
var (
	ErrSelector      = errors.New("give exactly one of --email and --id")
	ErrInvalidEmail  = errors.New("--email is not one valid address")
	ErrInvalidCopyID = errors.New("--id is not a submission id")
	ErrNoReason      = errors.New("a reason is required (--reason): it is kept with the hold")
	ErrPastEnd       = errors.New("the hold's end date (--until) must be today or later")
	ErrBadDate       = errors.New("the end date must be a date like 2027-06-30")
)

// Nothing to act on: the words are right, but the table has no such copy
// or hold.
var (
	ErrUnknownCopy = errors.New("no stored submission has that id")
	ErrNoCopies    = errors.New("no stored copies for that address; nothing to hold")
	ErrNotHeld     = errors.New("no legal hold for that address or id")
)

// maxReasonRunes bounds the reason kept with a hold.
const maxReasonRunes = 1000

// ParseUntil reads a YYYY-MM-DD end date: the hold lasts through that day
// (UTC) and ends at the start of the next.
func ParseUntil(s string) (time.Time, error) {
	d, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, ErrBadDate
	}
	return d.AddDate(0, 0, 1), nil
}

// Store keeps holds and lifts and restores the TTL of held copies.
type Store interface {
	// CopyIDs lists the ids of every stored copy for a lookup key, expired
	// ones included (they are still stored until DynamoDB deletes them).
	CopyIDs(ctx context.Context, lookupKey string) ([]string, error)
	// CopyExists reports whether a submission with that id is stored.
	CopyExists(ctx context.Context, id string) (bool, error)
	GetHold(ctx context.Context, id string) (*Hold, error)
	PutHold(ctx context.Context, h Hold) error
	DeleteHold(ctx context.Context, id string) error
	// HoldCopy lifts the copy's TTL and records the hold on it; its hold
	// end becomes the later of until and any it has. A copy that is gone
	// is not an error (false).
	HoldCopy(ctx context.Context, copyID, holdID string, until time.Time) (bool, error)
	// ReleaseCopy takes the hold off the copy and, when no other hold
	// remains, restores its TTL.
	ReleaseCopy(ctx context.Context, copyID, holdID string) error
	// Ended lists the ids of holds whose end is at or before now.
	Ended(ctx context.Context, now time.Time) ([]string, error)
}

// CopyFiles is what holding a copy's files needs.
type CopyFiles struct {
	// Keys are where the bucket keeps the copy's files.
	Keys []string
	// Held: some hold still covers the copy (its TTL is lifted).
	Held bool
	// RetentionDays is the copy's own retention: its expiry (or, while
	// held, the expiry waiting for the hold to end) less its receipt.
	RetentionDays int
}

// FileStore reads a copy's files from the table; a copy that is gone has
// none.
type FileStore interface {
	CopyFiles(ctx context.Context, copyID string) (CopyFiles, error)
}

// Files retags files in the bucket (bucket.Tagger): held, they match no
// lifecycle rule; released, they are deleted at their retention's age (at
// once, if that has passed), as the copy is. A key with no object is no
// error.
type Files interface {
	HoldFiles(ctx context.Context, keys []string) error
	ReleaseFiles(ctx context.Context, keys []string, retentionDays int) error
}

// ErrNoFilesBucket: a copy the hold covers has files, and no bucket is
// configured to hold or release them. Nothing about that copy is changed:
// holding the copy and not its files would let the bucket delete them
// under the hold; releasing it and not them would keep them forever.
var ErrNoFilesBucket = &submission.ClassedError{Class: "misconfigured", Err: errors.New("a held copy has files, and no files bucket is configured")}

// Service places and releases holds.
type Service struct {
	Store Store
	// FileStore and Files hold a held copy's files with it. Without a
	// FileStore files are not looked at (a table whose copies have none);
	// with one and no Files, a copy with files is an error
	// (ErrNoFilesBucket).
	FileStore FileStore
	Files     Files
	// LookupKeys computes the key copies are indexed under (the generated
	// secret's, as submit stores them).
	LookupKeys *submission.LookupKeys
	Now        func() time.Time
	Log        *slog.Logger
}

func checkSelector(sel Selector) error {
	switch {
	case (sel.Email == "") == (sel.SubmissionID == ""):
		return ErrSelector
	case sel.Email != "":
		if a, code := submission.ParseReplyTo(sel.Email); code != "" || a != sel.Email {
			return ErrInvalidEmail
		}
	case !validID(sel.SubmissionID):
		return ErrInvalidCopyID
	}
	return nil
}

// idAlphabet is what an id given to hold or release may be made of: ASCII
// letters and digits, - and _, which covers what submission.NewID makes.
// Never a '#', which would reach other kinds of items.
const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

// validID accepts 1-64 characters of idAlphabet: nothing is left once they
// are trimmed away.
func validID(id string) bool {
	return id != "" && len(id) <= 64 && strings.Trim(id, idAlphabet) == ""
}

// Place puts the copies sel names under a hold until until. Placing a hold
// that exists replaces its reason and end and adds any new copies. Bad input
// changes nothing.
func (s *Service) Place(ctx context.Context, sel Selector, reason string, until time.Time) (Hold, error) {
	if err := checkSelector(sel); err != nil {
		return Hold{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Hold{}, ErrNoReason
	}
	if len([]rune(reason)) > maxReasonRunes {
		return Hold{}, fmt.Errorf("the reason is longer than %d characters", maxReasonRunes)
	}
	now := s.Now().UTC()
	if !until.After(now) {
		return Hold{}, ErrPastEnd
	}
	h := Hold{ID: sel.HoldID(s.LookupKeys), Reason: reason, CreatedAt: now, Until: until.UTC()}
	if sel.Email != "" {
		h.LookupKey = s.LookupKeys.Key(sel.Email)
		// Copies stored before lookup keys were keyed are indexed under
		// the plain hash (as erasure's find knows); the hold covers them too.
		var ids []string
		for _, k := range []string{h.LookupKey, submission.LegacyLookupKey(sel.Email)} {
			found, err := s.Store.CopyIDs(ctx, k)
			if err != nil {
				return Hold{}, fmt.Errorf("find copies: %w", err)
			}
			ids = union(ids, found)
		}
		if len(ids) == 0 {
			return Hold{}, ErrNoCopies
		}
		h.Copies = ids
	} else {
		h.SubmissionID = sel.SubmissionID
		ok, err := s.Store.CopyExists(ctx, sel.SubmissionID)
		if err != nil {
			return Hold{}, fmt.Errorf("find copy: %w", err)
		}
		if !ok {
			return Hold{}, ErrUnknownCopy
		}
		h.Copies = []string{sel.SubmissionID}
	}
	old, err := s.Store.GetHold(ctx, h.ID)
	if err != nil {
		return Hold{}, fmt.Errorf("read hold: %w", err)
	}
	if old != nil {
		h.CreatedAt = old.CreatedAt
		h.Copies = union(old.Copies, h.Copies)
	}
	// The hold first: if lifting a TTL fails half-way, the hold records
	// every copy it meant to cover, and a release or a second try finishes.
	if err := s.Store.PutHold(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("write hold: %w", err)
	}
	held := 0
	for _, id := range h.Copies {
		// The files before the copy: a copy held while its files are not
		// could lose them to the bucket's lifecycle under the hold.
		files, err := s.holdFiles(ctx, id)
		if err != nil {
			return Hold{}, fmt.Errorf("hold files: %w", err)
		}
		ok, err := s.Store.HoldCopy(ctx, id, h.ID, h.Until)
		if err != nil {
			return Hold{}, fmt.Errorf("hold copy: %w", err)
		}
		if ok {
			held++
			continue
		}
		// Not held (gone, or an erasure claimed it meanwhile): its files
		// get their retention back, or the bucket would keep them for good.
		if len(files.Keys) > 0 && !files.Held {
			if err := s.Files.ReleaseFiles(ctx, files.Keys, files.RetentionDays); err != nil {
				return Hold{}, fmt.Errorf("release files of a copy not held: %w", err)
			}
		}
	}
	s.Log.InfoContext(ctx, "legal hold placed", slog.String("hold_id", logID(h)), slog.Int("copies", held),
		slog.Time("until", h.Until), slog.Bool("renewed", old != nil))
	h.Held = held
	return h, nil
}

// Release ends the hold on sel now: every copy it covered gets its TTL back
// unless another hold still covers it.
func (s *Service) Release(ctx context.Context, sel Selector) (Hold, error) {
	if err := checkSelector(sel); err != nil {
		return Hold{}, err
	}
	h, err := s.Store.GetHold(ctx, sel.HoldID(s.LookupKeys))
	if err != nil {
		return Hold{}, fmt.Errorf("read hold: %w", err)
	}
	if h == nil && sel.Email != "" {
		// A hold placed while lookup keys were plain hashes.
		if h, err = s.Store.GetHold(ctx, sel.legacyHoldID()); err != nil {
			return Hold{}, fmt.Errorf("read hold: %w", err)
		}
	}
	if h == nil {
		return Hold{}, ErrNotHeld
	}
	for _, id := range h.Copies {
		if err := s.releaseCopy(ctx, id, h.ID); err != nil {
			return Hold{}, err
		}
	}
	// Last, so that a failure above leaves the hold to release again.
	if err := s.Store.DeleteHold(ctx, h.ID); err != nil {
		return Hold{}, fmt.Errorf("delete hold: %w", err)
	}
	s.Log.InfoContext(ctx, "legal hold released", slog.String("hold_id", logID(*h)), slog.Int("copies", len(h.Copies)))
	return *h, nil
}

// Sweep releases every hold whose end has passed: a hold ends by itself
// on its date, without anyone releasing it, and its copies get their TTL
// back. The redrive function's schedule runs it.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	ids, err := s.Store.Ended(ctx, s.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("list ended holds: %w", err)
	}
	n := 0
	for _, id := range ids {
		if err := s.release(ctx, id); err != nil {
			s.Log.WarnContext(ctx, "releasing an ended hold failed; the next run tries again", slog.String("error_class", submission.ErrorClass(err)))
			continue
		}
		n++
	}
	if n > 0 {
		s.Log.InfoContext(ctx, "ended legal holds released", slog.Int("holds", n))
	}
	return n, nil
}

func (s *Service) release(ctx context.Context, id string) error {
	h, err := s.Store.GetHold(ctx, id)
	if err != nil {
		return fmt.Errorf("read hold: %w", err)
	}
	if h != nil {
		for _, c := range h.Copies {
			if err := s.releaseCopy(ctx, c, id); err != nil {
				return err
			}
		}
	}
	return s.Store.DeleteHold(ctx, id)
}

// holdFiles tags the copy's files held, and says what they were.
func (s *Service) holdFiles(ctx context.Context, copyID string) (CopyFiles, error) {
	if s.FileStore == nil {
		return CopyFiles{}, nil
	}
	cf, err := s.FileStore.CopyFiles(ctx, copyID)
	if err != nil || len(cf.Keys) == 0 {
		return cf, err
	}
	if s.Files == nil {
		return cf, ErrNoFilesBucket
	}
	return cf, s.Files.HoldFiles(ctx, cf.Keys)
}

// releaseCopy takes the hold off the copy and then, if no other hold
// covers it, gives its files their retention back. The copy first: files
// released while the copy is still held could be deleted under the hold.
// A failure after the copy leaves the hold (deleted last) to release
// again, and the retry finds the copy released and retags its files.
func (s *Service) releaseCopy(ctx context.Context, copyID, holdID string) error {
	if s.FileStore != nil && s.Files == nil {
		// Checked before the copy changes: nothing is half released.
		cf, err := s.FileStore.CopyFiles(ctx, copyID)
		if err != nil {
			return fmt.Errorf("read files: %w", err)
		}
		if len(cf.Keys) > 0 {
			return fmt.Errorf("release files: %w", ErrNoFilesBucket)
		}
	}
	if err := s.Store.ReleaseCopy(ctx, copyID, holdID); err != nil {
		return fmt.Errorf("release copy: %w", err)
	}
	if s.FileStore == nil || s.Files == nil {
		return nil
	}
	cf, err := s.FileStore.CopyFiles(ctx, copyID)
	if err != nil {
		return fmt.Errorf("read files: %w", err)
	}
	if cf.Held || len(cf.Keys) == 0 {
		return nil
	}
	if err := s.Files.ReleaseFiles(ctx, cf.Keys, cf.RetentionDays); err != nil {
		return fmt.Errorf("release files: %w", err)
	}
	return nil
}

// logID names a hold in logs without its lookup key: a hash of an address
// is still a way to test whether someone wrote in.
func logID(h Hold) string {
	if h.SubmissionID != "" {
		return h.ID
	}
	return "email:…"
}

func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
