package hold_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

// store is an in-memory hold.Store and hold.FileStore: copies with the
// holds on them and their files, and a log of calls shared with the bucket.
type store struct {
	copies map[string]*copyState
	holds  map[string]hold.Hold
	log    *[]string
	// claimed are copies an erasure claims between their files' hold and
	// the copy's: HoldCopy refuses them, as holdstore does.
	claimed map[string]bool
}

type copyState struct {
	holds     map[string]bool
	files     []string
	retention int
}

func (s *store) CopyIDs(context.Context, string) ([]string, error) {
	return slices.Sorted(maps.Keys(s.copies)), nil
}
func (s *store) CopyExists(_ context.Context, id string) (bool, error) {
	return s.copies[id] != nil, nil
}
func (s *store) GetHold(_ context.Context, id string) (*hold.Hold, error) {
	if h, ok := s.holds[id]; ok {
		return &h, nil
	}
	return nil, nil
}
func (s *store) PutHold(_ context.Context, h hold.Hold) error { s.holds[h.ID] = h; return nil }
func (s *store) DeleteHold(_ context.Context, id string) error {
	delete(s.holds, id)
	return nil
}
func (s *store) HoldCopy(_ context.Context, copyID, holdID string, _ time.Time) (bool, error) {
	*s.log = append(*s.log, "hold copy "+copyID)
	c := s.copies[copyID]
	if c == nil || s.claimed[copyID] {
		return false, nil
	}
	c.holds[holdID] = true
	return true, nil
}
func (s *store) ReleaseCopy(_ context.Context, copyID, holdID string) error {
	*s.log = append(*s.log, "release copy "+copyID)
	if c := s.copies[copyID]; c != nil {
		delete(c.holds, holdID)
	}
	return nil
}
func (s *store) Ended(context.Context, time.Time) ([]string, error) {
	return slices.Sorted(maps.Keys(s.holds)), nil
}
func (s *store) CopyFiles(_ context.Context, id string) (hold.CopyFiles, error) {
	c := s.copies[id]
	if c == nil {
		return hold.CopyFiles{}, nil
	}
	return hold.CopyFiles{Keys: c.files, Held: len(c.holds) > 0, RetentionDays: c.retention}, nil
}

// tags is a fake hold.Files: each key's retention tag.
type tags struct {
	tag  map[string]string
	fail error
	log  *[]string
}

func (b *tags) HoldFiles(_ context.Context, keys []string) error {
	*b.log = append(*b.log, "hold files "+strings.Join(keys, ","))
	if b.fail != nil {
		return b.fail
	}
	for _, k := range keys {
		b.tag[k] = "held"
	}
	return nil
}
func (b *tags) ReleaseFiles(_ context.Context, keys []string, days int) error {
	*b.log = append(*b.log, "release files "+strings.Join(keys, ","))
	if b.fail != nil {
		return b.fail
	}
	for _, k := range keys {
		b.tag[k] = strconv.Itoa(days)
	}
	return nil
}

