// Package submission is the domain of kontakt: what a visitor sent, the
// rules it must pass, and the promise that it is either emailed, or stored
// to be emailed later, or refused with an answer that says so.
package submission

import (
	"crypto/rand"
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
	// Source is the keyed hash of the address the post came from (see
	// abuse.Guard.SourceKey), or "": part of the duplicate window's key, so
	// that equal posts from two people are two submissions. Never stored,
	// never emailed.
	Source string
	// Files are the files sent with it, checked (PrepareFiles).
	Files []File
	// Held marks a copy stored without being emailed, for the redrive
	// function to send at its own pace (ErrHold).
	Held bool
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

// IDLength is the length of every id NewID makes (rand.Text's 26
// characters): the template's IAM conditions tell submission ids from the
// table's other items by it (see template.yaml, SubmitFunction).
const IDLength = 26

// ConsentFor returns the evidence for purpose, or nil.
func (s *Submission) ConsentFor(purpose string) *Consent {
	for i := range s.Consents {
		if s.Consents[i].Purpose == purpose {
			return &s.Consents[i]
		}
	}
	return nil
}

// NewID returns a random, URL-safe submission id of IDLength characters.
func NewID() string { return strings.ToLower(rand.Text()) }
