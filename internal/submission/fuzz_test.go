package submission_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// contactForm is the form the validation tests post to: the message
// required, at most 50 fields of 10,000 characters, sent from origins.
func contactForm(origins ...string) *config.Form {
	return &config.Form{ID: "contact", MaxFields: 50, MaxFieldLength: 10000, AllowedOrigins: origins, RequiredFields: []string{"message"}}
}

var fuzzForm = contactForm("https://www.example.no")

// FuzzCheck: whatever fields arrive, validation never panics, and what it
// accepts is safe to put in headers: the reply address is one plain address
// without line breaks, the subject one line, and no instruction field
// (name starting with "_") becomes content. Seeds: testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	f.Add("email", "kari@example.no", "_subject", "Hei", "message", "Hei!\nHilsen Kari")
	f.Add("_replyto", "kari@example.no\r\nBcc: evil@example.com", "_subject", "a\r\nBcc: x@y.no", "message", "x")
	f.Add("email", "a@b.no, c@d.no", "_cc", "evil@example.com", "message", "x")
	f.Add("email", `"Kari" <kari@example.no>`, "_next", "javascript:alert(1)", "message", "\u2028x")
	f.Add("email", "kari@bølgen.no", "_next", "https://www.exampİe.no/", "message", "x")
	f.Add("_replyto", "kåre@bøl\u200bgen.no", "_next", "https://www.example.no/takk", "message", "x")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3 string) {
		fields := []submission.Field{{Name: n1, Value: v1}, {Name: n2, Value: v2}, {Name: n3, Value: v3}}
		content, ins, err := submission.Check(fuzzForm, fields)
		if err != nil {
			return
		}
		if a := ins.ReplyTo; a != "" {
			// SES sends only to 7-bit ASCII addresses: an accepted address
			// must already be in that form (punycode domain).
			if got, code := submission.ParseReplyTo(a); code != "" || got != a || strings.ContainsAny(a, "\r\n,; <>\"") ||
				strings.ContainsFunc(a, func(r rune) bool { return r > unicode.MaxASCII }) {
				t.Fatalf("accepted reply address %q", a)
			}
		}
		if strings.ContainsFunc(ins.Subject, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
			t.Fatalf("subject %q spans lines", ins.Subject)
		}
		if ins.Next != "" && !submission.RedirectAllowed(fuzzForm, ins.Next) {
			t.Fatalf("redirect %q accepted", ins.Next)
		}
		for _, c := range content {
			if strings.HasPrefix(c.Name, "_") || !utf8.ValidString(c.Name) || !utf8.ValidString(c.Value) {
				t.Fatalf("content field %q", c)
			}
		}
	})
}
