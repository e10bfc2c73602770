package localstack

import (
	"bytes"
	"context"
	"encoding/base64"
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
	ID      string `json:"id"`
	Source  string `json:"source"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Destinations: SendEmail's ToAddresses, CcAddresses and BccAddresses
	// (an object); SendRawEmail's Destinations (a list, read from the
	// message's headers instead).
	Destinations json.RawMessage `json:"destinations"`
	RawData      string          `json:"raw_data"` // SendRawEmail
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
	var to map[string][]string
	json.Unmarshal(msg.Destinations, &to)
	e := Email{MessageID: msg.ID, From: msg.Source, Subject: msg.Subject,
		Destination: Destination{To: to["ToAddresses"], Cc: to["CcAddresses"], Bcc: to["BccAddresses"]}}
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
	walkParts(&e, m.Body, m.Header.Get("Content-Type"), "")
	return e
}

// walkParts reads a MIME body into e: the first text and HTML parts, at
// any depth (a message with files nests them in multipart/alternative
// inside multipart/mixed), and every attachment.
func walkParts(e *Email, r io.Reader, contentType, disposition string) {
	body, _ := io.ReadAll(r)
	typ, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(typ, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable
			if err != nil {
				return
			}
			var b io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				b = base64.NewDecoder(base64.StdEncoding, p)
			}
			walkParts(e, b, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
		}
	}
	if d, dp, _ := mime.ParseMediaType(disposition); d == "attachment" {
		e.Attachments = append(e.Attachments, Attachment{Filename: dp["filename"], ContentType: typ,
			Content: base64.StdEncoding.EncodeToString(body), Size: len(body)})
		return
	}
	switch {
	case typ == "text/plain" && e.Body.Text == "":
		e.Body.Text = string(body)
	case typ == "text/html" && e.Body.HTML == "":
		e.Body.HTML = string(body)
	case typ == "" && e.Body.Text == "":
		e.Body.Text = string(body)
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
