package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
)

// moto keeps the mail it accepted in its SES backend and shows it only in
// its model dump, GET /moto-api/data.json (ses.Message for SendEmail,
// ses.RawMessage for SendRawEmail). It has no way to delete mail alone:
// /moto-api/reset would drop every table, queue and secret with it. So
// ClearEmails remembers the ids it has seen and Emails leaves them out.
//
// What moto keeps of a SendEmail call is less than the npm emulator: no
// Reply-To at all, and of the body only the HTML part when there is one.
// Emails gives that HTML part in Body.HTML and, reduced to text, in
// Body.Text, so a test can find a line like the submission id in either
// emulator's mail; a test about Reply-To cannot run on moto
// (testenv.SkipOnMoto).

type motoMessage struct {
	ID           string              `json:"id"`
	Source       string              `json:"source"`
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
	Destinations map[string][]string `json:"destinations"` // SendEmail: ToAddresses, CcAddresses, BccAddresses
	RawData      string              `json:"raw_data"`     // SendRawEmail
}

// Emails returns every message moto accepted since the last ClearEmails,
// oldest first.
func (m *Moto) Emails(ctx context.Context) ([]Email, error) {
	msgs, err := m.messages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Email
	for _, msg := range msgs {
		if !m.cleared[msg.ID] {
			out = append(out, msg.email())
		}
	}
	return out, nil
}

// ClearEmails hides every message moto has accepted so far from Emails.
func (m *Moto) ClearEmails(ctx context.Context) error {
	msgs, err := m.messages(ctx)
	if err != nil {
		return fmt.Errorf("clear emails: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cleared == nil {
		m.cleared = map[string]bool{}
	}
	for _, msg := range msgs {
		m.cleared[msg.ID] = true
	}
	return nil
}

func (m *Moto) messages(ctx context.Context) ([]motoMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/data.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := mailClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET /moto-api/data.json: %s: %s", resp.Status, b)
	}
	var dump struct {
		SES struct {
			Message    []motoMessage
			RawMessage []motoMessage
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		return nil, fmt.Errorf("moto data.json: %w", err)
	}
	// Each list is in the order moto accepted the messages; the two kinds
	// are not interleaved by time (moto records none).
	return append(dump.SES.Message, dump.SES.RawMessage...), nil
}

func (msg motoMessage) email() Email {
	if msg.RawData != "" {
		return rawEmail(msg)
	}
	e := Email{MessageID: msg.ID, From: msg.Source, Subject: msg.Subject,
		Destination: Destination{To: msg.Destinations["ToAddresses"], Cc: msg.Destinations["CcAddresses"], Bcc: msg.Destinations["BccAddresses"]}}
	if strings.Contains(msg.Body, "<") {
		e.Body.HTML, e.Body.Text = msg.Body, htmlText(msg.Body)
	} else {
		e.Body.Text = msg.Body
	}
	return e
}

// rawEmail reads the headers and the first text part of a raw MIME message.
func rawEmail(msg motoMessage) Email {
	e := Email{MessageID: msg.ID, From: msg.Source}
	m, err := mail.ReadMessage(strings.NewReader(msg.RawData))
	if err != nil {
		return e
	}
	dec := new(mime.WordDecoder)
	e.Subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
	list := func(h string) []string {
		as, _ := m.Header.AddressList(h)
		var out []string
		for _, a := range as {
			out = append(out, a.Address)
		}
		return out
	}
	e.ReplyTo, e.Destination = list("Reply-To"), Destination{To: list("To"), Cc: list("Cc"), Bcc: list("Bcc")}
	body, _ := io.ReadAll(m.Body)
	typ, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if !strings.HasPrefix(typ, "multipart/") {
		e.Body.Text = string(body)
		return e
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err != nil {
			return e
		}
		b, _ := io.ReadAll(p)
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			if e.Body.Text == "" {
				e.Body.Text = string(b)
			}
		case "text/html":
			if e.Body.HTML == "" {
				e.Body.HTML = string(b)
			}
		}
	}
}

var (
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</(p|tr|div|h[1-6]|li)>`)
	htmlCell  = regexp.MustCompile(`(?i)</t[hd]>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
)

// htmlText reduces an HTML body to its text, one line per line break,
// paragraph or table row.
func htmlText(s string) string {
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlCell.ReplaceAllString(s, " ")
	return html.UnescapeString(htmlTag.ReplaceAllString(s, ""))
}
