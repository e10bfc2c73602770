package submission

import (
	"net/mail"
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
