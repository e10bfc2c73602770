package submission

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceText is the three-pass check scanText replaced.
func referenceText(s string, multiline bool) (int, bool) {
	if !utf8.ValidString(s) {
		return 0, false
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if !multiline {
				return 0, false
			}
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return 0, false
		}
	}
	return utf8.RuneCountInString(s), true
}

func FuzzScanText(f *testing.F) {
	for _, s := range []string{"", "Hei på deg\n", "tab\there", "nul\x00", "del\x7f", "c1\u0085", "ls\u2028", "bad\xff", "half\xed\xa0\x80", "fffd\ufffd", "emoji😀"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		n, ok := scanText(s, multiline)
		wn, wok := referenceText(s, multiline)
		if n != wn || ok != wok {
			t.Errorf("scanText(%q, %v) = %d, %v; want %d, %v", s, multiline, n, ok, wn, wok)
		}
	})
}
