package ses

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/submission"
)

// AttachBudget is how much of a submission's files (before encoding) is
// attached to the staff email; the rest is linked. SES API v1 takes a raw
// message of at most 10 MB after encoding, and base64 adds a third:
// 6 MB of files leaves room for the text and HTML parts.
const AttachBudget = 6 << 20

// FileReader reads a stored file back, for a copy whose bytes are not in
// memory (the redrive function's).
type FileReader interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// Linker makes the download link of s's i-th file and says until when it
// works; "" when no link can be made.
type Linker func(ctx context.Context, form *config.Form, s *submission.Submission, i int) (string, time.Time)

// Links makes download links under base (the API's public URL), or under
// the URL the post came in at (submission.BaseURL) when base is "": the
// template leaves it empty unless the operator has a domain of their own.
func Links(base string) Linker {
	return func(ctx context.Context, form *config.Form, s *submission.Submission, i int) (string, time.Time) {
		b := base
		if b == "" {
			b = submission.BaseURL(ctx)
		}
		if b == "" {
			return "", time.Time{}
		}
		return submission.FileLink(b, s, i), s.LinkUntil()
	}
}

// sendRaw emails s with its files: attached while they fit AttachBudget
// and can be read, linked otherwise. SES's structured SendEmail cannot
// carry attachments, so this one message is built here; its headers are
// still only configuration and the re-validated reply address.
func (m *Mailer) sendRaw(ctx context.Context, form *config.Form, s *submission.Submission) error {
	notes := make([]email.FileNote, len(s.Files))
	data := make([][]byte, len(s.Files))
	var attached int64
	for i, f := range s.Files {
		notes[i].ScanFirst = m.LinkOnly
		if !m.LinkOnly && attached+f.Size <= AttachBudget {
			b := f.Data
			if b == nil && m.Files != nil && f.Key != "" {
				var err error
				if b, err = m.Files.Get(ctx, f.Key); err != nil {
					// Not worth failing the email for: it links the file instead.
					b = nil
				}
			}
			if b != nil && int64(len(b)) == f.Size {
				data[i], notes[i].Attached = b, true
				attached += f.Size
				continue
			}
		}
		if m.Links != nil {
			notes[i].Link, notes[i].LinkUntil = m.Links(ctx, form, s, i)
		}
	}
	msg, err := RawMessage(form, s, notes, data, time.Now())
	if err != nil {
		return &Error{Class: ClassRejected, Err: err}
	}
	in := &sesapi.SendRawEmailInput{
		Source:       aws.String(form.Sender),
		Destinations: form.Recipients,
		RawMessage:   &types.RawMessage{Data: msg},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	if _, err := m.Client.SendRawEmail(ctx, in); err != nil {
		return &Error{Class: Classify(err), Err: err}
	}
	return nil
}

// RawMessage is the MIME message for s: the text and HTML parts kontakt
// sends without files, then each attached file (data[i] for notes[i]
// Attached). From, To and Reply-To are as SendEmail would set them.
func RawMessage(form *config.Form, s *submission.Submission, notes []email.FileNote, data [][]byte, now time.Time) ([]byte, error) {
	content := email.Build(form, s, notes)
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", form.Sender)
	header("To", strings.Join(form.Recipients, ", "))
	if in := Input(form, s); len(in.ReplyToAddresses) == 1 {
		header("Reply-To", in.ReplyToAddresses[0])
	}
	header("Subject", encodeHeader(content.Subject))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	mixed := multipart.NewWriter(&b)
	mixed.SetBoundary(boundary())
	header("Content-Type", "multipart/mixed; boundary="+mixed.Boundary())
	b.WriteString("\r\n")

	altBoundary := boundary()
	alt, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative; boundary=" + altBoundary}})
	if err != nil {
		return nil, err
	}
	altw := multipart.NewWriter(alt)
	altw.SetBoundary(altBoundary)
	for _, p := range []struct{ typ, body string }{{"text/plain", content.Text}, {"text/html", content.HTML}} {
		w, err := altw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(p.body))
		qp.Close()
	}
	altw.Close()

	for i, f := range s.Files {
		if i >= len(notes) || !notes[i].Attached {
			continue
		}
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(f.Type, map[string]string{"name": f.Name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		writeBase64(w, data[i])
	}
	mixed.Close()
	return b.Bytes(), nil
}

// encodeHeader encodes a subject with other than ASCII as RFC 2047 words,
// one per folded line, so that no line passes the 998 octets RFC 5322 allows
// (a 250-letter Norwegian subject encodes to much more than that).
func encodeHeader(v string) string {
	enc := mime.BEncoding.Encode("UTF-8", v)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// writeBase64 writes data base64-encoded in lines of 76 characters.
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}

func boundary() string { return "kontakt-" + rand.Text() }
