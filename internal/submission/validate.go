package submission

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/hostname"
	"github.com/opt-e/kontakt/internal/wordscan"
)

// Problem codes. They are stable (clients may switch on them) and are turned
// into words by package i18n.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeInvalidEmail  = "invalid_email"
	CodeOneAddress    = "one_address"
	CodeInvalidChars  = "invalid_chars"
	CodeTooManyFields = "too_many_fields"
	CodeBadRedirect   = "bad_redirect"
	CodeBadName       = "bad_name"
	CodeConsent       = "consent_required"
	CodeEmpty         = "empty"
	// CodeEmailNotASCII: SES sends only to 7-bit ASCII addresses, and an
	// address with other letters before the @ has no ASCII spelling.
	CodeEmailNotASCII = "email_not_ascii"
	// CodeEmailTooLong: over 64 octets before the @, or 254 in all (RFC
	// 5321), after the domain's conversion to ASCII.
	CodeEmailTooLong = "email_too_long"
)

// Address limits of RFC 5321 (4.5.3.1), which SES enforces.
const (
	maxLocalPart = 64
	maxAddress   = 254
)

// FormProblem is the pseudo-field for problems that belong to no one field.
const FormProblem = "_form"

// Problem is one reason a field was refused. Limit carries the number a
// message needs (a maximum length, a maximum count).
type Problem struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	Limit int    `json:"limit,omitempty"`
}

// ValidationError lists every problem found, so a visitor fixes them all in
// one round trip.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string { return "submission has invalid fields" }

// Instructions are what the underscore fields and conventions ask for.
type Instructions struct {
	ReplyTo string
	Subject string
	Next    string
	// Consents hold one answer per consent the form asks for (At is left
	// for the caller, who knows the time).
	Consents []Consent
	// IdempotencyKey is the _idempotency_key field, for clients that cannot
	// set the Idempotency-Key header without a CORS preflight: kontakt.js
	// sends a random one per filled-in form this way. The key must be made
	// per message: a value written into a page would be shared by every
	// visitor (see ErrKeyReused).
	IdempotencyKey string
}

// Field names web developers know from Formspree and similar services.
const (
	fieldReplyTo  = "_replyto"
	fieldEmail    = "email"
	fieldSubject  = "_subject"
	fieldNext     = "_next"
	fieldIdemKey  = "_idempotency_key"
	maxNameLength = 100
	maxSubject    = 200
)

