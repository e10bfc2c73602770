package httpapi

import (
	"testing"

	"github.com/opt-e/kontakt/internal/i18n"
)

// Every code has its words in both languages and a status that is an
// error; an unknown code is a 500, never a 200.
func TestEveryCodeHasAnAnswer(t *testing.T) {
	for code, ans := range refusals {
		if ans.status < 400 {
			t.Errorf("%s: status %d", code, ans.status)
		}
		for _, lang := range []string{"nb", "en"} {
			if msg := i18n.Text(lang, ans.key, 1); msg == "" || msg == string(ans.key) {
				t.Errorf("%s: no %s text for %q", code, lang, ans.key)
			}
		}
	}
	r := &request{lang: "en", answerJSON: true}
	if resp := r.fail(refuse("no_such_code")); resp.StatusCode != 500 {
		t.Errorf("unknown code answered %d", resp.StatusCode)
	}
}
