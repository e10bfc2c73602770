package i18n_test

import (
	"testing"

	"github.com/opt-e/kontakt/internal/i18n"
)

func TestPick(t *testing.T) {
	for _, tc := range []struct{ header, fallback, want string }{
		{"", "nb", "nb"},
		{"", "en", "en"},
		{"nb-NO,nb;q=0.9,en;q=0.8", "en", "nb"},
		{"en-US,en;q=0.9", "nb", "en"},
		{"de-DE,de;q=0.9", "nb", "nb"},
		{"de, en;q=0.5, nb;q=0.7", "en", "nb"},
		{"nn", "en", "nb"},
		{"no", "en", "nb"},
		{"en;q=0, nb;q=0.1", "en", "nb"},
		{"en;q=bogus", "nb", "nb"},
	} {
		if got := i18n.Pick(tc.header, tc.fallback); got != tc.want {
			t.Errorf("Pick(%q, %q) = %q, want %q", tc.header, tc.fallback, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	if got, want := i18n.Text("en", i18n.TooLong, 10), "The text is too long (at most 10 characters)."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := i18n.Text("nb", i18n.Required, 0), "Dette feltet må fylles ut."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := i18n.Textf("en", i18n.PrivacyContact, "dpo@example.no"), "Questions about privacy: dpo@example.no."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