// Check applies the form's rules to the submitted fields. It returns the
// content fields (instructions removed) and the instructions; any problem
// yields a *ValidationError and nothing is to be sent or stored.
func Check(form *config.Form, fields []Field) ([]Field, Instructions, error) {
	var (
		instructions Instructions
		problems     []Problem
		content      = make([]Field, 0, len(fields))
		replyTo      string
		email        string
		seen         = make(map[string]bool, len(fields))
		rules        = form.ConsentRules()
	)
	if len(rules) > 0 {
		instructions.Consents = make([]Consent, len(rules))
		for i, r := range rules {
			// No answer means no consent: nothing that depends on it is kept.
			instructions.Consents[i] = Consent{Purpose: r.Purpose, Field: r.Field, PolicyVersion: r.PolicyVersion}
		}
	}
	add := func(field, code string, limit int) {
		problems = append(problems, Problem{Field: field, Code: code, Limit: limit})
	}
	if len(fields) > form.MaxFields {
		// Do not look at the fields one by one: thousands of them would give
		// thousands of problems.
		add(FormProblem, CodeTooManyFields, form.MaxFields)
		return nil, instructions, &ValidationError{Problems: problems}
	}
	for _, f := range fields {
		if !validName(f.Name) {
			add(FormProblem, CodeBadName, maxNameLength)
			continue
		}
		// Content may span lines; of the instructions only _subject may, and
		// its line breaks are folded away below.
		runes, ok := scanText(f.Value, f.Name == fieldSubject || !strings.HasPrefix(f.Name, "_"))
		if !ok {
			add(f.Name, CodeInvalidChars, 0)
			continue
		}
		if runes > form.MaxFieldLength {
			add(f.Name, CodeTooLong, form.MaxFieldLength)
			continue
		}
		switch f.Name {
		case fieldReplyTo:
			replyTo = strings.TrimSpace(f.Value)
			continue
		case fieldSubject:
			instructions.Subject = singleLine(f.Value, maxSubject)
			continue
		case fieldNext:
			instructions.Next = strings.TrimSpace(f.Value)
			continue
		case fieldIdemKey:
			instructions.IdempotencyKey = strings.TrimSpace(f.Value)
			continue
		case fieldEmail:
			email = strings.TrimSpace(f.Value)
		}
		if strings.HasPrefix(f.Name, "_") {
			// Unknown instructions (_cc, _bcc, _to ...) are ignored: they are
			// neither content nor a way to reach another recipient.
			continue
		}
		if seen[f.Name] && strings.TrimSpace(f.Value) == "" {
			continue
		}
		if i := consentIndex(rules, f.Name); i >= 0 {
			// The answer is evidence, recorded as such, not content. A
			// repeated checkbox counts as given if any copy of it is.
			if c := &instructions.Consents[i]; !c.Given {
				c.Value, c.Given = f.Value, consentGiven(f.Value)
			}
			continue
		}
		seen[f.Name] = true
		content = append(content, Field{Name: f.Name, Value: f.Value})
	}
	for i, r := range rules {
		if instructions.Consents[i].Given {
			continue
		}
		if r.Required {
			add(r.Field, CodeConsent, 0)
		}
		content = dropFields(content, r.Fields)
		for _, n := range r.Fields {
			if n == fieldEmail {
				// The address is optional information too: no Reply-To.
				email, replyTo = "", ""
			}
		}
	}

	// _replyto wins over email, as on Formspree.
	addrField, addr := fieldEmail, email
	if replyTo != "" {
		addrField, addr = fieldReplyTo, replyTo
	}
	if addr != "" {
		a, code := ParseReplyTo(addr)
		if code != "" {
			add(addrField, code, 0)
		}
		instructions.ReplyTo = a
	}
	for _, name := range form.RequiredFields {
		if hasProblem(problems, name) {
			continue
		}
		if !hasValue(content, name) && !(name == fieldEmail && instructions.ReplyTo != "") {
			add(name, CodeRequired, 0)
		}
	}
	if instructions.Next != "" && !RedirectAllowed(form, instructions.Next) {
		add(fieldNext, CodeBadRedirect, 0)
	}
	if len(problems) == 0 && !anyValue(content) {
		// Nothing for staff to read (Formspree's EMPTY); a form's missing
		// required fields say more, so this is only when none are.
		add(FormProblem, CodeEmpty, 0)
	}
	if len(problems) > 0 {
		return nil, instructions, &ValidationError{Problems: problems}
	}
	return content, instructions, nil
}

// ParseReplyTo accepts exactly one plain address and returns it without any
// display name: the name is where header tricks (commas, encoded words,
// quotes) hide, and staff do not need it to press Reply. The address comes
// back in the form SES can send to: 7-bit ASCII, an internationalised
// domain in punycode ("kari@bølgen.no" → "kari@xn--blgen-vua.no", see
// package hostname); the part before the @ has no such form, so it must be
// ASCII already. Invisible characters (zero-width, bidirectional controls)
// are refused anywhere in the field. code is "" when the address is usable.
func ParseReplyTo(s string) (addr, code string) {
	if strings.ContainsAny(s, "\r\n") {
		return "", CodeInvalidEmail
	}
	if strings.ContainsFunc(s, hostname.Invisible) {
		return "", CodeInvalidChars
	}
	a := s
	// What visitors type is nearly always a bare dot-atom address, which
	// net/mail would return unchanged; checking that shape directly spares
	// the parser's dozen allocations on every submission and every send.
	if !dotAtomAddress(s) {
		list, err := mail.ParseAddressList(s)
		if err != nil || len(list) == 0 {
			return "", CodeInvalidEmail
		}
		if len(list) > 1 {
			return "", CodeOneAddress
		}
		a = list[0].Address
	}
	// net/mail accepts quoted local parts and domain literals; an SES
	// destination must be a plain dot-atom address, and anything with
	// spaces, quotes or brackets is not what a visitor typed by mistake.
	if strings.ContainsAny(a, " \"[]()<>,;:\\") || strings.Count(a, "@") != 1 {
		return "", CodeInvalidEmail
	}
	at := strings.LastIndexByte(a, '@')
	local, domain := a[:at], a[at+1:]
	if !strings.Contains(domain, ".") {
		return "", CodeInvalidEmail
	}
	if !isASCII(local) {
		return "", CodeEmailNotASCII
	}
	if !isASCII(domain) {
		d, err := hostname.ASCII(domain)
		if err != nil {
			return "", CodeInvalidEmail
		}
		a = local + "@" + d
	}
	if len(local) > maxLocalPart || len(a) > maxAddress {
		return "", CodeEmailTooLong
	}
	return a, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// dotAtomAddress reports whether s is local@domain with both parts
// RFC 5322 dot-atoms: atext runs joined by single dots. net/mail parses
// exactly such a string to itself (FuzzDotAtomAddress holds it to that).
func dotAtomAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && dotAtom(s[:at]) && dotAtom(s[at+1:])
}

