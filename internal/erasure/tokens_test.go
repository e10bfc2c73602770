package erasure_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/erasure"
)

func TestTokens(t *testing.T) {
	tk := erasure.Tokens{Key: []byte("0123456789abcdef0123456789abcdef"), Lifetime: 24 * time.Hour}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	token, exp := tk.Issue("abc123", now)
	if !exp.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("expires %v", exp)
	}
	if id, err := tk.Verify(token, now.Add(23*time.Hour)); err != nil || id != "abc123" {
		t.Fatalf("Verify = %q, %v", id, err)
	}
	other := erasure.Tokens{Key: []byte("another key, another key, another"), Lifetime: time.Hour}
	parts := strings.Split(token, ".")
	for _, tc := range []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"expired", token, now.Add(24 * time.Hour), erasure.ErrTokenExpired},
		{"other key", token, now, nil},
		{"changed id", strings.Replace(token, "abc123", "abc124", 1), now, erasure.ErrTokenInvalid},
		{"longer life", parts[0] + "." + parts[1] + ".9999999999." + parts[3], now, erasure.ErrTokenInvalid},
		{"no signature", parts[0] + "." + parts[1] + "." + parts[2], now, erasure.ErrTokenInvalid},
		{"empty", "", now, erasure.ErrTokenInvalid},
		{"huge", strings.Repeat("a.", 200), now, erasure.ErrTokenInvalid},
	} {
		v := tk
		if tc.name == "other key" {
			v, tc.want = other, erasure.ErrTokenInvalid
		}
		if _, err := v.Verify(tc.token, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
