package submission

import (
	"net/mail"
	"strings"
	"testing"
)

// The fast path of ParseReplyTo accepts only what net/mail would parse to
// the very same address, so both paths give the same answer.
func FuzzDotAtomAddress(f *testing.F) {
	for _, s := range []string{
		"kari@example.no", "kari.nordmann+kontakt@post.example.no", "a@b", "o'brien@example.ie",
		"a..b@example.no", ".a@example.no", "a.@example.no", "a@example.no.", "a@@example.no", "@example.no", "a@",
		"\"kari\"@example.no", "kari@[127.0.0.1]", "Kari <kari@example.no>", "kåre@example.no", "a@b@c", "a b@example.no",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !dotAtomAddress(s) {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("dotAtomAddress(%q) but net/mail: %v, %+v", s, err, a)
		}
	})
}

func TestDotAtomAddress(t *testing.T) {
	for s, want := range map[string]bool{
		"kari@example.no": true, "k.n+x@a.b.no": true, "a..b@example.no": false, ".a@x.no": false, "a.@x.no": false,
		"a@x.no.": false, "a@@x.no": false, "@x.no": false, "a@": false, "a@b@c": false, "\"a\"@x.no": false,
		"a@[1.2.3.4]": false, "kåre@x.no": false, "a b@x.no": false, "": false,
	} {
		if got := dotAtomAddress(s); got != want {
			t.Errorf("dotAtomAddress(%q) = %v, want %v", s, got, want)
		}
	}
}

// Whatever ParseReplyTo accepts is an address SES can send to and net/mail
// reads as that very address: 7-bit ASCII (no SMTPUTF8 at SES), at most 64
// octets before the @ and 254 in all, and no second spelling: parsing it
// again gives it back, and both spellings have one lookup key, so erasure
// finds the copy whichever way the person writes their address.
func FuzzParseReplyTo(f *testing.F) {
	for _, s := range []string{
		"kari@example.no", "Kari <kari@example.no>", "kari@bølgen.no", "kari@Bølgen.NO", "kari@xn--blgen-vua.no",
		"kåre@example.no", "kari@bøl\u200bgen.no", "kari@fİrma.no", "kari@straße.de", "a@b", "kari@bølgen..no",
		strings.Repeat("a", 65) + "@example.no", "a@" + strings.Repeat("b", 250) + ".no", "kari@例え.テスト",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, code := ParseReplyTo(s)
		if code != "" {
			return
		}
		for i := 0; i < len(a); i++ {
			if a[i] <= ' ' || a[i] > '~' {
				t.Fatalf("ParseReplyTo(%q) = %q: not printable 7-bit ASCII", s, a)
			}
		}
		at := strings.LastIndexByte(a, '@')
		if at > 64 || len(a) > 254 {
			t.Fatalf("ParseReplyTo(%q) = %q: over the length limits", s, a)
		}
		p, err := mail.ParseAddress(a)
		if err != nil || p.Address != a || p.Name != "" {
			t.Fatalf("ParseReplyTo(%q) = %q, but net/mail: %v, %+v", s, a, err, p)
		}
		if again, code := ParseReplyTo(a); again != a || code != "" {
			t.Fatalf("ParseReplyTo(%q) = %q, %q; want it unchanged", a, again, code)
		}
		if normaliseAddress(s) != normaliseAddress(a) {
			t.Fatalf("%q normalises otherwise than its ASCII form %q", s, a)
		}
	})
}
