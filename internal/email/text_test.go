package email

import (
	"strings"
	"testing"
	"unicode"
)

// The helpers below were rewritten to write in one pass; these are the
// plain versions they replaced, which they must match on any input.

func referenceOneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSubjectRunes {
		s = string(r[:maxSubjectRunes])
	}
	return s
}

func referenceIndent(v string) string {
	v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	return "  " + strings.ReplaceAll(v, "\n", "\n  ")
}

func referenceFill(template, form, subject string) string {
	return strings.NewReplacer("{form}", form, "{subject}", subject).Replace(template)
}

func FuzzTextHelpers(f *testing.F) {
	for _, s := range []string{"", "a\r\nb\rc\nd", " \t lead and trail \u00a0", "x\u2028y\u2029z\x00\x1f", "{form}{subject}{", "{{form}}", strings.Repeat("ø ", 200)} {
		f.Add(s, "contact", "{form} subj")
	}
	f.Fuzz(func(t *testing.T, s, form, subject string) {
		if got, want := oneLine(s), referenceOneLine(s); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", s, got, want)
		}
		var b strings.Builder
		writeIndented(&b, s)
		if got, want := b.String(), referenceIndent(s); got != want {
			t.Errorf("indent(%q) = %q, want %q", s, got, want)
		}
		if got, want := fillSubject(s, form, subject), referenceFill(s, form, subject); got != want {
			t.Errorf("fillSubject(%q, %q, %q) = %q, want %q", s, form, subject, got, want)
		}
	})
}
