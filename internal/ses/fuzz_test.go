package ses_test

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// FuzzInput builds the SES request from a submission that skipped
// validation altogether (a copy read back from the table, a future code
// path): it never panics, the subject is one line in either language, and
// the addresses are the configured ones plus at most one plain Reply-To.
// Seeds: testdata/fuzz/FuzzInput.
func FuzzInput(f *testing.F) {
	f.Add("kari@example.no", "Hei", "message", "Hei!\nHilsen", "[{form}] {subject}", true)
	f.Add("kari@example.no\r\nBcc: evil@example.com", "a\r\nBcc: b@c.no", "to", "evil@example.com", "{subject}\r\nX: y", false)
	f.Add("a@b.no, c@d.no", "\u2028Subject", "<script>", "</td></tr></table>", "{form}{form}{subject}", true)
	f.Add("kari@bølgen.no", "Hei", "message", "x", "{subject}", true)
	f.Add("kåre@example.no", "Hei", "message", "x", "{subject}", false)
	f.Fuzz(func(t *testing.T, replyTo, subject, name, value, subjectTemplate string, nb bool) {
		lang := "en"
		if nb {
			lang = "nb"
		}
		form := &config.Form{ID: "contact", Sender: "kontakt@example.no", Recipients: []string{"post@example.no", "salg@example.no"},
			Subject: subjectTemplate, Language: lang}
		s := &submission.Submission{ID: "x", FormID: "contact", ReceivedAt: time.Unix(1795885200, 0), ReplyTo: replyTo, Subject: subject,
			Fields: []submission.Field{{Name: name, Value: value}}}
		in := ses.Input(form, s)
		if subj := *in.Message.Subject.Data; strings.ContainsAny(subj, "\r\n\u2028\u2029") {
			t.Fatalf("subject %q spans lines", subj)
		}
		if *in.Source != form.Sender || strings.Join(in.Destination.ToAddresses, ",") != "post@example.no,salg@example.no" ||
			len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) != 0 {
			t.Fatalf("addresses %q -> %+v", *in.Source, in.Destination)
		}
		switch len(in.ReplyToAddresses) {
		case 0:
		case 1:
			a := in.ReplyToAddresses[0]
			p, err := mail.ParseAddress(a)
			// SES takes 7-bit ASCII addresses only (no SMTPUTF8): an
			// internationalised domain must arrive in punycode.
			if err != nil || p.Address != a || strings.ContainsAny(a, "\r\n,;") || strings.ContainsFunc(a, func(r rune) bool { return r > 0x7e || r < 0x21 }) {
				t.Fatalf("Reply-To %q", a)
			}
		default:
			t.Fatalf("Reply-To %q", in.ReplyToAddresses)
		}
		if strings.Contains(*in.Message.Body.Html.Data, "<script>") {
			t.Fatal("a field reached the HTML part unescaped")
		}
	})
}
