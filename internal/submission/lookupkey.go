package submission

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
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

// normaliseAddress is the form both kinds of lookup key hash: the address
// as validated, trimmed, in lower case.
func normaliseAddress(address string) string {
	return strings.ToLower(strings.TrimSpace(address))
}
