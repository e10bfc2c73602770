package accessmail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/email/accessmail"
	"github.com/opt-e/kontakt/internal/submission"
)

// The access report lists each file by name, type and size under its copy,
// says the files are had on request, and no longer claims files are never
// stored. No content, key or link token.
func TestAccessReportListsFiles(t *testing.T) {
	at := time.Date(2026, 11, 25, 17, 4, 0, 0, time.UTC)
	c := disclosure.Copy{Submission: submission.Submission{ID: "A1", FormID: "soknad", ReceivedAt: at, ExpiresAt: at.AddDate(0, 0, 30),
		Files: []submission.File{{Name: "cv.pdf", Type: "application/pdf", Size: 123456, Key: "files/A1/0", Token: "secret-token", Data: []byte("%PDF-CONTENT")}}}}
	for lang, want := range map[string][]string{
		"nb": {"Filer du sendte med (1):\n   - cv.pdf (application/pdf, 123 KB)\n", "vil du ha en kopi av dem, kan du be oss om det"},
		"en": {"Files you sent with it (1):\n   - cv.pdf (application/pdf, 123 KB)\n", "if you want a copy of them, ask us"},
	} {
		m := accessmail.AccessReport(lang, []disclosure.Copy{c})
		for _, w := range want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s: lacks %q:\n%s", lang, w, m.Text)
			}
		}
		for _, never := range []string{"files/A1", "secret-token", "%PDF", "vedlegg og filer", "attachments and files"} {
			if strings.Contains(m.Text, never) {
				t.Errorf("%s: carries %q", lang, never)
			}
		}
		if m := accessmail.AccessReport(lang, []disclosure.Copy{{Submission: submission.Submission{ID: "B", ExpiresAt: at}}}); strings.Contains(m.Text, "kopi av dem") || strings.Contains(m.Text, "copy of them") {
			t.Errorf("%s: a report without files offers them", lang)
		}
	}
}
