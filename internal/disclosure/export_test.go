package disclosure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/submission"
)

type fake struct {
	copies   []disclosure.Copy
	receipts []disclosure.Receipt
	failPut  error
	keys     []string // the lookup keys read
}

// ByLookupKey finds the same copy under every key: ByAddress must count it
// once.
func (f *fake) ByLookupKey(_ context.Context, key string) ([]disclosure.Copy, error) {
	f.keys = append(f.keys, key)
	return f.copies, nil
}
func (f *fake) ByID(_ context.Context, id string) (*disclosure.Copy, error) {
	for _, c := range f.copies {
		if c.ID == id {
			return &c, nil
		}
	}
	return nil, nil
}
func (f *fake) ByForm(context.Context, string, time.Time, time.Time) ([]disclosure.Copy, error) {
	return f.copies, nil
}
func (f *fake) PutReceipt(_ context.Context, r disclosure.Receipt) error {
	if f.failPut != nil {
		return f.failPut
	}
	f.receipts = append(f.receipts, r)
	return nil
}

// Bad input is refused before anything is read or written; no content
// leaves without its receipt; the receipt never names the address.
func TestExport(t *testing.T) {
	f := &fake{copies: []disclosure.Copy{{Submission: submission.Submission{ID: "a", FormID: "contact", ReplyTo: "kari@example.no",
		Fields: []submission.Field{{Name: "message", Value: "hei"}}}}}}
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	x := &disclosure.Exporter{Reader: f, Receipts: f, LookupKeys: keys, Retention: time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		sel    disclosure.ExportSelector
		reason string
		want   error
	}{
		"no reason":    {disclosure.ExportSelector{Email: "kari@example.no"}, " ", disclosure.ErrNoReason},
		"nothing":      {disclosure.ExportSelector{}, "r", disclosure.ErrSelector},
		"two":          {disclosure.ExportSelector{Email: "kari@example.no", SubmissionID: "a"}, "r", disclosure.ErrSelector},
		"bad address":  {disclosure.ExportSelector{Email: "kari"}, "r", disclosure.ErrInvalidEmail},
		"bad id":       {disclosure.ExportSelector{SubmissionID: "receipt#x"}, "r", disclosure.ErrInvalidCopyID},
		"range":        {disclosure.ExportSelector{FormID: "contact", From: day, To: day.AddDate(0, 0, -1)}, "r", disclosure.ErrRange},
		"unknown id":   {disclosure.ExportSelector{SubmissionID: "b"}, "r", disclosure.ErrUnknownCopy},
		"no form days": {disclosure.ExportSelector{FormID: "contact"}, "r", disclosure.ErrRange},
	} {
		var out bytes.Buffer
		if _, err := x.Export(context.Background(), tc.sel, tc.reason, "op", &out); !errors.Is(err, tc.want) || out.Len() > 0 {
			t.Errorf("%s: err %v (want %v), wrote %d bytes", name, err, tc.want, out.Len())
		}
	}
	if len(f.receipts) != 0 {
		t.Fatalf("refused exports left receipts: %+v", f.receipts)
	}
	f.failPut = errors.New("dynamodb down")
	var out bytes.Buffer
	if _, err := x.Export(context.Background(), disclosure.ExportSelector{Email: "kari@example.no"}, "Tvist", "op", &out); err == nil || out.Len() > 0 {
		t.Errorf("without a receipt the export went on: %v, %d bytes", err, out.Len())
	}
	f.failPut = nil
	r, err := x.Export(context.Background(), disclosure.ExportSelector{Email: "kari@example.no"}, "Tvist", "arn:aws:iam::1:user/op", &out)
	if err != nil || r.Count != 1 || len(f.receipts) != 1 || !strings.Contains(out.String(), `"hei"`) || !strings.Contains(out.String(), r.ID) {
		t.Fatalf("export: %+v %v %s", r, err, out.String())
	}
	// Under the keyed lookup key, and the plain hash older copies carry.
	if n := len(f.keys); n < 2 || f.keys[n-2] != keys.Key("kari@example.no") || f.keys[n-1] != submission.LegacyLookupKey("kari@example.no") {
		t.Errorf("lookup keys read: %q", f.keys)
	}
	if got := f.receipts[0]; got.Selector != "email" || got.By != "arn:aws:iam::1:user/op" || got.Reason != "Tvist" || strings.Contains(got.Selector+got.Reason, "kari") {
		t.Errorf("receipt = %+v", got)
	}
}

// The export lists a copy's files (field, name, type, size and bucket key)
// but neither their content nor their download links' tokens.
func TestExportListsFiles(t *testing.T) {
	f := &fake{copies: []disclosure.Copy{{Submission: submission.Submission{ID: "a", FormID: "soknad",
		Files: []submission.File{{Field: "cv", Name: "cv.pdf", Type: "application/pdf", Size: 1234, Key: "files/a/0", Token: "secret-token", Data: []byte("%PDF-x")}}}}}}
	x := &disclosure.Exporter{Reader: f, Receipts: f, Retention: time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	var out bytes.Buffer
	if _, err := x.Export(context.Background(), disclosure.ExportSelector{SubmissionID: "a"}, "Tvist", "op", &out); err != nil {
		t.Fatal(err)
	}
	var file disclosure.File
	if err := json.Unmarshal(out.Bytes(), &file); err != nil {
		t.Fatal(err)
	}
	want := []disclosure.FileAttachment{{Field: "cv", Name: "cv.pdf", Type: "application/pdf", Size: 1234, Key: "files/a/0"}}
	if got := file.Copies[0].Files; !slices.Equal(got, want) {
		t.Errorf("files = %+v, want %+v", got, want)
	}
	if s := out.String(); strings.Contains(s, "secret-token") || strings.Contains(s, "PDF-x") || strings.Contains(s, "JVBER") {
		t.Errorf("export carries a token or content:\n%s", s)
	}
}
