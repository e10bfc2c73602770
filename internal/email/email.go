// Package email builds the message staff receive for a submission: one
// subject line, a text part and an HTML part showing every content field.
// Headers (From, To, Reply-To) are not built here: the SES adapter passes
// them as API parameters from configuration, so no submitted byte is ever
// parsed as a header.
package email

import (
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
// language, not the visitor's. It writes each part once, straight into its
// buffer: building the email was a large share of the handler's
// allocations (docs/performance.md).
//
// notes say how each of s's files reaches staff (FileNote); nil lists the
// files without saying.
func Build(form *config.Form, s *submission.Submission, notes []FileNote) Message {
	lang := form.Language
	l := labels[lang]
	if l == nil {
		l = labels["en"]
	}
	subj := s.Subject
	if subj == "" {
		subj = l.defaultSubject
	}
	subject := oneLine(fillSubject(form.Subject, form.ID, subj))

	received := s.ReceivedAt.In(oslo()).Format("2006-01-02 15:04 MST")
	var t, h strings.Builder
	n := fieldsLen(s.Fields)
	t.Grow(n + n/16 + 8*len(s.Fields) + 400)
	h.Grow(n + n/8 + 160*len(s.Fields) + 700)

	h.WriteString(`<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">`)
	if len(s.Consents) > 0 {
		// First, so staff see at a glance whether the person agreed to,
		// say, marketing before they answer.
		t.WriteString(l.consents)
		t.WriteString(": ")
		h.WriteString(`<p><b>`)
		htmlEscaper.WriteString(&h, l.consents)
		h.WriteString(`:</b> `)
		for i, c := range s.Consents {
			part := l.purpose(c.Purpose) + ": " + l.answer(c.Given)
			if i > 0 {
				t.WriteString(" · ")
				h.WriteString(" · ")
			}
			t.WriteString(part)
			htmlEscaper.WriteString(&h, part)
		}
		t.WriteString("\n\n")
		h.WriteString(`</p>`)
	}
	h.WriteString(`<table cellpadding="6" style="border-collapse:collapse">`)
	for _, f := range s.Fields {
		t.WriteString(f.Name)
		t.WriteString(":\n")
		writeIndented(&t, f.Value)
		t.WriteString("\n\n")
		h.WriteString(`<tr><th align="left" valign="top" style="border-bottom:1px solid #ddd">`)
		htmlEscaper.WriteString(&h, f.Name)
		h.WriteString(`</th><td style="border-bottom:1px solid #ddd;white-space:pre-wrap">`)
		htmlEscaper.WriteString(&h, f.Value)
		h.WriteString(`</td></tr>`)
	}
	h.WriteString(`</table>`)
	writeFiles(&t, &h, lang, s, notes)
	h.WriteString(`<p style="color:#666;font-size:small">`)

	t.WriteString("-- \n")
	first := true
	meta := func(parts ...string) {
		if !first {
			h.WriteString("<br>")
		}
		first = false
		for _, p := range parts {
			t.WriteString(p)
			htmlEscaper.WriteString(&h, p)
		}
		t.WriteString("\n")
	}
	meta(l.form, ": ", form.ID)
	meta(l.received, ": ", received)
	meta(l.id, ": ", s.ID)
	for _, c := range s.Consents {
		meta(consentLine(l, c))
	}
	if s.ReplyTo != "" {
		meta(l.reply)
	} else {
		meta(l.noReply)
	}
	h.WriteString(`</p></body></html>`)
	return Message{Subject: subject, Text: t.String(), HTML: h.String()}
}

// htmlEscaper escapes exactly as html.EscapeString, but writes into the
// message instead of returning a copy.
var htmlEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// fillSubject puts the form id and the subject into the operator's template
// in one pass, so a visitor's subject that says "{form}" stays as written.
func fillSubject(template, form, subject string) string {
	var b strings.Builder
	b.Grow(len(template) + len(form) + len(subject))
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			b.WriteString(template)
			return b.String()
		}
		b.WriteString(template[:i])
		template = template[i:]
		switch {
		case strings.HasPrefix(template, "{form}"):
			b.WriteString(form)
			template = template[len("{form}"):]
		case strings.HasPrefix(template, "{subject}"):
			b.WriteString(subject)
			template = template[len("{subject}"):]
		default:
			b.WriteByte('{')
			template = template[1:]
		}
	}
}

type labelSet struct {
	defaultSubject, form, received, id, reply, noReply string
	consent, consents, policy, yes, no                 string
	purposes                                           map[string]string
}

// purpose names a consent purpose in the staff's language; one without a
// text of its own is shown as configured.
func (l *labelSet) purpose(p string) string {
	if s, ok := l.purposes[p]; ok {
		return s
	}
	return p
}

func (l *labelSet) answer(given bool) string {
	if given {
		return l.yes
	}
	return l.no
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
		consents:       "Samtykker",
		policy:         "personvernerklæring",
		purposes:       map[string]string{config.PurposeOptionalDetails: "valgfrie opplysninger", config.PurposeMarketing: "markedsføring"},
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
		consents:       "Consents",
		policy:         "privacy policy",
		purposes:       map[string]string{config.PurposeOptionalDetails: "optional details", config.PurposeMarketing: "marketing"},
		yes:            "given",
		no:             "not given",
	},
}

// oneLine makes s safe as a subject: line breaks and other controls become
// spaces, runs of space collapse, and the length is capped.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	runes, space := 0, false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			if runes == maxSubjectRunes {
				break
			}
			b.WriteByte(' ')
			runes++
			space = false
		}
		if runes == maxSubjectRunes {
			break
		}
		b.WriteRune(r)
		runes++
	}
	return b.String()
}

// writeIndented writes v with every line indented by two spaces and CRLF
// or CR line ends made LF.
func writeIndented(b *strings.Builder, v string) {
	b.WriteString("  ")
	// Without a CR (JSON posts), IndexByte finds line ends many bytes at a
	// time; IndexAny goes byte by byte (6% of a submission's CPU).
	next := func(v string) int { return strings.IndexByte(v, '\n') }
	if strings.IndexByte(v, '\r') >= 0 {
		next = func(v string) int { return strings.IndexAny(v, "\r\n") }
	}
	for v != "" {
		i := next(v)
		if i < 0 {
			b.WriteString(v)
			return
		}
		b.WriteString(v[:i])
		if v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n' {
			i++
		}
		b.WriteString("\n  ")
		v = v[i+1:]
	}
}

func fieldsLen(fs []submission.Field) int {
	n := 0
	for _, f := range fs {
		n += len(f.Name) + len(f.Value)
	}
	return n
}
