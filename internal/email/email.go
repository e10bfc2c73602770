// Package email builds the message staff receive for a submission: one
// subject line, a text part and an HTML part showing every content field.
// Headers (From, To, Reply-To) are not built here: the SES adapter passes
// them as API parameters from configuration, so no submitted byte is ever
// parsed as a header.
package email

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// Message is the content of one staff email.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

// Oslo is where the first operator's staff read the received time. Loaded
// once, on the first email rather than at init: a cold start caused by a
// CORS preflight, or in the erase function, does not need it. A missing
// tzdata falls back to UTC rather than failing a submission.
var oslo = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return loc
	}
	return time.UTC
})

const maxSubjectRunes = 250

// Build renders s for the staff of form. Staff texts are in the form's
// language, not the visitor's.
func Build(form *config.Form, s *submission.Submission) Message {
	lang := form.Language
	l := labels[lang]
	if l == nil {
		l = labels["en"]
	}
	subj := s.Subject
	if subj == "" {
		subj = l.defaultSubject
	}
	subject := strings.NewReplacer("{form}", form.ID, "{subject}", subj).Replace(form.Subject)
	subject = oneLine(subject)

	received := s.ReceivedAt.In(oslo()).Format("2006-01-02 15:04 MST")
	var t, h strings.Builder
	t.Grow(256 + 2*fieldsLen(s.Fields))
	h.Grow(1024 + 3*fieldsLen(s.Fields))

	h.WriteString(`<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">`)
	h.WriteString(`<table cellpadding="6" style="border-collapse:collapse">`)
	row := func(name, value string) {
		t.WriteString(name)
		t.WriteString(":\n")
		t.WriteString(indent(value))
		t.WriteString("\n\n")
		h.WriteString(`<tr><th align="left" valign="top" style="border-bottom:1px solid #ddd">`)
		h.WriteString(html.EscapeString(name))
		h.WriteString(`</th><td style="border-bottom:1px solid #ddd;white-space:pre-wrap">`)
		h.WriteString(html.EscapeString(value))
		h.WriteString(`</td></tr>`)
	}
	for _, f := range s.Fields {
		row(f.Name, f.Value)
	}
	h.WriteString(`</table><p style="color:#666;font-size:small">`)

	t.WriteString("-- \n")
	meta := []string{
		l.form + ": " + form.ID,
		l.received + ": " + received,
		l.id + ": " + s.ID,
	}
	if c := s.Consent; c != nil {
		answer := l.no
		if c.Given {
			answer = l.yes
		}
		meta = append(meta, fmt.Sprintf("%s: %s (%s=%q, %s %s, %s)", l.consent, answer, c.Field, c.Value,
			l.policy, c.PolicyVersion, c.At.In(oslo()).Format("2006-01-02 15:04:05 MST")))
	}
	if s.ReplyTo != "" {
		meta = append(meta, l.reply)
	} else {
		meta = append(meta, l.noReply)
	}
	for i, m := range meta {
		t.WriteString(m)
		t.WriteString("\n")
		if i > 0 {
			h.WriteString("<br>")
		}
		h.WriteString(html.EscapeString(m))
	}
	h.WriteString(`</p></body></html>`)
	return Message{Subject: subject, Text: t.String(), HTML: h.String()}
}

type labelSet struct {
	defaultSubject, form, received, id, reply, noReply string
	consent, policy, yes, no                           string
}

var labels = map[string]*labelSet{
	"nb": {
		defaultSubject: "Ny melding fra kontaktskjemaet",
		form:           "Skjema",
		received:       "Mottatt",
		id:             "Innsendings-ID",
		reply:          "Svar på denne e-posten for å svare avsenderen.",
		noReply:        "Avsenderen oppga ingen e-postadresse.",
		consent:        "Samtykke",
		policy:         "personvernerklæring",
		yes:            "gitt",
		no:             "ikke gitt",
	},
	"en": {
		defaultSubject: "New message from the contact form",
		form:           "Form",
		received:       "Received",
		id:             "Submission id",
		reply:          "Reply to this email to answer the sender.",
		noReply:        "The sender gave no email address.",
		consent:        "Consent",
		policy:         "privacy policy",
		yes:            "given",
		no:             "not given",
	},
}

// oneLine makes s safe as a subject: line breaks and other controls become
// spaces, runs of space collapse, and the length is capped.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSubjectRunes {
		s = string(r[:maxSubjectRunes])
	}
	return s
}

func indent(v string) string {
	v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	return "  " + strings.ReplaceAll(v, "\n", "\n  ")
}

func fieldsLen(fs []submission.Field) int {
	n := 0
	for _, f := range fs {
		n += len(f.Name) + len(f.Value)
	}
	return n
}
