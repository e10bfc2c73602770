package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Email is one message as aws-ses-v2-local keeps it (GET /store).
//
// Through the v1 SendEmail action the emulator keeps only the first address
// of each list (To, Cc, Bcc, ReplyTo) and From as given. Through
// SendRawEmail the fields come from the parsed MIME headers: each address
// header is one entry holding its text with display names quoted
// (`"Owner" <a@example.com>, b@example.com`), the Destinations envelope is
// ignored (so Bcc is usually empty) and Text is the decoded text part. The
// raw MIME message itself is not stored.
type Email struct {
	MessageID   string       `json:"messageId"` // "ses-123456789"
	From        string       `json:"from"`
	ReplyTo     []string     `json:"replyTo"`
	Destination Destination  `json:"destination"`
	Subject     string       `json:"subject"`
	Body        Body         `json:"body"`
	Attachments []Attachment `json:"attachments"`
	Headers     []Header     `json:"headers,omitempty"` // SES v2 only
	At          int64        `json:"at"`                // Unix seconds
}

// Destination holds the recipients of an Email.
type Destination struct {
	To  []string `json:"to"`
	Cc  []string `json:"cc"`
	Bcc []string `json:"bcc"`
}

// Body holds the parts of an Email; either may be empty.
type Body struct {
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
}

// Attachment is a file attached to an Email.
type Attachment struct {
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"contentType"`
	Content     string `json:"content"` // base64
	Size        int    `json:"size"`
}

// Header is an extra header given through the SES v2 API.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Time returns when the emulator accepted the message.
func (e Email) Time() time.Time { return time.Unix(e.At, 0) }

var mailClient = &http.Client{Timeout: 10 * time.Second}

// Emails returns every message the SES emulator has accepted, oldest first
// (on moto: since the last ClearEmails, see motomail.go).
func (s *Stack) Emails(ctx context.Context) ([]Email, error) {
	if s.Moto != nil {
		return s.Moto.Emails(ctx)
	}
	var store struct {
		Emails []Email `json:"emails"`
	}
	if err := s.sesCall(ctx, http.MethodGet, "/store", &store); err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	return store.Emails, nil
}

// ClearEmails empties the SES emulator's mailbox (and its templates); on
// moto it hides the mail so far from Emails.
func (s *Stack) ClearEmails(ctx context.Context) error {
	if s.Moto != nil {
		return s.Moto.ClearEmails(ctx)
	}
	if err := s.sesCall(ctx, http.MethodPost, "/clear-store", nil); err != nil {
		return fmt.Errorf("clear emails: %w", err)
	}
	return nil
}

func (s *Stack) sesCall(ctx context.Context, method, path string, out any) error {
	if s.SESURL == "" {
		return errors.New("ses emulator not started")
	}
	req, err := http.NewRequestWithContext(ctx, method, s.SESURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := mailClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
