package email_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/submission"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The staff email, byte for byte, for submissions that exercise every
// branch: line breaks of each kind, HTML to escape, a visitor subject that
// looks like a placeholder, consent, no reply address, both languages.
func TestBuildGolden(t *testing.T) {
	received := time.Date(2026, 11, 25, 17, 4, 5, 0, time.UTC)
	for name, tc := range map[string]struct {
		form config.Form
		s    submission.Submission
	}{
		"nb-typical": {
			config.Form{ID: "contact", Subject: "[{form}] {subject}", Language: "nb"},
			submission.Submission{ID: "abc123", ReceivedAt: received, ReplyTo: "kari@example.no", Subject: "Tilbud på nettside",
				Fields: []submission.Field{{Name: "name", Value: "Kari Nordmann"}, {Name: "message", Value: "Hei!\nKan dere\r\nsende\rtilbud?\n\nHilsen Kari"}}},
		},
		"en-escaping-consent": {
			config.Form{ID: "quote", Subject: "{subject} via {form} {form}", Language: "en"},
			submission.Submission{ID: "x<y>", ReceivedAt: received, Subject: "{form} & {subject}\u2028next",
				Fields:   []submission.Field{{Name: "<b>field</b>", Value: `"quoted" & 'single' <script>`}, {Name: "empty", Value: ""}},
				Consents: []submission.Consent{{Purpose: config.PurposeOptionalDetails, Field: "consent", Value: "on \"yes\"", Given: true, PolicyVersion: "2026-01", At: received.Add(time.Second)}}},
		},
		"default-subject-no-consent": {
			config.Form{ID: "job", Subject: "[{form}] {subject}", Language: "xx"},
			submission.Submission{ID: "id", ReceivedAt: received, Consents: []submission.Consent{{Purpose: config.PurposeOptionalDetails, Field: "c", PolicyVersion: "v1", At: received}}},
		},
		// Consents by purpose: staff see marketing at a glance, at the top.
		"nb-consents-by-purpose": {
			config.Form{ID: "contact", Subject: "[{form}] {subject}", Language: "nb"},
			submission.Submission{ID: "def456", ReceivedAt: received, ReplyTo: "ola@example.no",
				Fields: []submission.Field{{Name: "name", Value: "Ola"}, {Name: "message", Value: "Hei"}},
				Consents: []submission.Consent{
					{Purpose: config.PurposeMarketing, Field: "marketing", Value: "on", Given: true, PolicyVersion: "2026-03", At: received},
					{Purpose: config.PurposeOptionalDetails, Field: "details_ok", Value: "", Given: false, PolicyVersion: "2026-03", At: received},
					{Purpose: "newsletter", Field: "news", Value: "ja", Given: true, PolicyVersion: "2026-02", At: received},
				}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := email.Build(&tc.form, &tc.s, nil)
			got := "Subject: " + m.Subject + "\n--- text ---\n" + m.Text + "--- html ---\n" + m.HTML + "\n"
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("email differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestSubjectIsOneShortLine(t *testing.T) {
	long := ""
	for i := 0; i < 300; i++ {
		long += "ø"
	}
	m := email.Build(&config.Form{ID: "contact", Subject: "[{form}] {subject}", Language: "nb"},
		&submission.Submission{Subject: "a\r\nBcc: evil@example.com\t" + long}, nil)
	if want := "[contact] a Bcc: evil@example.com " + long[:2*(250-len("[contact] a Bcc: evil@example.com "))]; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
}
