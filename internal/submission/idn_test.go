package submission_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/submission"
)

var idnForm = contactForm("https://www.firma.no", "https://www.xn--blgen-vua.no")

// SES sends only to 7-bit ASCII addresses with punycode domains: an
// internationalised domain is converted, and what has no ASCII form is
// refused with its own code, never answered 202 and given up later.
func TestReplyAddressSESCanSendTo(t *testing.T) {
	for _, tc := range []struct{ typed, replyTo, code string }{
		{"kari@bølgen.no", "kari@xn--blgen-vua.no", ""},
		{"Kari@Bølgen.NO", "Kari@xn--blgen-vua.no", ""},
		{"Kari Nordmann <kari@bølgen.no>", "kari@xn--blgen-vua.no", ""},
		{"kari@xn--blgen-vua.no", "kari@xn--blgen-vua.no", ""},
		{"kari@example.no", "kari@example.no", ""},
		{"kåre@example.no", "", submission.CodeEmailNotASCII},
		{"kåre@bølgen.no", "", submission.CodeEmailNotASCII},
		{strings.Repeat("k", 65) + "@example.no", "", submission.CodeEmailTooLong},
		{strings.Repeat("k", 64) + "@example.no", strings.Repeat("k", 64) + "@example.no", ""},
		// 255 octets in all once the last label is in punycode (249 before).
		{"kari@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 44) + ".bølgen", "", submission.CodeEmailTooLong},
		{"kari@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 43) + ".bølgen", "kari@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 43) + ".xn--blgen-vua", ""},
		{"kari@bøl\u200bgen.no", "", submission.CodeInvalidChars},  // zero-width space
		{"kari\u200d@example.no", "", submission.CodeInvalidChars}, // zero-width joiner
		{"kari@example.no\u2066", "", submission.CodeInvalidChars}, // bidirectional isolate
		{"kari@bølgen..no", "", submission.CodeInvalidEmail},
	} {
		content, ins, err := submission.Check(idnForm, []submission.Field{{Name: "email", Value: tc.typed}, {Name: "message", Value: "Hei"}})
		if tc.code == "" {
			if err != nil || ins.ReplyTo != tc.replyTo {
				t.Errorf("%q: reply address %q, %v; want %q", tc.typed, ins.ReplyTo, err, tc.replyTo)
			}
			// The field as typed is content: staff read what the visitor wrote.
			if len(content) == 0 || content[0].Value != tc.typed {
				t.Errorf("%q: content %q", tc.typed, content)
			}
			continue
		}
		var ve *submission.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "email" || ve.Problems[0].Code != tc.code {
			t.Errorf("%q: err %v, want email %s", tc.typed, err, tc.code)
		}
	}
}

// An erasure asked for in either spelling finds every copy: both give one
// lookup key (keyed and legacy alike), and PreIDNALookupKey gives the key
// copies stored before the conversion carry (the Unicode spelling's plain
// hash).
func TestLookupKeyIsOneForEverySpelling(t *testing.T) {
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	key, legacy := keys.Key("kari@xn--blgen-vua.no"), submission.LegacyLookupKey("kari@xn--blgen-vua.no")
	sum := sha256.Sum256([]byte("kari@bølgen.no"))
	preIDNA := hex.EncodeToString(sum[:])
	for _, a := range []string{"kari@bølgen.no", "Kari@Bølgen.NO", " KARI@XN--BLGEN-VUA.NO ", "Kari <kari@bølgen.no>"} {
		if keys.Key(a) != key || submission.LegacyLookupKey(a) != legacy {
			t.Errorf("the keys of %q differ from those of kari@xn--blgen-vua.no", a)
		}
		if got := submission.PreIDNALookupKey(a); got != preIDNA {
			t.Errorf("PreIDNALookupKey(%q) = %q, want sha256(kari@bølgen.no)", a, got)
		}
	}
	if got := submission.PreIDNALookupKey("kari@example.no"); got != "" {
		t.Errorf("PreIDNALookupKey of an ASCII address = %q", got)
	}
	// An address accepted before it was refused keeps its old key.
	old := sha256.Sum256([]byte("kåre@example.no"))
	if got := submission.LegacyLookupKey("Kåre@example.no"); got != hex.EncodeToString(old[:]) {
		t.Errorf("LegacyLookupKey(kåre) = %q", got)
	}
}

// The _next host is compared as browsers resolve it. strings.ToLower maps
// İ to i, so www.fİrma.no passed for www.firma.no; browsers go to
// www.xn--firma-8fd.no.
func TestRedirectHostComparedAsBrowsersResolveIt(t *testing.T) {
	for next, want := range map[string]bool{
		"https://www.firma.no/takk":          true,
		"https://WWW.FIRMA.NO/takk":          true,
		"https://www.bølgen.no/takk":         true,
		"https://www.Bølgen.no/takk":         true,
		"https://www.xn--blgen-vua.no/takk":  true,
		"https://www.fİrma.no/takk":          false,
		"https://www.f%C4%B0rma.no/takk":     false,
		"https://www.fir\u200bma.no/takk":    false,
		"https://www.bøl\u00adgen.no/takk":   false,
		"https://www.firma.no.evil.com/takk": false,
	} {
		if got := submission.RedirectAllowed(idnForm, next); got != want {
			t.Errorf("RedirectAllowed(%q) = %v, want %v", next, got, want)
		}
	}
}

// Erasure and access look under the same keys: the keyed one, the plain
// hash, and for an internationalised domain its Unicode spelling's hash.
func TestAllLookupKeys(t *testing.T) {
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	idn := keys.All("kari@xn--blgen-vua.no")
	if len(idn) != 3 || idn[0] != keys.Key("kari@xn--blgen-vua.no") || idn[1] != submission.LegacyLookupKey("kari@xn--blgen-vua.no") || idn[2] != submission.PreIDNALookupKey("kari@xn--blgen-vua.no") {
		t.Errorf("All(IDN) = %v", idn)
	}
	if ascii := keys.All("kari@example.no"); len(ascii) != 2 {
		t.Errorf("All(ASCII) = %v, want the keyed and the plain key", ascii)
	}
}
