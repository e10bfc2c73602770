package config

import (
	"errors"
	"testing"
)

// Every whole-number setting: its default when unset, and the same words
// for a wrong value as each loader gave before they shared one reader.
func TestWholeNumberSettings(t *testing.T) {
	for _, tc := range []struct {
		n         wholeNumber
		def       int
		bad, want string
	}{
		{duplicateWindowMinutes, 10, "1441", `"1441" must be a whole number of minutes between 0 and 1440`},
		{redriveMaxAttempts, DefaultRedriveMaxAttempts, "1", `"1" must be a whole number between 2 and 50`},
		{redriveRelease, DefaultRedriveRelease, "0", `"0" must be a whole number between 1 and 1000 (held posts are never dropped, so some must be released)`},
		{receiptRetentionDays, 1095, "x", `"x" must be a whole number of days between 1 and 3650`},
		{tokenLifetimeHours, 24, "169", `"169" must be a whole number of hours between 1 and 168`},
	} {
		t.Run(tc.n.key, func(t *testing.T) {
			unset := env(func(string) (string, bool) { return "", false })
			if got, err := unset.number(tc.n); err != nil || got != tc.def {
				t.Errorf("unset: %d, %v; want %d", got, err, tc.def)
			}
			bad := env(func(string) (string, bool) { return " " + tc.bad + " ", true })
			_, err := bad.number(tc.n)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.n.key || ce.Reason != tc.want {
				t.Errorf("%q: %v, want %s: %s", tc.bad, err, tc.n.key, tc.want)
			}
		})
	}
}
