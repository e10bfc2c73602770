package i18n_test

import (
	"testing"

	"github.com/opt-e/kontakt/internal/i18n"
)

// A header naming a language kontakt writes decides, whatever the form's
// default; one naming none, or none it can read, leaves the default.
func TestPick(t *testing.T) {
	for _, fallback := range []string{"nb", "en"} {
		for _, tc := range []struct{ header, want string }{
			{"nb-NO,nb;q=0.9,en;q=0.8", "nb"},
			{"en-US,en;q=0.9", "en"},
			{"de, en;q=0.5, nb;q=0.7", "nb"},
			{"nn", "nb"},
			{"no", "nb"},
			{"en;q=0, nb;q=0.1", "nb"},
			{"", fallback},
			{"de-DE,de;q=0.9", fallback},
			{"en;q=bogus", fallback},
		} {
			if got := i18n.Pick(tc.header, fallback); got != tc.want {
				t.Errorf("Pick(%q, %q) = %q, want %q", tc.header, fallback, got, tc.want)
			}
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
