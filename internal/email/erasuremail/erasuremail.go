// Package erasuremail is the emails of erasure — the notice to the privacy
// contact, the confirmation to the person, the confirmation links of the
// self-service pages — and their sending through SES. Apart from package
// email, so that only the functions that erase or ask link erasure.
package erasuremail

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/ses"
)

// ErasureNotice is the message to the privacy contact after an erasure: the
// request, and for each erased copy its id, form and received time — which
// staff need to find and delete the matching emails in their mailboxes —
// with the name and size of each file sent with it, and never the address
// or any content.
//
// Copies under a legal hold are listed apart: they are kept, and so are
// their emails, until the hold ends.
func ErasureNotice(r erasure.Receipt, all []erasure.Copy) email.Message {
	var copies, held []erasure.Copy
	for _, c := range all {
		if c.HeldUntil.IsZero() {
			copies = append(copies, c)
		} else {
			held = append(held, c)
		}
	}
	var t strings.Builder
	t.WriteString("Sletteforespørsel / erasure request " + r.RequestID + " (" + r.Source + ")\n\n")
	if len(copies) == 0 {
		t.WriteString("Ingen lagrede kopier ble funnet. Kopier kan likevel finnes i ansattes e-postkasser.\n" +
			"No stored copies were found. Copies may still exist in staff mailboxes.\n")
	} else {
		t.WriteString(strconv.Itoa(len(copies)) + " lagrede kopier slettes nå. Slett også disse e-postene i ansattes e-postkasser\n" +
			"(søk etter innsendings-ID-en nederst i e-posten):\n" +
			strconv.Itoa(len(copies)) + " stored copies are being erased. Also delete these emails in staff mailboxes\n" +
			"(search for the submission id at the bottom of each email):\n\n")
		for _, c := range copies {
			t.WriteString("  " + c.ID + "  " + c.FormID + "  " + c.ReceivedAt.In(email.Oslo()).Format("2006-01-02 15:04 MST") + "\n")
			writeErasedFiles(&t, c)
		}
		if n := countFiles(copies); n > 0 {
			t.WriteString("\n" + strconv.Itoa(n) + " filer sendt med disse kopiene slettes også fra lagringen; er de lagret andre steder\n" +
				"(vedlegg i e-postene, nedlastede filer), slett dem der også.\n" +
				strconv.Itoa(n) + " files sent with these copies are erased from storage too; where they were saved elsewhere\n" +
				"(attachments in the emails, downloaded files), delete them there as well.\n")
		}
	}
	if len(held) > 0 {
		t.WriteString("\n" + strconv.Itoa(len(held)) + " lagrede kopier beholdes fordi loven krever det (rettslig hold), og slettes ikke nå.\n" +
			"Behold også e-postene deres til holdet opphører:\n" +
			strconv.Itoa(len(held)) + " stored copies are kept under a legal obligation (legal hold) and are not erased now.\n" +
			"Keep their emails too until the hold ends:\n\n")
		for _, c := range held {
			t.WriteString("  " + c.ID + "  " + c.FormID + "  " + c.ReceivedAt.In(email.Oslo()).Format("2006-01-02 15:04 MST") +
				"  hold → " + email.Day(c.HeldUntil) + "\n")
			writeErasedFiles(&t, c)
		}
	}
	t.WriteString("\nKvittering / receipt: request_id=" + r.RequestID + "\n")
	text := t.String()
	return email.Message{
		Subject: "Sletting utført / erasure done: " + r.RequestID,
		Text:    text,
		HTML:    "<!doctype html><html><body><pre style=\"font-family:monospace\">" + html.EscapeString(text) + "</pre></body></html>",
	}
}

// writeErasedFiles lists a copy's files under it by name and size, which
// staff need to find saved copies of them: never their content, type or
// where the bucket keeps them.
func writeErasedFiles(t *strings.Builder, c erasure.Copy) {
	for _, f := range c.Files {
		t.WriteString("      fil / file: " + f.Name + " (" + email.Size(f.Size) + ")\n")
	}
}

