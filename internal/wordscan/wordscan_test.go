package wordscan

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// slowClean is Clean byte by byte.
func slowClean(s string, a, b byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		for _, c := range []byte(s[i : i+8]) {
			if c < 0x20 || c == 0x7f || c == a || c == b {
				return i
			}
		}
	}
	return i
}

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"short", 0}, {"exactly8", 8}, {"sixteen bytes ok", 16},
		{"eight ok" + "has\"quote", 8}, {"eight ok" + "back\\sla", 8}, {"eight ok" + "new\nline", 8},
		{"eight ok" + "del\x7fchar", 8}, {"eight ok" + "blå bær", 16}, {"blåbærsyltetøy.", 16},
		{strings.Repeat(" ", 64) + "\x1f", 64},
	} {
		if got := Clean(tc.s, '"', '\\'); got != tc.want {
			t.Errorf("Clean(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("Hei! Kan dere sende et tilbud på nettside?\n", byte('"'), byte('\\'))
	f.Add("\x00\x1f\x20\x7e\x7f\x80\xc2\xe2\xff........", byte(0xc2), byte(0xe2))
	f.Fuzz(func(t *testing.T, s string, a, b byte) {
		if got, want := Clean(s, a, b), slowClean(s, a, b); got != want {
			t.Errorf("Clean(%q, %q, %q) = %d, want %d", s, a, b, got, want)
		}
		if utf8.ValidString(s) {
			if got, want := Runes(s), utf8.RuneCountInString(s); got != want {
				t.Errorf("Runes(%q) = %d, want %d", s, got, want)
			}
		}
	})
}
