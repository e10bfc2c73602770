package submission_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/submission"
)

func lookupKeys(t *testing.T, secret string) *submission.LookupKeys {
	t.Helper()
	k, err := submission.NewLookupKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLookupKeyNormalises(t *testing.T) {
	k := lookupKeys(t, strings.Repeat("s", 64))
	a := k.Key(" Kari@Example.NO ")
	b := k.Key("kari@example.no")
	if a != b || a == "" || k.Key("") != "" {
		t.Fatalf("keys %q %q", a, b)
	}
	if a == k.Key("ola@example.no") {
		t.Fatal("different addresses share a key")
	}
}

// A lookup key cannot be confirmed by hashing a guessed address: it is not
// the plain SHA-256 it used to be, and it depends on the secret.
func TestLookupKeyIsKeyedWithTheSecret(t *testing.T) {
	addr := "kari@example.no"
	sum := sha256.Sum256([]byte(addr))
	plain := hex.EncodeToString(sum[:])
	a := lookupKeys(t, strings.Repeat("s", 64)).Key(addr)
	b := lookupKeys(t, strings.Repeat("t", 64)).Key(addr)
	if a == plain {
		t.Error("the lookup key is the address's plain SHA-256")
	}
	if a == b {
		t.Error("two secrets give the same lookup key")
	}
	if got := submission.LegacyLookupKey(" Kari@Example.NO"); got != plain {
		t.Errorf("LegacyLookupKey = %s, want the plain SHA-256 %s that older copies carry", got, plain)
	}
	if _, err := submission.NewLookupKeys("short"); err == nil {
		t.Error("a secret shorter than 32 characters was accepted")
	}
}

// The template's IAM conditions recognise submission ids by their length.
func TestNewIDLength(t *testing.T) {
	for range 100 {
		if id := submission.NewID(); len(id) != submission.IDLength {
			t.Fatalf("NewID() = %q, %d characters, want %d", id, len(id), submission.IDLength)
		}
	}
}
