package submission

import "github.com/opt-e/kontakt/internal/config"

// Field names other form services use for the same instructions. The
// underscore names cannot be content anywhere (underscore fields are
// instructions), so they are read on every form; Web3Forms' plain names are
// ordinary fields on other forms, so a form opts in to them.
var (
	aliases          = map[string]string{"_redirect": fieldNext}
	web3formsAliases = map[string]string{"subject": fieldSubject, "redirect": fieldNext, "replyto": fieldReplyTo}
)

// Canonical renames the fields other services use to the names Check reads
// (Formspark's _redirect is _next; with the form's web3forms_fields, subject,
// redirect and replyto are _subject, _next and _replyto). Order and values
// are kept; fields is not modified.
func Canonical(form *config.Form, fields []Field) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		if name, ok := aliases[f.Name]; ok {
			f.Name = name
		} else if name, ok := web3formsAliases[f.Name]; ok && form.Web3FormsFields {
			f.Name = name
		}
		out[i] = f
	}
	return out
}
