package email

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
)

// ErasureNotice is the message to the privacy contact after an erasure: the
// request, and for each erased copy its id, form and received time — which
// staff need to find and delete the matching emails in their mailboxes —
// and never the address or any content.
//
// Copies under a legal hold are listed apart: they are kept, and so are
// their emails, until the hold ends.
func ErasureNotice(r erasure.Receipt, all []erasure.Copy) Message {
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
			t.WriteString("  " + c.ID + "  " + c.FormID + "  " + c.ReceivedAt.In(oslo()).Format("2006-01-02 15:04 MST") + "\n")
		}
	}
	if len(held) > 0 {
		t.WriteString("\n" + strconv.Itoa(len(held)) + " lagrede kopier beholdes fordi loven krever det (rettslig hold), og slettes ikke nå.\n" +
			"Behold også e-postene deres til holdet opphører:\n" +
			strconv.Itoa(len(held)) + " stored copies are kept under a legal obligation (legal hold) and are not erased now.\n" +
			"Keep their emails too until the hold ends:\n\n")
		for _, c := range held {
			t.WriteString("  " + c.ID + "  " + c.FormID + "  " + c.ReceivedAt.In(oslo()).Format("2006-01-02 15:04 MST") +
				"  hold → " + day(c.HeldUntil) + "\n")
		}
	}
	t.WriteString("\nKvittering / receipt: request_id=" + r.RequestID + "\n")
	text := t.String()
	return Message{
		Subject: "Sletting utført / erasure done: " + r.RequestID,
		Text:    text,
		HTML:    "<!doctype html><html><body><pre style=\"font-family:monospace\">" + html.EscapeString(text) + "</pre></body></html>",
	}
}

// day is the last day a hold lasts: it ends at the start of the next (UTC).
func day(end time.Time) string { return end.Add(-time.Second).UTC().Format("2006-01-02") }

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
func ErasureDone(lang string, r erasure.Receipt) Message {
	t := doneTexts[0]
	if lang == "en" {
		t = doneTexts[1]
	}
	text := t.done + fmt.Sprintf(t.deleted, r.Count)
	if r.Held > 0 {
		text += fmt.Sprintf(t.held, r.Held, day(r.HeldUntil))
	}
	text += fmt.Sprintf(t.staff, r.RequestID)
	return Message{Subject: t.subject, Text: text, HTML: preHTML(text)}
}

func preHTML(text string) string {
	return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p style="white-space:pre-wrap">` + html.EscapeString(text) + `</p></body></html>`
}
