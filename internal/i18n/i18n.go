// Package i18n holds every text a visitor reads, in Norwegian Bokmål and
// English, and picks the language from Accept-Language.
package i18n

import (
	"strconv"
	"strings"
)

// Pick returns "nb" or "en" from an Accept-Language header, taking the
// visitor's preferences in q order; fallback is the form's default. Nynorsk
// and the generic "no" are answered in Bokmål, which every Norwegian reader
// reads.
func Pick(acceptLanguage, fallback string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
			v, err := strconv.ParseFloat(p[2:], 64)
			if err != nil {
				continue
			}
			q = v
		}
		lang := match(tag)
		if lang != "" && q > bestQ && q > 0 {
			best, bestQ = lang, q
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

func match(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch primary {
	case "nb", "no", "nn":
		return "nb"
	case "en":
		return "en"
	}
	return ""
}

// Key names a text.
type Key string

// Texts shown to visitors.
const (
	Required      Key = "required"
	TooLong       Key = "too_long"
	InvalidEmail  Key = "invalid_email"
	OneAddress    Key = "one_address"
	InvalidChars  Key = "invalid_chars"
	TooManyFields Key = "too_many_fields"
	BadRedirect   Key = "bad_redirect"
	BadName       Key = "bad_name"
	Consent       Key = "consent_required"
	EmailNotASCII Key = "email_not_ascii"
	EmailTooLong  Key = "email_too_long"
	Empty         Key = "empty"
	FileType      Key = "file_type"
	FileTooLarge  Key = "file_too_large"
	FilesTooLarge Key = "files_too_large"
	TooManyFiles  Key = "too_many_files"
	FileEmpty     Key = "file_empty"
	FileNotFound  Key = "file_not_found"
	UploadInvalid Key = "upload_invalid"
	LinkExpired   Key = "link_expired"
	FileScanning  Key = "file_scanning"
	FileWithheld  Key = "file_withheld"

	// Abuse protection (codes from package abuse).
	TooManyLinks    Key = "too_many_links"
	BlockedContent  Key = "blocked_content"
	InvalidPhone    Key = "invalid_phone"
	InvalidFormat   Key = "invalid_format"
	FormExpired     Key = "form_expired"
	CaptchaRequired Key = "captcha_required"
	CaptchaFailed   Key = "captcha_failed"
	OriginRequired  Key = "origin_required"
	RateLimited     Key = "rate_limited"
	CheckFailed     Key = "check_unavailable"
	TokenOff        Key = "token_off"

	ThanksTitle   Key = "thanks_title"
	ThanksBody    Key = "thanks_body"
	QueuedBody    Key = "queued_body"
	ErrorTitle    Key = "error_title"
	Back          Key = "back"
	Malformed     Key = "malformed"
	Unsupported   Key = "unsupported"
	TooLarge      Key = "too_large"
	UnknownForm   Key = "unknown_form"
	NoFileUploads Key = "no_file_uploads"
	NestedValue   Key = "nested_value"
	NotAllowed    Key = "not_allowed"
	OriginRefused Key = "origin_refused"
	Unavailable   Key = "unavailable"
	FixFields     Key = "fix_fields"
	InternalError Key = "internal_error"
	// KeyReused: the post's idempotency key came with another message.
	KeyReused Key = "idempotency_key_reused"

	// Shown by the embeddable script (kontakt.js) while it sends, and when
	// the browser could not reach kontakt or read its answer.
	Sending            Key = "sending"
	NetworkError       Key = "network_error"
	ErasureTitle       Key = "erasure_title"
	ErasureIntro       Key = "erasure_intro"
	ErasureEmailLabel  Key = "erasure_email_label"
	ErasureSend        Key = "erasure_send"
	ErasureAsked       Key = "erasure_asked"
	ErasureAskedBody   Key = "erasure_asked_body"
	ErasureConfirm     Key = "erasure_confirm"
	ErasureConfirmBody Key = "erasure_confirm_body"
	ErasureConfirmBtn  Key = "erasure_confirm_button"
	ErasureQueued      Key = "erasure_queued"
	ErasureQueuedBody  Key = "erasure_queued_body"
	ErasureRefused     Key = "erasure_refused"
	TokenInvalid       Key = "token_invalid"
	TokenExpired       Key = "token_expired"
	TokenUsed          Key = "token_used"
	PrivacyContact     Key = "privacy_contact"
	Complaint          Key = "complaint"

	// The privacy page: access requests and the policy link.
	PrivacyTitle      Key = "privacy_title"
	AccessTitle       Key = "access_title"
	AccessIntro       Key = "access_intro"
	AccessSend        Key = "access_send"
	AccessAskedBody   Key = "access_asked_body"
	AccessConfirm     Key = "access_confirm"
	AccessConfirmBody Key = "access_confirm_body"
	AccessConfirmBtn  Key = "access_confirm_button"
	AccessSent        Key = "access_sent"
	AccessSentBody    Key = "access_sent_body"
	PolicyLink        Key = "policy_link"
	PolicyVersion     Key = "policy_version"
)

// Pair is one text in Norwegian Bokmål and English, in that order, so that
// a text and its translation are written together.
type Pair [2]string

// In is the text in lang: English for "en", Bokmål (the default) else.
func (p Pair) In(lang string) string {
	if lang == "en" {
		return p[1]
	}
	return p[0]
}

var texts = map[Key]Pair{ // %d is the limit where one applies
	Required:      {"Dette feltet må fylles ut.", "This field is required."},
	TooLong:       {"Teksten er for lang (høyst %d tegn).", "The text is too long (at most %d characters)."},
	InvalidEmail:  {"Skriv inn en gyldig e-postadresse.", "Enter a valid email address."},
	OneAddress:    {"Skriv inn bare én e-postadresse.", "Enter only one email address."},
	InvalidChars:  {"Feltet inneholder tegn som ikke er tillatt.", "The field contains characters that are not allowed."},
	TooManyFields: {"Skjemaet har for mange felt (høyst %d).", "The form has too many fields (at most %d)."},
	BadRedirect:   {"Adressen det skal videresendes til, hører ikke til dette nettstedet.", "The redirect address does not belong to this site."},
	EmailNotASCII: {"Vi kan ikke sende svar til en adresse med æ, ø, å eller andre spesialtegn foran @. Bruk en annen e-postadresse.", "We cannot reply to an address with letters such as æ, ø or å before the @. Please use another email address."},
	EmailTooLong:  {"E-postadressen er for lang (høyst 64 tegn foran @ og 254 i alt).", "The email address is too long (at most 64 characters before the @ and 254 in all)."},
	BadName:       {"Et feltnavn er tomt, for langt eller har ugyldige tegn (høyst %d tegn).", "A field name is empty, too long or has invalid characters (at most %d characters)."},

	FileType:      {"Denne filtypen kan ikke sendes med dette skjemaet.", "This type of file cannot be sent with this form."},
	FileTooLarge:  {"Filen er for stor (høyst %d MB).", "The file is too large (at most %d MB)."},
	FilesTooLarge: {"Filene er for store til sammen (høyst %d MB).", "The files are too large together (at most %d MB)."},
	TooManyFiles:  {"For mange filer (høyst %d).", "Too many files (at most %d)."},
	FileEmpty:     {"Filen er tom.", "The file is empty."},
	FileNotFound:  {"Filen finnes ikke, eller er slettet.", "The file does not exist, or has been deleted."},
	FileScanning:  {"Filen sjekkes for skadelig innhold. Prøv igjen om et minutt.", "The file is being checked for malicious content. Try again in a minute."},
	FileWithheld:  {"Filen holdes tilbake: sjekken fant skadelig innhold i den, eller kunne ikke sjekke den. Spør driftsansvarlig.", "The file is withheld: the check found malicious content in it, or could not check it. Ask the operator."},
	UploadInvalid: {"En opplastet fil er utløpt, allerede brukt eller ikke gyldig. Velg filen på nytt og send igjen.", "An uploaded file has expired, was used already or is not valid. Choose the file again and send again."},
	LinkExpired:   {"Lenken er utløpt. Filen kan hentes av driftsansvarlig så lenge den oppbevares.", "The link has expired. The operator can fetch the file while it is kept."},

	Empty:   {"Skjemaet er tomt. Fyll ut feltene og send igjen.", "The form is empty. Fill in the fields and send again."},
	Consent: {"Du må samtykke for å sende skjemaet.", "You must give your consent to send this form."},

	TooManyLinks:    {"Meldingen har for mange lenker (høyst %d).", "The message has too many links (at most %d)."},
	BlockedContent:  {"Feltet inneholder tekst som ikke tas imot her.", "The field contains text that is not accepted here."},
	InvalidPhone:    {"Skriv telefonnummeret med sifre, mellomrom og eventuelt +.", "Write the phone number with digits, spaces and an optional +."},
	InvalidFormat:   {"Feltet har ikke riktig format.", "The field is not in the expected format."},
	FormExpired:     {"Skjemaet er utløpt. Last inn siden på nytt og send igjen.", "The form has expired. Reload the page and send again."},
	CaptchaRequired: {"Bekreft at du ikke er en robot.", "Please confirm that you are not a robot."},
	CaptchaFailed:   {"Vi kunne ikke bekrefte at du ikke er en robot. Prøv igjen.", "We could not confirm that you are not a robot. Please try again."},
	OriginRequired:  {"Skjemaet tar bare imot meldinger sendt fra sine egne nettsider, og nettleseren sa ikke hvor meldingen kom fra.", "This form only accepts messages sent from its own web pages, and the browser did not say where this one came from."},
	RateLimited:     {"Det er sendt mange meldinger på kort tid. Vent litt og prøv igjen.", "Too many messages were sent in a short time. Please wait a little and try again."},
	CheckFailed:     {"Vi kunne ikke kontrollere meldingen akkurat nå, så den er ikke sendt. Prøv igjen om litt.", "We could not check your message right now, so it was not sent. Please try again shortly."},
	TokenOff:        {"Skjemaet bruker ikke skjemanøkler.", "This form does not use form tokens."},

	ThanksTitle:   {"Takk for meldingen", "Thank you for your message"},
	ThanksBody:    {"Vi har mottatt meldingen din og svarer så snart vi kan.", "We have received your message and will reply as soon as we can."},
	QueuedBody:    {"Vi har mottatt meldingen din. Den blir levert til oss om kort tid, og vi svarer så snart vi kan.", "We have received your message. It will reach us shortly, and we will reply as soon as we can."},
	ErrorTitle:    {"Meldingen ble ikke sendt", "Your message was not sent"},
	Back:          {"Gå tilbake til skjemaet", "Go back to the form"},
	Malformed:     {"Forespørselen kunne ikke leses.", "The request could not be read."},
	Unsupported:   {"Skjemaet må sendes som JSON, URL-koding eller multipart/form-data.", "The form must be sent as JSON, URL-encoded or multipart/form-data."},
	TooLarge:      {"Meldingen er for stor (høyst %d byte).", "The message is too large (at most %d bytes)."},
	UnknownForm:   {"Skjemaet finnes ikke.", "This form does not exist."},
	NoFileUploads: {"Skjemaet tar ikke imot filer.", "This form does not accept files."},
	NestedValue:   {"Feltverdiene må være tekst, tall, sann/usann eller lister av dem.", "Field values must be text, numbers, true/false or lists of them."},
	NotAllowed:    {"Metoden er ikke tillatt her.", "Method not allowed."},
	OriginRefused: {"Dette nettstedet har ikke lov til å sende til skjemaet.", "This site is not allowed to post to this form."},
	Unavailable:   {"Meldingen kunne ikke tas imot akkurat nå. Prøv igjen om litt.", "Your message could not be received right now. Please try again shortly."},
	FixFields:     {"Rett opp feltene som er merket, og send igjen.", "Please correct the marked fields and send again."},
	InternalError: {"Noe gikk galt hos oss.", "Something went wrong on our side."},
	KeyReused: {"Meldingen ble ikke sendt: den kom med en nøkkel som allerede er brukt for en annen melding. Last inn siden på nytt og send den igjen.",
		"Your message was not sent: it came with a key already used for a different message. Reload the page and send it again."},

	Sending:            {"Sender …", "Sending …"},
	NetworkError:       {"Meldingen ble ikke sendt. Sjekk nettforbindelsen og prøv igjen.", "Your message was not sent. Check your connection and try again."},
	ErasureTitle:       {"Slett opplysningene mine", "Delete my data"},
	ErasureIntro:       {"Skriv inn e-postadressen du brukte i kontaktskjemaet. Vi sender en lenke til den adressen; ingenting slettes før du har bekreftet via lenken.", "Enter the email address you used in the contact form. We will send a link to that address; nothing is deleted until you confirm through the link."},
	ErasureEmailLabel:  {"E-postadresse", "Email address"},
	ErasureSend:        {"Send meg lenken", "Send me the link"},
	ErasureAsked:       {"Sjekk e-posten din", "Check your email"},
	ErasureAskedBody:   {"Hvis adressen er gyldig, får du straks en e-post med en lenke for å bekrefte slettingen. Lenken virker i %d timer.", "If the address is valid, you will shortly get an email with a link to confirm the deletion. The link works for %d hours."},
	ErasureConfirm:     {"Bekreft sletting", "Confirm deletion"},
	ErasureConfirmBody: {"Når du bekrefter, slettes alle lagrede kopier av meldingene dine til oss. Det kan ikke angres.", "When you confirm, every stored copy of your messages to us is deleted. This cannot be undone."},
	ErasureConfirmBtn:  {"Slett opplysningene mine", "Delete my data"},
	ErasureQueued:      {"Slettingen er i gang", "Deletion in progress"},
	ErasureQueuedBody:  {"Vi sletter nå alle lagrede kopier, og ansatte får beskjed om å slette e-postene. Referanse: %s.", "We are now deleting every stored copy, and staff are told to delete the emails. Reference: %s."},
	ErasureRefused:     {"Lenken kan ikke brukes", "This link cannot be used"},
	TokenInvalid:       {"Lenken er ufullstendig eller endret. Bruk lenken fra e-posten slik den er, eller be om en ny.", "The link is incomplete or has been changed. Use the link from the email as it is, or ask for a new one."},
	TokenExpired:       {"Lenken er utløpt. Be om en ny lenke.", "The link has expired. Ask for a new link."},
	TokenUsed:          {"Lenken er allerede brukt. Slettingen du ba om, er i gang eller ferdig.", "The link has been used already. The deletion you asked for is in progress or done."},
	PrivacyContact:     {"Spørsmål om personvern: %s.", "Questions about privacy: %s."},
	PrivacyTitle:       {"Personvern: opplysningene dine", "Privacy: your data"},
	AccessTitle:        {"Få en kopi av det vi har lagret om deg", "Get a copy of what we hold about you"},
	AccessIntro:        {"Skriv inn e-postadressen du brukte i kontaktskjemaet. Vi sender en lenke til den adressen; kopien sendes bare dit, og først når du har bekreftet via lenken.", "Enter the email address you used in the contact form. We will send a link to that address; the copy goes only there, and only after you confirm through the link."},
	AccessSend:         {"Send meg lenken", "Send me the link"},
	AccessAskedBody:    {"Hvis adressen er gyldig, får du straks en e-post med en lenke for å bekrefte at du vil ha kopien. Lenken virker i %d timer.", "If the address is valid, you will shortly get an email with a link to confirm that you want the copy. The link works for %d hours."},
	AccessConfirm:      {"Bekreft at du vil ha kopien", "Confirm your request for a copy"},
	AccessConfirmBody:  {"Når du bekrefter, sender vi alt vi har lagret om denne e-postadressen til den samme adressen.", "When you confirm, we send everything we have stored about this email address to that same address."},
	AccessConfirmBtn:   {"Send meg kopien", "Send me the copy"},
	AccessSent:         {"Kopien er sendt", "The copy has been sent"},
	AccessSentBody:     {"Vi har sendt en e-post med alt vi har lagret om adressen din, til den samme adressen. Referanse: %s.", "We have emailed everything we have stored about your address to that same address. Reference: %s."},
	PolicyLink:         {"Personvernerklæringen vår", "Our privacy policy"},
	PolicyVersion:      {"versjon %s", "version %s"},
	Complaint:          {"Du har rett til å klage til Datatilsynet (www.datatilsynet.no) hvis du mener vi behandler personopplysninger i strid med regelverket.", "You have the right to complain to the Norwegian Data Protection Authority, Datatilsynet (www.datatilsynet.no), if you believe we process personal data unlawfully."},
}

// Textf is Text with a string filled in for %s.
func Textf(lang string, key Key, s string) string {
	return strings.Replace(Text(lang, key, 0), "%s", s, 1)
}

// Text returns the text for key in lang ("nb" or "en"), with limit filled
// in where the text has a %d.
func Text(lang string, key Key, limit int) string {
	t, ok := texts[key]
	if !ok {
		return string(key)
	}
	s := t.In(lang)
	if i := strings.Index(s, "%d"); i >= 0 {
		s = s[:i] + strconv.Itoa(limit) + s[i+2:]
	}
	return s
}