func countFiles(copies []erasure.Copy) int {
	n := 0
	for _, c := range copies {
		n += len(c.Files)
	}
	return n
}

// doneText is the erasure confirmation in one language; the %d and %s
// take the counts, the last day of the hold and the request id.
type doneText struct {
	subject, done, deleted, held, staff string
}

var doneTexts = [2]doneText{{
	subject: "Opplysningene dine er slettet",
	done:    "Vi har slettet det vi hadde lagret om denne e-postadressen, slik du ba om.\n\n",
	deleted: "Lagrede kopier slettet: %d.\n",
	held:    "Lagrede kopier vi må beholde fordi loven krever det: %d. De beholdes til og med %s og slettes deretter.\n",
	staff:   "\nAnsatte har også fått beskjed om å slette e-postene med meldingene dine.\nReferanse: %s\n",
}, {
	subject: "Your data has been deleted",
	done:    "We have deleted what we stored about this email address, as you asked.\n\n",
	deleted: "Stored copies deleted: %d.\n",
	held:    "Stored copies we must keep because the law requires it: %d. They are kept until %s and deleted after that.\n",
	staff:   "\nStaff have been asked to delete the emails with your messages as well.\nReference: %s\n",
}}

// ErasureDone confirms a self-service erasure to the person: how many
// stored copies were deleted, how many are kept under a legal obligation
// and until when, and that staff have been asked to delete their emails.
func ErasureDone(lang string, r erasure.Receipt) email.Message {
	t := doneTexts[0]
	if lang == "en" {
		t = doneTexts[1]
	}
	text := t.done + fmt.Sprintf(t.deleted, r.Count)
	if r.Held > 0 {
		text += fmt.Sprintf(t.held, r.Held, email.Day(r.HeldUntil))
	}
	text += fmt.Sprintf(t.staff, r.RequestID)
	return email.Message{Subject: t.subject, Text: text, HTML: email.PreHTML(text)}
}

// Notifier tells the privacy contact about erasures.
type Notifier struct {
	Client           ses.API
	Sender           string
	Contact          string
	ConfigurationSet string
}

var _ erasure.Notifier = (*Notifier)(nil)

// NotifyErased emails the erasure notice to the privacy contact.
func (n *Notifier) NotifyErased(ctx context.Context, r erasure.Receipt, copies []erasure.Copy) error {
	return ses.Send(ctx, n.Client, n.ConfigurationSet, n.Sender, []string{n.Contact}, ErasureNotice(r, copies))
}

// PersonNotifier confirms self-service erasures to the person.
type PersonNotifier struct {
	Client           ses.API
	Sender           string
	ConfigurationSet string
}

var _ erasure.PersonNotifier = (*PersonNotifier)(nil)

// NotifyPerson emails the confirmation to the verified address that asked.
func (n *PersonNotifier) NotifyPerson(ctx context.Context, to, lang string, r erasure.Receipt) error {
	return ses.Send(ctx, n.Client, n.ConfigurationSet, n.Sender, []string{to}, ErasureDone(lang, r))
}

// LinkMailer emails confirmation links (erasure or access) to visitors. They go to
// any address a visitor types, so their bounces matter most of all: with
// the configuration set they reach the feedback topic and count in the
// reputation alarms.
type LinkMailer struct {
	Client           ses.API
	Sender           string
	ConfigurationSet string
}

var _ erasure.LinkMailer = (*LinkMailer)(nil)

// SendConfirmLink emails the link to the address that asked.
func (m *LinkMailer) SendConfirmLink(ctx context.Context, to, link, lang, purpose string, expires time.Time) error {
	msg := email.ConfirmLink(link, lang, expires)
	if purpose == erasure.PurposeAccess {
		msg = email.ConfirmAccessLink(link, lang, expires)
	}
	return ses.Send(ctx, m.Client, m.ConfigurationSet, m.Sender, []string{to}, msg)
}
