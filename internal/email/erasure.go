package email

import (
	"html"
	"strconv"
	"strings"

	"github.com/opt-e/kontakt/internal/erasure"
)

// ErasureNotice is the message to the privacy contact after an erasure: the
// request, and for each erased copy its id, form and received time — which
// staff need to find and delete the matching emails in their mailboxes —
// and never the address or any content.
func ErasureNotice(r erasure.Receipt, copies []erasure.Copy) Message {
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
	t.WriteString("\nKvittering / receipt: request_id=" + r.RequestID + "\n")
	text := t.String()
	return Message{
		Subject: "Sletting utført / erasure done: " + r.RequestID,
		Text:    text,
		HTML:    "<!doctype html><html><body><pre style=\"font-family:monospace\">" + html.EscapeString(text) + "</pre></body></html>",
	}
}
