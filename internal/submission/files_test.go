package submission_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// bucketFunc is a Files whose Put fails with putErr; it records keys.
type bucketFunc struct {
	putErr       error
	put, deleted []string
}

func (b *bucketFunc) Put(_ context.Context, _ *config.Form, s *submission.Submission) error {
	for _, f := range s.Files {
		b.put = append(b.put, f.Key)
	}
	return b.putErr
}

func (b *bucketFunc) Delete(_ context.Context, keys []string) error {
	b.deleted = append(b.deleted, keys...)
	return nil
}

func withFile(id string) *submission.Submission {
	return &submission.Submission{ID: id, FormID: "contact", Fields: []submission.Field{{Name: "message", Value: "hei"}},
		Files: []submission.File{{Field: "cv", Name: "cv.pdf", Type: "application/pdf", Size: 4, Data: []byte("%PDF")}}}
}

func TestFilesAreKeptBeforeTheEmailAndTheCopy(t *testing.T) {
	var order []string
	b := &bucketFunc{}
	st := &storeFunc{save: func(_ context.Context, s *submission.Submission) error {
		if s.Files[0].Key != "files/id1/0" || len(b.put) != 1 {
			t.Error("copy saved before its file was kept")
		}
		order = append(order, "save")
		return nil
	}}
	svc, _ := service(st, func(_ context.Context, _ *config.Form, s *submission.Submission) error {
		if len(b.put) != 1 {
			t.Error("email sent before its file was kept")
		}
		return nil
	})
	svc.Files = b
	out, err := svc.Accept(context.Background(), &config.Form{ID: "contact"}, withFile("id1"), nil)
	if err != nil || out != submission.Sent || len(b.deleted) != 0 || len(order) != 1 {
		t.Errorf("outcome %v, %v; deleted %v", out, err, b.deleted)
	}
}

func TestFilesThatCannotBeKeptRefuseThePost(t *testing.T) {
	b := &bucketFunc{putErr: errors.New("SlowDown")}
	sent, saved := false, false
	st := &storeFunc{save: func(context.Context, *submission.Submission) error { saved = true; return nil }}
	svc, logs := service(st, func(context.Context, *config.Form, *submission.Submission) error { sent = true; return nil })
	svc.Files = b
	_, err := svc.Accept(context.Background(), &config.Form{ID: "contact"}, withFile("id2"), nil)
	if !errors.Is(err, submission.ErrUnavailable) || sent || saved {
		t.Errorf("err %v, sent %v, saved %v: a post whose files are not kept is refused whole", err, sent, saved)
	}
	if !slices.Equal(b.deleted, []string{"files/id2/0"}) {
		t.Errorf("deleted %v: what was stored of it is removed", b.deleted)
	}
	if strings.Contains(logs.String(), "cv.pdf") {
		t.Error("a file name reached the log")
	}
}

func TestFilesOfAPostNeitherSentNorStoredAreDeleted(t *testing.T) {
	b := &bucketFunc{}
	down := errors.New("down")
	st := &storeFunc{save: func(context.Context, *submission.Submission) error { return down }}
	svc, _ := service(st, func(context.Context, *config.Form, *submission.Submission) error { return down })
	svc.Files = b
	_, err := svc.Accept(context.Background(), &config.Form{ID: "contact"}, withFile("id3"), nil)
	if !errors.Is(err, submission.ErrUnavailable) || !slices.Equal(b.deleted, []string{"files/id3/0"}) {
		t.Errorf("err %v, deleted %v", err, b.deleted)
	}
}

func TestPrepareFiles(t *testing.T) {
	form := &config.Form{Files: &config.FileRules{Types: []string{"application/pdf"}, MaxFileBytes: 10, MaxTotalBytes: 12, MaxFiles: 2}}
	files := []submission.File{{Field: "a", Name: "../a", Data: []byte("%PDF-1.4")}}
	if p := submission.PrepareFiles(form, files); p != nil {
		t.Fatalf("problems %v", p)
	}
	if f := files[0]; f.Name != "a.pdf" || f.Type != "application/pdf" || f.Size != 8 || f.Token == "" {
		t.Errorf("prepared %+v", f)
	}
	// Same content, other name: the duplicate window and Idempotency-Key
	// tell them apart.
	a := &submission.Submission{Files: []submission.File{{Name: "a.pdf", Data: []byte("%PDF-1")}}}
	b := &submission.Submission{Files: []submission.File{{Name: "a.pdf", Data: []byte("%PDF-2")}}}
	if submission.ContentFingerprint("f", a) == submission.ContentFingerprint("f", b) {
		t.Error("files of other content fingerprint alike")
	}
	// A direct upload counts by its id, which names its file for good: a
	// retry can be recognised before the upload is read (Service.Repeat).
	read := &submission.Submission{Files: []submission.File{{Field: "cv", Name: "cv.pdf", Data: []byte("%PDF-1"), Upload: "u1"}}}
	named := &submission.Submission{Files: []submission.File{{Upload: "u1"}}}
	other := &submission.Submission{Files: []submission.File{{Upload: "u2"}}}
	if submission.ContentFingerprint("f", read) != submission.ContentFingerprint("f", named) {
		t.Error("an upload read and the same upload by id fingerprint apart")
	}
	if submission.ContentFingerprint("f", named) == submission.ContentFingerprint("f", other) {
		t.Error("two uploads fingerprint alike")
	}
}