func dotAtom(s string) bool {
	afterDot := true // no leading dot, no empty atom
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if afterDot {
				return false
			}
			afterDot = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
			afterDot = false
		default:
			return false
		}
	}
	return !afterDot
}

// RedirectAllowed reports whether next is an absolute http(s) URL on one of
// the form's own origins. Anything else (javascript:, //evil, another site)
// would make kontakt an open redirect.
func RedirectAllowed(form *config.Form, next string) bool {
	u, err := url.Parse(next)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return false
	}
	return form.OriginAllowed(u.Scheme + "://" + u.Host)
}

func consentIndex(rules []config.Consent, name string) int {
	for i := range rules {
		if rules[i].Field == name {
			return i
		}
	}
	return -1
}

// consentGiven accepts what a checked checkbox or a fetch client sends.
// Anything else, including an empty value, is no consent.
func consentGiven(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "ja", "y":
		return true
	}
	return false
}

func dropFields(fields []Field, names []string) []Field {
	if len(names) == 0 {
		return fields
	}
	kept := fields[:0]
	for _, f := range fields {
		drop := false
		for _, n := range names {
			if f.Name == n {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, f)
		}
	}
	return kept
}

func hasProblem(ps []Problem, field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

func anyValue(fields []Field) bool {
	for _, f := range fields {
		if strings.TrimSpace(f.Value) != "" {
			return true
		}
	}
	return false
}

func hasValue(fields []Field, name string) bool {
	for _, f := range fields {
		if f.Name == name && strings.TrimSpace(f.Value) != "" {
			return true
		}
	}
	return false
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLength || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// scanText refuses invalid UTF-8, NUL and other control characters, and
// counts the runes in the same pass (the length limit is in runes). Line
// breaks and tabs are allowed where the field is free text (multiline).
// Words (eight bytes) with no ASCII control and no 0xC2 or 0xE2 byte, which
// start the C1 controls and U+2028/U+2029, are passed over whole.
func scanText(s string, multiline bool) (runes int, ok bool) {
	if !utf8.ValidString(s) {
		return 0, false
	}
	for i := 0; i < len(s); {
		if n := wordscan.Clean(s[i:], 0xc2, 0xe2); n > 0 {
			runes += wordscan.Runes(s[i : i+n])
			i += n
			continue
		}
		switch c := s[i]; {
		case c&0xc0 == 0x80:
			// The rest of a rune that began in a word passed over (and so
			// with a lead byte that starts no control): counted already.
			i++
		case c < utf8.RuneSelf:
			if (c < 0x20 || c == 0x7f) && !(multiline && (c == '\n' || c == '\r' || c == '\t')) {
				return 0, false
			}
			i++
			runes++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				return 0, false
			}
			i += size
			runes++
		}
	}
	return runes, true
}

// singleLine folds any line break into a space and trims the result to max
// runes, so that a subject can never start a new header.
func singleLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029' || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
