package email

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
)

// ErasureNotice is the message to the privacy contact after an erasure: the
// request, and for each erased copy its id, form and received time — which
// staff need to find and delete the matching emails in their mailboxes —
// with the name and size of each file sent with it, and never the address
// or any content.
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
			t.WriteString("  " + c.ID + "  " + c.FormID + "  " + c.ReceivedAt.In(oslo()).Format("2006-01-02 15:04 MST") +
				"  hold → " + day(c.HeldUntil) + "\n")
			writeErasedFiles(&t, c)
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

// writeErasedFiles lists a copy's files under it by name and size, which
// staff need to find saved copies of them: never their content, type or
// where the bucket keeps them.
func writeErasedFiles(t *strings.Builder, c erasure.Copy) {
	for _, f := range c.Files {
		t.WriteString("      fil / file: " + f.Name + " (" + Size(f.Size) + ")\n")
	}
}

func countFiles(copies []erasure.Copy) int {
	n := 0
	for _, c := range copies {
		n += len(c.Files)
	}
	return n
}

// day is the last day a hold lasts: it ends at the start of the next (UTC).
func day(end time.Time) string { return end.Add(-time.Second).UTC().Format("2006-01-02") }

// ErasureDone confirms a self-service erasure to the person: how many
// stored copies were deleted, how many are kept under a legal obligation
// and until when, and that staff have been asked to delete their emails.
func ErasureDone(lang string, r erasure.Receipt) Message {
	var t strings.Builder
	if lang == "en" {
		t.WriteString("We have deleted what we stored about this email address, as you asked.\n\n")
		t.WriteString("Stored copies deleted: " + strconv.Itoa(r.Count) + ".\n")
		if r.Held > 0 {
			t.WriteString("Stored copies we must keep because the law requires it: " + strconv.Itoa(r.Held) +
				". They are kept until " + day(r.HeldUntil) + " and deleted after that.\n")
		}
		t.WriteString("\nStaff have been asked to delete the emails with your messages as well.\nReference: " + r.RequestID + "\n")
		text := t.String()
		return Message{Subject: "Your data has been deleted", Text: text, HTML: preHTML(text)}
	}
	t.WriteString("Vi har slettet det vi hadde lagret om denne e-postadressen, slik du ba om.\n\n")
	t.WriteString("Lagrede kopier slettet: " + strconv.Itoa(r.Count) + ".\n")
	if r.Held > 0 {
		t.WriteString("Lagrede kopier vi må beholde fordi loven krever det: " + strconv.Itoa(r.Held) +
			". De beholdes til og med " + day(r.HeldUntil) + " og slettes deretter.\n")
	}
	t.WriteString("\nAnsatte har også fått beskjed om å slette e-postene med meldingene dine.\nReferanse: " + r.RequestID + "\n")
	text := t.String()
	return Message{Subject: "Opplysningene dine er slettet", Text: text, HTML: preHTML(text)}
}

func preHTML(text string) string {
	return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p style="white-space:pre-wrap">` + html.EscapeString(text) + `</p></body></html>`
}
