package hostname_test

import (
	"errors"
	"testing"

	"github.com/opt-e/kontakt/internal/hostname"
)

func TestASCII(t *testing.T) {
	for in, want := range map[string]string{
		"bølgen.no":        "xn--blgen-vua.no",
		"Bølgen.NO":        "xn--blgen-vua.no",
		"xn--blgen-vua.no": "xn--blgen-vua.no",
		"XN--BLGEN-VUA.NO": "xn--blgen-vua.no",
		"www.example.no":   "www.example.no",
		"WWW.Example.NO":   "www.example.no",
		// İ (U+0130) lower-cases to "i" in Go, but maps to "i̇" under
		// UTS #46, as in browsers: another host than www.firma.no.
		"www.fİrma.no": "www.xn--firma-8fd.no",
		"straße.de":    "xn--strae-oqa.de", // non-transitional, as browsers now do
		"www。firma。no": "www.firma.no",     // ideographic full stops are dots
	} {
		got, err := hostname.ASCII(in)
		if err != nil || got != want {
			t.Errorf("ASCII(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]error{
		"bøl\u200bgen.no": hostname.ErrInvisible, // zero-width space: Lookup alone drops it
		"bøl\u00adgen.no": hostname.ErrInvisible, // soft hyphen
		"bølgen\u2060.no": hostname.ErrInvisible, // word joiner
		"bølgen.no\ufeff": hostname.ErrInvisible, // BOM
		"b\u202eølgen.no": hostname.ErrInvisible, // right-to-left override
		"bøl\u3164gen.no": hostname.ErrInvisible, // Hangul filler
		"bølgen\u00a0.no": hostname.ErrInvisible, // no-break space
		"bølgen..no":      hostname.ErrInvalid,
		"bølgen_x.no":     hostname.ErrInvalid,
		"bølgen.no\xff":   hostname.ErrInvalid,
		"ølgen.xn--zz.no": hostname.ErrInvalid,
	} {
		if got, err := hostname.ASCII(in); !errors.Is(err, want) {
			t.Errorf("ASCII(%q) = %q, %v; want %v", in, got, err, want)
		}
	}
}
