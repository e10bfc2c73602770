// Package submission is the domain of kontakt: what a visitor sent, the
// rules it must pass, and the promise that it is either emailed, or stored
// to be emailed later, or refused with an answer that says so.
package submission

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Field is one submitted name/value pair. Order is kept as the visitor's
// browser sent it, so staff read the email in the order of the form.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Submission is one accepted form post, as emailed and as stored.
type Submission struct {
	ID         string
	FormID     string
	ReceivedAt time.Time
	ExpiresAt  time.Time
	// Fields holds the content fields only: instructions (names starting
	// with "_") never get here.
	Fields []Field
	// ReplyTo is the visitor's address, validated as one plain address, or "".
	ReplyTo string
	// Subject is the visitor's _subject, a single line, or "".
	Subject  string
	Language string
	// Consents are the evidence of the visitor's answers, one per consent
	// the form asks for, in the form's order.
	Consents []Consent
	// IdempotencyKey is the client's Idempotency-Key (header or
	// _idempotency_key field), or "". Never stored in clear, never emailed.
	IdempotencyKey string
}

// Consent is what the visitor agreed to, recorded with the copy and in the
// staff email: the purpose, the field and its value as sent, the policy
// version shown on the form, and when.
type Consent struct {
	Purpose       string
	Field         string
	Value         string
	Given         bool
	PolicyVersion string
	At            time.Time
}

// NewID returns a random, URL-safe submission id.
func NewID() string { return strings.ToLower(rand.Text()) }

// LookupKey is the indexed key that erasure uses to find every copy for an
// address. Submit and erase must normalise the same way, so both call this.
// It is a hash so that the index, which is copied to every partition of the
// GSI, does not hold the address in clear.
func LookupKey(address string) string {
	a := strings.ToLower(strings.TrimSpace(address))
	if a == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(a))
	return hex.EncodeToString(sum[:])
}

// ConsentFor returns the evidence for purpose, or nil.
func (s *Submission) ConsentFor(purpose string) *Consent {
	for i := range s.Consents {
		if s.Consents[i].Purpose == purpose {
			return &s.Consents[i]
		}
	}
	return nil
}
