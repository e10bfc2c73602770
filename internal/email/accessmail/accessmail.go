// Package accessmail is the access report — what is stored about a person,
// emailed to the address that asked — and its sending through SES. Apart
// from package email, so that only the privacy function links disclosure.
package accessmail

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/ses"
)

// AccessReport is the answer to a person's "what do you hold about me?":
// every stored copy as stored — form, when it was received, when it will
// be deleted (or until when a legal hold keeps it), the reply address,
// subject and fields, the consent evidence, and each file sent with it by
// name, type and size (not its content: on request) — and then what
// kontakt never stores. It goes only to the address that asked and verified it.
func AccessReport(lang string, copies []disclosure.Copy) email.Message {
	l := &accessTexts
	var t strings.Builder
	t.WriteString(l.intro.In(lang))
	t.WriteString("\n\n")
	if len(copies) == 0 {
		t.WriteString(l.none.In(lang))
		t.WriteString("\n")
	} else {
		t.WriteString(fmt.Sprintf(l.count.In(lang), len(copies)))
		t.WriteString("\n")
	}
	for i, c := range copies {
		t.WriteString("\n" + strconv.Itoa(i+1) + ". " + l.form.In(lang) + ": " + c.FormID + "\n")
		t.WriteString("   " + l.received.In(lang) + ": " + c.ReceivedAt.In(email.Oslo()).Format("2006-01-02 15:04 MST") + "\n")
		if !c.HeldUntil.IsZero() {
			t.WriteString("   " + fmt.Sprintf(l.held.In(lang), email.Day(c.HeldUntil)) + "\n")
		} else {
			t.WriteString("   " + l.deleted.In(lang) + ": " + c.ExpiresAt.In(email.Oslo()).Format("2006-01-02") + "\n")
		}
		t.WriteString("   " + l.id.In(lang) + ": " + c.ID + "\n")
		if c.ReplyTo != "" {
			t.WriteString("   " + l.replyTo.In(lang) + ": " + c.ReplyTo + "\n")
		}
		if c.Subject != "" {
			t.WriteString("   " + l.subject.In(lang) + ": " + c.Subject + "\n")
		}
		for _, f := range c.Fields {
			t.WriteString("   " + f.Name + ":\n   ")
			email.WriteIndented(&t, f.Value)
			t.WriteString("\n")
		}
		for _, k := range c.Consents {
			t.WriteString("   " + email.ConsentLine(lang, k) + "\n")
		}
		if len(c.Files) > 0 {
			t.WriteString("   " + fmt.Sprintf(l.files.In(lang), len(c.Files)) + "\n")
			for _, f := range c.Files {
				t.WriteString("   - " + f.Name + " (" + f.Type + ", " + email.Size(f.Size) + ")\n")
			}
		}
	}
	if hasFiles(copies) {
		t.WriteString("\n" + l.filesOnRequest.In(lang) + "\n")
	}
	t.WriteString("\n" + l.never.In(lang) + "\n")
	for _, n := range l.neverList {
		t.WriteString("  - " + n.In(lang) + "\n")
	}
	t.WriteString("\n" + l.outro.In(lang) + "\n")
	text := t.String()
	return email.Message{Subject: l.subjectLine.In(lang), Text: text, HTML: email.PreHTML(text)}
}

func hasFiles(copies []disclosure.Copy) bool {
	for _, c := range copies {
		if len(c.Files) > 0 {
			return true
		}
	}
	return false
}

// accessTexts are the report's texts, each in Bokmål and under it in
// English. The %d take counts, the %s the last day of a hold.
var accessTexts = struct {
	subjectLine, intro, none, count                     i18n.Pair
	form, received, deleted, held, id, replyTo, subject i18n.Pair
	files, filesOnRequest                               i18n.Pair
	never                                               i18n.Pair
	neverList                                           []i18n.Pair
	outro                                               i18n.Pair
}{
	subjectLine: i18n.Pair{
		"Dette har vi lagret om deg",
		"What we hold about you",
	},
	intro: i18n.Pair{
		"Du ba om en kopi av det vi har lagret om denne e-postadressen. Her er alt, slik det er lagret.",
		"You asked for a copy of what we have stored about this email address. Here is all of it, as stored.",
	},
	none: i18n.Pair{
		"Vi har ingen lagrede kopier av meldinger fra denne adressen.",
		"We hold no stored copies of messages from this address.",
	},
	count: i18n.Pair{
		"Vi har %d lagrede kopier av meldinger fra deg:",
		"We hold %d stored copies of messages from you:",
	},
	form: i18n.Pair{
		"Skjema",
		"Form",
	},
	received: i18n.Pair{
		"Mottatt",
		"Received",
	},
	deleted: i18n.Pair{
		"Slettes senest",
		"Deleted at the latest",
	},
	held: i18n.Pair{
		"Beholdes til og med %s fordi loven krever det, og slettes deretter",
		"Kept until %s inclusive because the law requires it, and deleted after that",
	},
	id: i18n.Pair{
		"Innsendings-ID",
		"Submission id",
	},
	replyTo: i18n.Pair{
		"E-postadresse",
		"Email address",
	},
	subject: i18n.Pair{
		"Emne",
		"Subject",
	},
	files: i18n.Pair{
		"Filer du sendte med (%d):",
		"Files you sent with it (%d):",
	},
	filesOnRequest: i18n.Pair{
		"Filene du sendte, er lagret slik de ble sendt, og slettes sammen med meldingen. De er ikke lagt ved denne e-posten " +
			"(en e-post kan bare bære noen få megabyte); vil du ha en kopi av dem, kan du be oss om det.",
		"The files you sent are stored as you sent them, and deleted with the message. They are not attached to this email " +
			"(an email carries only a few megabytes); if you want a copy of them, ask us.",
	},
	never: i18n.Pair{
		"Dette lagrer vi aldri:",
		"What we never store:",
	},
	neverList: []i18n.Pair{
		{
			"IP-adressen din (mot misbruk teller vi bare en saltet enveis-hash av den, i tellere som utløper etter noen minutter)",
			"your IP address (against abuse we count only a salted one-way hash of it, in counters that expire after a few minutes)",
		},
		{
			"informasjon om nettleseren eller enheten din, informasjonskapsler eller sporing",
			"details of your browser or device, cookies or tracking",
		},
		{
			"felt du ikke ga samtykke til å lagre (de forkastes før noe lagres eller sendes)",
			"fields you did not consent to our keeping (they are dropped before anything is stored or sent)",
		},
		{
			"skjulte felt og instruksjoner til skjemaet (feltnavn som begynner med _)",
			"hidden fields and instructions to the form (field names starting with _)",
		},
	},
	outro: i18n.Pair{
		"Meldingene ble også sendt som e-post til våre ansatte; de kopiene ligger i deres e-postkasser og er ikke med her. " +
			"Du kan be oss slette alt på samme side som du ba om denne kopien.",
		"Your messages were also emailed to our staff; those copies are in their mailboxes and not listed here. " +
			"You can ask us to delete everything on the same page where you asked for this copy.",
	},
}

// Mailer emails a person the copies stored about them.
type Mailer struct {
	Client           ses.API
	Sender           string
	ConfigurationSet string
}

var _ disclosure.AccessMailer = (*Mailer)(nil)

// SendAccessReport emails the report to the verified address that asked,
// and to no other.
func (m *Mailer) SendAccessReport(ctx context.Context, to, lang string, copies []disclosure.Copy) error {
	return ses.Send(ctx, m.Client, m.ConfigurationSet, m.Sender, []string{to}, AccessReport(lang, copies))
}
