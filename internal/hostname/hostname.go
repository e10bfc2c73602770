// Package hostname turns host and mail domain names into the ASCII form
// that DNS, browsers and SES use, the way browsers and mail clients do it,
// so that kontakt compares and sends what they will actually resolve.
//
// The conversion is IDNA with the UTS #46 mapping, non-transitional
// (golang.org/x/net/idna's Lookup profile), which is what the WHATWG URL
// standard has browsers apply to a typed or linked host, and what mail
// clients apply to an address's domain. Lookup, not Registration: a visitor
// types "Bølgen.no" or "bølgen.no" and both reach xn--blgen-vua.no, so both
// must be accepted and give the same name; Registration refuses any input
// not already in its final form (upper case, unnormalised letters). What
// Lookup maps silently away, though, is refused here: zero-width and other
// invisible characters have no place in a name a person means, and are
// how a look-alike is made.
package hostname

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Errors of ASCII.
var (
	ErrInvisible = errors.New("name has an invisible or formatting character")
	ErrInvalid   = errors.New("name is not a valid host or domain name")
)

// ASCII returns name in lower-case ASCII: an internationalised name in its
// punycode form ("bølgen.no" → "xn--blgen-vua.no"). An ASCII name is only
// lower-cased (so a name like "_dmarc.example.no", or an IP literal, is
// kept as it was), and so is checked no further than the caller does; a
// name with any other character must convert, without invisible characters,
// to labels that are not empty.
func ASCII(name string) (string, error) {
	if isASCII(name) {
		return strings.ToLower(name), nil
	}
	if !utf8.ValidString(name) {
		return "", ErrInvalid
	}
	if strings.ContainsFunc(name, Invisible) {
		return "", ErrInvisible
	}
	a, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return "", ErrInvalid
	}
	for _, label := range strings.Split(strings.TrimSuffix(a, "."), ".") {
		if label == "" {
			return "", ErrInvalid
		}
	}
	return strings.ToLower(a), nil
}

// Unicode returns the Unicode spelling of an ASCII name with punycode
// labels ("xn--blgen-vua.no" → "bølgen.no"), in lower case; a name without
// any comes back lower-cased, and one that does not convert as it is.
func Unicode(name string) string {
	if !strings.Contains(strings.ToLower(name), "xn--") {
		return strings.ToLower(name)
	}
	u, err := idna.Lookup.ToUnicode(name)
	if err != nil {
		return name
	}
	return strings.ToLower(u)
}

// Invisible reports whether r shows nothing, or nothing of its own, where a
// person reads it: format characters (Unicode category Cf: zero-width
// space and joiners, bidirectional controls, soft hyphen, word joiner,
// BOM), the other default-ignorable code points (Hangul fillers, the
// combining grapheme joiner), variation selectors, and spaces other than
// the ASCII one.
func Invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r) ||
		(r > unicode.MaxASCII && unicode.IsSpace(r)) ||
		unicode.Is(unicode.Zs, r) && r != ' '
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
