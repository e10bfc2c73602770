package email

import (
	"fmt"
	"html"
	"time"
)

// linkText is a confirmation link email in one language: what was asked,
// until when the link works (open, with the time for %s), what happens
// without it, and the button.
type linkText struct {
	subject, asked, open, otherwise, button string
}

// The two link emails, each in nb and en (the order of i18n's languages).
var (
	erasureLinkTexts = [2]linkText{{
		subject:   "Bekreft sletting av opplysningene dine",
		asked:     "Noen – forhåpentligvis du – har bedt oss slette alt vi har lagret om denne e-postadressen.",
		open:      "Bekreft ved å åpne denne lenken før %s",
		otherwise: "Har du ikke bedt om dette, kan du se bort fra e-posten: ingenting blir slettet.",
		button:    "Bekreft sletting",
	}, {
		subject:   "Confirm deletion of your data",
		asked:     "Someone — hopefully you — asked us to delete everything we have stored about this email address.",
		open:      "To confirm, open this link before %s",
		otherwise: "If you did not ask for this, ignore this email: nothing will be deleted.",
		button:    "Confirm deletion",
	}}
	accessLinkTexts = [2]linkText{{
		subject:   "Bekreft at du vil ha en kopi av opplysningene dine",
		asked:     "Noen – forhåpentligvis du – har bedt oss om en kopi av alt vi har lagret om denne e-postadressen.",
		open:      "Åpne denne lenken før %s for å få den",
		otherwise: "Kopien sendes bare til denne adressen. Har du ikke bedt om dette, kan du se bort fra e-posten: ingenting blir sendt.",
		button:    "Send meg kopien",
	}, {
		subject:   "Confirm your request for a copy of your data",
		asked:     "Someone — hopefully you — asked us for a copy of everything we have stored about this email address.",
		open:      "To get it, open this link before %s",
		otherwise: "The copy is sent to this address only. If you did not ask for this, ignore this email: nothing will be sent.",
		button:    "Send me the copy",
	}}
)

// ConfirmLink is the message a visitor gets after asking for erasure: the
// link, how long it works, and that nothing happens without it.
func ConfirmLink(link, lang string, expires time.Time) Message {
	return linkMessage(&erasureLinkTexts, link, lang, expires)
}

// ConfirmAccessLink is the message a visitor gets after asking for a copy
// of what is stored: the link, how long it works, and that the copy goes
// to this address only.
func ConfirmAccessLink(link, lang string, expires time.Time) Message {
	return linkMessage(&accessLinkTexts, link, lang, expires)
}

func linkMessage(texts *[2]linkText, link, lang string, expires time.Time) Message {
	t := texts[0]
	if lang == "en" {
		t = texts[1]
	}
	until := expires.In(oslo()).Format("2006-01-02 15:04 MST")
	text := t.asked + "\n\n" + fmt.Sprintf(t.open, until) + ":\n\n" + link + "\n\n" + t.otherwise + "\n"
	return Message{Subject: t.subject, Text: text, HTML: linkHTML(text, link, t.button)}
}

func linkHTML(text, link, button string) string {
	return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5"><p style="white-space:pre-wrap">` +
		html.EscapeString(text) + `</p><p><a href="` + html.EscapeString(link) + `">` + html.EscapeString(button) + `</a></p></body></html>`
}
