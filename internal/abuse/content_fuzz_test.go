package abuse

import (
	"regexp"
	"testing"
)

var linkRegexp = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+|\[url|<a\s`)

// countLinks must count exactly what the regexp it replaces matches.
func FuzzCountLinks(f *testing.F) {
	for _, s := range []string{
		"", "see https://www.example.no and www.spam.example/x", "HTTP://A.B", "xhttp://a", "http:// x",
		"[URL=x]y[/url]", "<A href=x>", "<a\thref>", "<ab>", "www.", "www. x", "_www.x", "é http://x",
		"https://a.b/c?d=e#f\nwww.g.h", "http://http://x", "[url[url", "hTtPs://x www.y", "httpſ://x", "www.ſ", "Kelvin \u212a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := countLinks(s), len(linkRegexp.FindAllStringIndex(s, -1)); got != want {
			t.Fatalf("countLinks(%q) = %d, regexp finds %d", s, got, want)
		}
	})
}
