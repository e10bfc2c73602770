package email

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// What the privacy messages (packages erasuremail and accessmail) share
// with the staff email: the time zone, the consent evidence, the indented
// field values and the plain HTML part.

// Oslo is the time zone every message shows times in.
func Oslo() *time.Location { return oslo() }

// Day is the last day a hold lasts: it ends at the start of the next (UTC).
func Day(end time.Time) string { return end.Add(-time.Second).UTC().Format("2006-01-02") }

// PreHTML is the HTML part of a message that is its text as written.
func PreHTML(text string) string {
	return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p style="white-space:pre-wrap">` + html.EscapeString(text) + `</p></body></html>`
}

// WriteIndented writes a field's value, its lines after the first indented
// as in the staff email.
func WriteIndented(b *strings.Builder, v string) { writeIndented(b, v) }

// ConsentLine is one consent's evidence in the staff's labels for lang (nb
// unless "en"), as the staff email shows it.
func ConsentLine(lang string, c submission.Consent) string {
	l := labels["nb"]
	if lang == "en" {
		l = labels["en"]
	}
	return consentLine(l, c)
}

func consentLine(l *labelSet, c submission.Consent) string {
	return fmt.Sprintf("%s (%s): %s (%s=%q, %s %s, %s)", l.consent, l.purpose(c.Purpose), l.answer(c.Given), c.Field, c.Value,
		l.policy, c.PolicyVersion, c.At.In(oslo()).Format("2006-01-02 15:04:05 MST"))
}
