package erasure_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// bucket is a fake erasure.Files: a set of keys, and the order of calls
// against the copies' deletes (log, shared with ordered).
type bucket struct {
	objects map[string]bool
	fail    error
	calls   int
	log     *[]string
}

func (b *bucket) Delete(_ context.Context, keys []string) error {
	b.calls++
	if b.log != nil {
		*b.log = append(*b.log, "files")
	}
	if b.fail != nil {
		return b.fail
	}
	for _, k := range keys {
		delete(b.objects, k) // a key with no object is no error, as in S3
	}
	return nil
}

// ordered records when the copies are deleted, next to the bucket's calls.
type ordered struct {
	*memory
	log *[]string
}

func (o ordered) DeleteCopies(ctx context.Context, ids []string) error {
	*o.log = append(*o.log, "copies")
	return o.memory.DeleteCopies(ctx, ids)
}

func withFiles(m *memory) {
	k := keys.Key("kari@example.no")
	m.copies[k][0].Files = []submission.File{{Name: "cv.pdf", Size: 1200, Key: "files/a/0"}, {Name: "photo.jpg", Size: 90000, Key: "files/a/1"}}
	m.copies[k][2].Files = []submission.File{{Name: "invoice.pdf", Size: 4000, Key: "files/c/0"}}
	m.copies[keys.Key("ola@example.no")][0].Files = []submission.File{{Name: "ola.pdf", Size: 1, Key: "files/d/0"}}
}

func objects(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// A person's files go with their copies, before them, and nobody else's;
// the receipt counts them and names none.
func TestEraseDeletesFilesBeforeCopies(t *testing.T) {
	m, svc, logs := setup()
	withFiles(m)
	var calls []string
	b := &bucket{objects: objects("files/a/0", "files/a/1", "files/c/0", "files/d/0"), log: &calls}
	svc.Files = b
	svc.Deleter = ordered{m, &calls}
	r, err := svc.Erase(context.Background(), kari)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := calls, []string{"files", "copies"}; !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if len(b.objects) != 1 || !b.objects["files/d/0"] {
		t.Errorf("left in the bucket: %v, want only another person's file", b.objects)
	}
	if r.Files != 3 || m.receipts["req-1"].Files != 3 {
		t.Errorf("receipt counts %d files (stored: %d), want 3", r.Files, m.receipts["req-1"].Files)
	}
	// The notice gets the copies with their files (names and sizes).
	if n := m.notices[0]; len(n) != 3 || len(n[0].Files) != 2 || n[0].Files[0].Name != "cv.pdf" {
		t.Errorf("notice copies: %+v", n)
	}
	if s := logs.String(); strings.Contains(s, "cv.pdf") || !strings.Contains(s, `"files_now":3`) {
		t.Errorf("log: %s", s)
	}
}

// A copy held after it was found keeps its files: only claimed copies'
// files are deleted.
func TestEraseKeepsFilesOfACopyHeldSinceFound(t *testing.T) {
	m, svc, _ := setup()
	withFiles(m)
	b := &bucket{objects: objects("files/a/0", "files/a/1", "files/c/0")}
	svc.Files = b
	m.onClaim = func(id string) {
		if id == "a" {
			m.hold("c", time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC))
		}
	}
	r, err := svc.Erase(context.Background(), kari)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.objects) != 1 || !b.objects["files/c/0"] || r.Files != 2 {
		t.Errorf("left in the bucket %v, receipt counts %d files; want the held copy's file kept and 2 erased", b.objects, r.Files)
	}
}

// If the files cannot be deleted, neither are the copies that name them,
// so the retry finds them; a retry after the copies failed deletes the
// (already gone) files again without error and finishes.
func TestEraseFileFailureKeepsTheCopies(t *testing.T) {
	m, svc, _ := setup()
	withFiles(m)
	b := &bucket{objects: objects("files/a/0", "files/a/1", "files/c/0"), fail: errors.New("SlowDown")}
	svc.Files = b
	if _, err := svc.Erase(context.Background(), kari); err == nil || !strings.Contains(err.Error(), "delete files") {
		t.Fatalf("err = %v", err)
	}
	if m.deleteCalls != 0 || len(m.copies[keys.Key("kari@example.no")]) != 3 {
		t.Fatalf("copies deleted although their files were not: %d calls", m.deleteCalls)
	}
	b.fail = nil
	m.failDelete = errors.New("throttled")
	if _, err := svc.Erase(context.Background(), kari); err == nil {
		t.Fatal("want the copies' failure")
	}
	if len(b.objects) != 0 {
		t.Fatalf("files left: %v", b.objects)
	}
	m.failDelete = nil
	r, err := svc.Erase(context.Background(), kari)
	if err != nil || !r.Complete || len(m.copies[keys.Key("kari@example.no")]) != 0 {
		t.Fatalf("retry: %+v %v, left %v", r, err, m.copies)
	}
	if b.calls != 3 {
		t.Errorf("bucket deletes = %d, want one per attempt (3)", b.calls)
	}
}

// Without a bucket, a person whose copies have files is not half-erased:
// nothing is told, deleted or receipted, and the message fails (retried,
// then dead-lettered with an alarm). Someone without files is erased.
func TestEraseWithoutBucketRefusesCopiesWithFiles(t *testing.T) {
	m, svc, _ := setup()
	withFiles(m)
	_, err := svc.Erase(context.Background(), kari)
	if !errors.Is(err, erasure.ErrNoFilesBucket) || submission.ErrorClass(err) != "misconfigured" {
		t.Fatalf("err = %v (class %q)", err, submission.ErrorClass(err))
	}
	if erasure.IsInvalid(err) {
		t.Error("a configuration gap is not an invalid message: it succeeds once fixed")
	}
	if m.deleteCalls != 0 || len(m.notices) != 0 || len(m.receipts) != 0 {
		t.Fatalf("half-erased: deletes %d, notices %d, receipts %v", m.deleteCalls, len(m.notices), m.receipts)
	}
	m.copies[keys.Key("per@example.no")] = []erasure.Copy{{ID: "p", FormID: "contact"}}
	if r, err := svc.Erase(context.Background(), erasure.Request{Email: "per@example.no", RequestID: "req-2", Source: erasure.SourceOperator}); err != nil || r.Count != 1 {
		t.Fatalf("a person without files: %+v %v", r, err)
	}
}

// Held copies keep their files: only the erased copies' keys reach the
// bucket, and a person whose only copies with files are held is erased
// even without a bucket.
func TestHeldCopiesKeepTheirFiles(t *testing.T) {
	m, svc, _ := setup()
	withFiles(m)
	k := keys.Key("kari@example.no")
	m.copies[k][0].HeldUntil = time.Now().Add(24 * time.Hour)
	b := &bucket{objects: objects("files/a/0", "files/a/1", "files/c/0")}
	svc.Files = b
	r, err := svc.Erase(context.Background(), kari)
	if err != nil || r.Held != 1 || r.Count != 2 || r.Files != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if !b.objects["files/a/0"] || !b.objects["files/a/1"] || b.objects["files/c/0"] {
		t.Errorf("bucket after: %v, want the held copy's files only", b.objects)
	}

	m, svc, _ = setup()
	withFiles(m)
	m.copies[k][0].HeldUntil = time.Now().Add(24 * time.Hour)
	m.copies[k][2].HeldUntil = time.Now().Add(24 * time.Hour)
	if r, err := svc.Erase(context.Background(), kari); err != nil || r.Count != 1 || r.Held != 2 {
		t.Fatalf("without a bucket, held files only: %+v %v", r, err)
	}
}
