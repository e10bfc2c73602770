package email

import (
	"html"
	"time"
)

// ConfirmLink is the message a visitor gets after asking for erasure: the
// link, how long it works, and that nothing happens without it.
func ConfirmLink(link, lang string, expires time.Time) Message {
	until := expires.In(oslo()).Format("2006-01-02 15:04 MST")
	if lang == "en" {
		text := "Someone — hopefully you — asked us to delete everything we have stored about this email address.\n\n" +
			"To confirm, open this link before " + until + ":\n\n" + link + "\n\n" +
			"If you did not ask for this, ignore this email: nothing will be deleted.\n"
		return Message{Subject: "Confirm deletion of your data", Text: text, HTML: linkHTML(text, link, "Confirm deletion")}
	}
	text := "Noen – forhåpentligvis du – har bedt oss slette alt vi har lagret om denne e-postadressen.\n\n" +
		"Bekreft ved å åpne denne lenken før " + until + ":\n\n" + link + "\n\n" +
		"Har du ikke bedt om dette, kan du se bort fra e-posten: ingenting blir slettet.\n"
	return Message{Subject: "Bekreft sletting av opplysningene dine", Text: text, HTML: linkHTML(text, link, "Bekreft sletting")}
}

// ConfirmAccessLink is the message a visitor gets after asking for a copy
// of what is stored: the link, how long it works, and that the copy goes
// to this address only.
func ConfirmAccessLink(link, lang string, expires time.Time) Message {
	until := expires.In(oslo()).Format("2006-01-02 15:04 MST")
	if lang == "en" {
		text := "Someone — hopefully you — asked us for a copy of everything we have stored about this email address.\n\n" +
			"To get it, open this link before " + until + ":\n\n" + link + "\n\n" +
			"The copy is sent to this address only. If you did not ask for this, ignore this email: nothing will be sent.\n"
		return Message{Subject: "Confirm your request for a copy of your data", Text: text, HTML: linkHTML(text, link, "Send me the copy")}
	}
	text := "Noen – forhåpentligvis du – har bedt oss om en kopi av alt vi har lagret om denne e-postadressen.\n\n" +
		"Åpne denne lenken før " + until + " for å få den:\n\n" + link + "\n\n" +
		"Kopien sendes bare til denne adressen. Har du ikke bedt om dette, kan du se bort fra e-posten: ingenting blir sendt.\n"
	return Message{Subject: "Bekreft at du vil ha en kopi av opplysningene dine", Text: text, HTML: linkHTML(text, link, "Send meg kopien")}
}

func linkHTML(text, link, button string) string {
	return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p style="white-space:pre-wrap">` +
		html.EscapeString(text) + `</p><p><a href="` + html.EscapeString(link) + `">` + html.EscapeString(button) + `</a></p></body></html>`
}