func setupFiles(t *testing.T) (*hold.Service, *store, *tags, *[]string) {
	t.Helper()
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	st := &store{log: &log, holds: map[string]hold.Hold{}, copies: map[string]*copyState{
		"a": {holds: map[string]bool{}, files: []string{"files/a/0", "files/a/1"}, retention: 30},
		"b": {holds: map[string]bool{}, retention: 30},
	}}
	b := &tags{tag: map[string]string{"files/a/0": "30", "files/a/1": "30"}, log: &log}
	svc := &hold.Service{Store: st, FileStore: st, Files: b, LookupKeys: keys, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	return svc, st, b, &log
}

var kari = hold.Selector{Email: "kari@example.no"}

// A hold retags the copy's files held before it lifts the copy's TTL;
// a release restores the copy first, then the files' retention.
func TestHoldHoldsTheFilesToo(t *testing.T) {
	svc, _, b, log := setupFiles(t)
	ctx := context.Background()
	if _, err := svc.Place(ctx, kari, "Politiets begjæring", time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := *log, []string{"hold files files/a/0,files/a/1", "hold copy a", "hold copy b"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if b.tag["files/a/0"] != "held" || b.tag["files/a/1"] != "held" {
		t.Errorf("tags after hold: %v", b.tag)
	}
	*log = nil
	if _, err := svc.Release(ctx, kari); err != nil {
		t.Fatal(err)
	}
	if got, want := *log, []string{"release copy a", "release files files/a/0,files/a/1", "release copy b"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if b.tag["files/a/0"] != "30" || b.tag["files/a/1"] != "30" {
		t.Errorf("tags after release: %v, want the copy's retention (30)", b.tag)
	}
}

// A copy an erasure claims after its files were held is not held, and its
// files get their retention back: held, with no hold on the copy, no
// lifecycle rule would ever delete them. The hold says how many it held.
func TestFilesOfACopyNotHeldAreReleased(t *testing.T) {
	svc, st, b, log := setupFiles(t)
	st.claimed = map[string]bool{"a": true}
	h, err := svc.Place(context.Background(), kari, "Tvist", time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *log, []string{"hold files files/a/0,files/a/1", "hold copy a", "release files files/a/0,files/a/1", "hold copy b"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if b.tag["files/a/0"] != "30" || b.tag["files/a/1"] != "30" {
		t.Errorf("tags %v, want the copy's retention back", b.tag)
	}
	if h.Held != 1 || len(h.Copies) != 2 {
		t.Errorf("held %d of %v, want 1 of 2", h.Held, h.Copies)
	}
}

// A copy under two holds keeps its files held until the last ends, by
// release or by the sweep on its date.
func TestFilesStayHeldUnderAnotherHold(t *testing.T) {
	svc, _, b, _ := setupFiles(t)
	ctx := context.Background()
	byID := hold.Selector{SubmissionID: "a"}
	for _, sel := range []hold.Selector{kari, byID} {
		if _, err := svc.Place(ctx, sel, "Tvist", time.Now().Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Release(ctx, kari); err != nil {
		t.Fatal(err)
	}
	if b.tag["files/a/0"] != "held" {
		t.Fatalf("released under another hold: %v", b.tag)
	}
	if n, err := svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if b.tag["files/a/0"] != "30" {
		t.Errorf("after the last hold ended: %v", b.tag)
	}
}

// Files that cannot be retagged fail the command; the copy is not held
// without its files, and a release that fails on the files leaves the hold
// to release again, which then finishes.
func TestHoldFileFailures(t *testing.T) {
	svc, st, b, _ := setupFiles(t)
	ctx := context.Background()
	b.fail = errors.New("SlowDown")
	if _, err := svc.Place(ctx, kari, "r", time.Now().Add(48*time.Hour)); err == nil {
		t.Fatal("want an error")
	}
	if len(st.copies["a"].holds) != 0 {
		t.Fatal("the copy is held and its files are not")
	}
	b.fail = nil
	if _, err := svc.Place(ctx, kari, "r", time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.fail = errors.New("SlowDown")
	if _, err := svc.Release(ctx, kari); err == nil {
		t.Fatal("want an error")
	}
	if len(st.holds) != 1 || b.tag["files/a/0"] != "held" {
		t.Fatalf("after a failed release: holds %v, tags %v", st.holds, b.tag)
	}
	b.fail = nil
	if _, err := svc.Release(ctx, kari); err != nil {
		t.Fatal(err)
	}
	if len(st.holds) != 0 || b.tag["files/a/0"] != "30" {
		t.Errorf("after the retry: holds %v, tags %v", st.holds, b.tag)
	}
}

// Without a bucket, a copy with files is neither held nor released (the
// sweep tries again each run); copies without files are.
func TestHoldWithoutBucket(t *testing.T) {
	svc, st, _, _ := setupFiles(t)
	svc.Files = nil
	ctx := context.Background()
	if _, err := svc.Place(ctx, kari, "r", time.Now().Add(48*time.Hour)); !errors.Is(err, hold.ErrNoFilesBucket) || submission.ErrorClass(err) != "misconfigured" {
		t.Fatalf("err = %v", err)
	}
	if len(st.copies["a"].holds) != 0 {
		t.Fatal("the copy is held without its files")
	}
	if _, err := svc.Place(ctx, hold.Selector{SubmissionID: "b"}, "r", time.Now().Add(48*time.Hour)); err != nil {
		t.Fatalf("a copy without files: %v", err)
	}
	// A hold placed while the bucket was known, released without it.
	st.copies["a"].holds["email:x"] = true
	st.holds["email:x"] = hold.Hold{ID: "email:x", Copies: []string{"a"}}
	if n, _ := svc.Sweep(ctx); n != 1 || len(st.copies["a"].holds) != 1 || st.holds["email:x"].ID == "" {
		t.Errorf("sweep released %d holds; copy a's holds %v", n, st.copies["a"].holds)
	}
}
