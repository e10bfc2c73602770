package abuse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// MinSecretLength is the least length of the generated secret the keys are
// derived from (the template generates 64 characters).
const MinSecretLength = 32

// Keys derives the form-token key and the IP-hash salt from the generated
// secret, with a label each, so that neither can stand in for the other.
func Keys(secret string) (tokenKey, ipKey []byte, err error) {
	if len(secret) < MinSecretLength {
		return nil, nil, errors.New("secret is shorter than 32 characters")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("kontakt/" + label))
		return m.Sum(nil)
	}
	return derive("form-token/v1"), derive("source-ip/v1"), nil
}

// Tokens issues and checks form-age tokens: "<issued-at unix>.<mac>", the
// MAC an HMAC-SHA256 over the form id and the issue time. Nothing is
// stored: the token carries its own time, and the MAC proves we wrote it.
type Tokens struct{ key []byte }

// NewTokens returns Tokens signing with key.
func NewTokens(key []byte) *Tokens { return &Tokens{key: key} }

// clockSkew tolerates a token that seems issued a little in the future
// (clocks of two Lambda instances).
const clockSkew = 5 * time.Second

// Issue returns a token for formID issued at now.
func (t *Tokens) Issue(formID string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(t.mac(formID, ts))
}

// Check returns "" for a token of formID issued between maxAge and
// minAge ago, or the rule it breaks.
func (t *Tokens) Check(formID, token string, now time.Time, minAge, maxAge time.Duration) Rule {
	ts, sig, ok := strings.Cut(token, ".")
	if !ok || len(ts) > 12 || len(sig) > 64 {
		return RuleTokenInvalid
	}
	issued, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return RuleTokenInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(formID, ts)) {
		return RuleTokenInvalid
	}
	age := now.Sub(time.Unix(issued, 0))
	switch {
	case age < -clockSkew:
		return RuleTokenInvalid
	case age < minAge:
		return RuleTokenTooFast
	case age > maxAge:
		return RuleTokenExpired
	}
	return ""
}

func (t *Tokens) mac(formID, ts string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(formID))
	m.Write([]byte{0})
	m.Write([]byte(ts))
	return m.Sum(nil)
}
