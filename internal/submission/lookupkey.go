package submission

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/opt-e/kontakt/internal/hostname"
)

// LookupKeys computes lookup keys: the indexed key under which erasure finds
// every copy for an address, and the key the self-service page counts asks
// by. A key is an HMAC-SHA256 of the normalised address under a key derived
// from the stack's generated secret, so that neither the index (copied to
// every partition of the GSI) nor a counter's id holds the address, and
// nobody who reads the table can confirm a guessed address by hashing it:
// a plain hash of an address is reversed by hashing likely addresses.
//
// Submit, erase and the privacy function derive it from the same secret
// (KONTAKT_SECRET_ID), so they agree. Replacing the secret orphans every
// stored copy's lookup key: erasure would no longer find them (see
// LegacyLookupKey for how the switch from plain hashes is handled).
type LookupKeys struct{ key []byte }

// MinSecretLength is the least length of the generated secret (the template
// generates 64 characters); the same as abuse.MinSecretLength.
const MinSecretLength = 32

// lookupKeyLabel makes the derived key differ from every other key derived
// from the secret (abuse.Keys derives the form-token and IP-hash keys the
// same way, with labels of their own).
const lookupKeyLabel = "kontakt/lookup-key/v1"

// NewLookupKeys derives the lookup-key HMAC key from the generated secret.
func NewLookupKeys(secret string) (*LookupKeys, error) {
	if len(secret) < MinSecretLength {
		return nil, errors.New("secret is shorter than 32 characters")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(lookupKeyLabel))
	return &LookupKeys{key: m.Sum(nil)}, nil
}

// Key returns the lookup key of address, "" for an empty one. Every
// function computes lookup keys here and nowhere else.
func (k *LookupKeys) Key(address string) string {
	a := normaliseAddress(address)
	if a == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(a))
	return hex.EncodeToString(m.Sum(nil))
}

// LegacyLookupKey is the lookup key copies were stored under before lookup
// keys were keyed with the secret: a plain SHA-256 of the normalised
// address. During a migration window erasure looks under it too, so that a
// copy stored before the upgrade is still found. A copy expires at most
// RetentionDays (at most 365) after it was stored, so an installation has
// none left RetentionDays plus TTL's lag (a few days) after it deployed
// the keyed version. Keep this, and erasure's second query, until every
// installation is past that: not before January 2028 (a year and a month
// after this change, December 2026).
func LegacyLookupKey(address string) string {
	a := normaliseAddress(address)
	if a == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(a))
	return hex.EncodeToString(sum[:])
}

// PreIDNALookupKey is the plain-hash key of an internationalised address's
// Unicode spelling (local part and Unicode domain, lower case), under which
// copies were stored before domains were converted to punycode; "" when
// the address has no such other spelling. Erasure looks under it in the
// same migration window as LegacyLookupKey.
func PreIDNALookupKey(address string) string {
	a := normaliseAddress(address)
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return ""
	}
	u := a[:at] + "@" + hostname.Unicode(a[at+1:])
	if u == a {
		return ""
	}
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

// All is every lookup key a copy of address may be indexed under: its
// keyed lookup key, and in the migration window the plain hash
// (LegacyLookupKey) and, for an internationalised domain, the plain hash
// of its Unicode spelling (PreIDNALookupKey). Erasure and access look
// under the same keys, so that what is erased is what is disclosed.
func (k *LookupKeys) All(address string) []string {
	keys := []string{k.Key(address), LegacyLookupKey(address)}
	if p := PreIDNALookupKey(address); p != "" {
		keys = append(keys, p)
	}
	return keys
}

// normaliseAddress is the form every kind of lookup key hashes: the
// address as ParseReplyTo gives it (an internationalised domain in
// punycode, so "kari@bølgen.no" and "kari@xn--blgen-vua.no" are one key),
// trimmed, in lower case. An address ParseReplyTo refuses (one accepted
// before it was refused, for erasure) is only trimmed and lower-cased.
func normaliseAddress(address string) string {
	a := strings.TrimSpace(address)
	if n, code := ParseReplyTo(a); code == "" {
		a = n
	}
	return strings.ToLower(a)
}
