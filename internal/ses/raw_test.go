package ses_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// rawSES records SendRawEmail.
type rawSES struct {
	sendFunc
	got *sesapi.SendRawEmailInput
}

func (r *rawSES) SendRawEmail(_ context.Context, in *sesapi.SendRawEmailInput, _ ...func(*sesapi.Options)) (*sesapi.SendRawEmailOutput, error) {
	r.got = in
	return &sesapi.SendRawEmailOutput{}, nil
}

// files is a FileReader over a map.
type files map[string][]byte

func (f files) Get(_ context.Context, key string) ([]byte, error) {
	if b, ok := f[key]; ok {
		return b, nil
	}
	return nil, errors.New("no such key")
}

const pdf = "%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"

func withFiles() *submission.Submission {
	return &submission.Submission{ID: "abc", FormID: "contact", ReceivedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		ReplyTo: "kari@example.no", Subject: strings.Repeat("Søknad om jobb ", 16),
		Fields: []submission.Field{{Name: "message", Value: "Hei"}},
		Files: []submission.File{
			{Field: "cv", Name: "CV «Kari».pdf", Type: "application/pdf", Size: int64(len(pdf)), Key: "files/abc/0", Token: "t0"},
			{Field: "video", Name: "a\r\nBcc: evil@example.com.pdf", Type: "application/pdf", Size: ses.AttachBudget + 1, Key: "files/abc/1", Token: "t1"},
		}}
}

// parts reads a raw message: its headers and each leaf part.
func parts(t *testing.T, raw []byte) (*mail.Message, []*multipart.Part, [][]byte) {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d is %d octets long", i, len(line))
		}
		if strings.HasPrefix(line, "Bcc:") {
			t.Fatalf("line %d injects a header: %q", i, line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var ps []*multipart.Part
	var bodies [][]byte
	var walk func(r io.Reader, contentType string)
	walk = func(r io.Reader, contentType string) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ct := p.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
				walk(p, ct)
				continue
			}
			b, _ := io.ReadAll(p)
			ps, bodies = append(ps, p), append(bodies, b)
		}
	}
	walk(msg.Body, msg.Header.Get("Content-Type"))
	return msg, ps, bodies
}

func TestSendWithFilesAttachesWhatFitsAndLinksTheRest(t *testing.T) {
	api := &rawSES{}
	m := &ses.Mailer{Client: api, ConfigurationSet: "kontakt", Files: files{"files/abc/0": []byte(pdf)},
		Links: ses.Links("https://skjema.example.no")}
	if err := m.Send(context.Background(), form, withFiles()); err != nil {
		t.Fatal(err)
	}
	in := api.got
	if in == nil || *in.Source != form.Sender || strings.Join(in.Destinations, ",") != "post@example.no" || *in.ConfigurationSetName != "kontakt" {
		t.Fatalf("input %+v", in)
	}
	msg, ps, bodies := parts(t, in.RawMessage.Data)
	if msg.Header.Get("From") != form.Sender || msg.Header.Get("To") != "post@example.no" || msg.Header.Get("Reply-To") != "kari@example.no" {
		t.Errorf("headers %v", msg.Header)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || !strings.Contains(subject, "Søknad om jobb Søknad") {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d leaf parts, want text, HTML and one attachment", len(ps))
	}
	text := string(bodies[0])
	for _, want := range []string{"Vedlegg (2):", "CV «Kari».pdf (application/pdf, 36 B): vedlagt",
		"https://skjema.example.no/f/contact/files/abc/1?t=t1", "lenken virker uten innlogging til 2026-12-02 13:00 CET"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(string(bodies[1]), `<a href="https://skjema.example.no/f/contact/files/abc/1?t=t1">`) {
		t.Errorf("HTML part lacks the link:\n%s", bodies[1])
	}
	att := ps[2]
	if att.FileName() != "CV «Kari».pdf" || !strings.HasPrefix(att.Header.Get("Content-Type"), "application/pdf") {
		t.Errorf("attachment %v", att.Header)
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(bodies[2]), "\r\n", ""))
	if err != nil || string(data) != pdf {
		t.Errorf("attachment data %q (%v)", data, err)
	}
}

func TestSendWithFilesLinksWhatCannotBeRead(t *testing.T) {
	api := &rawSES{}
	s := withFiles()
	s.Files = s.Files[:1]
	m := &ses.Mailer{Client: api, Files: files{}, Links: ses.Links("")}
	ctx := submission.WithBaseURL(context.Background(), "https://abc.execute-api.eu-north-1.amazonaws.com")
	if err := m.Send(ctx, form, s); err != nil {
		t.Fatal(err)
	}
	_, ps, bodies := parts(t, api.got.RawMessage.Data)
	if len(ps) != 2 || !strings.Contains(string(bodies[0]), "https://abc.execute-api.eu-north-1.amazonaws.com/f/contact/files/abc/0?t=t0") {
		t.Errorf("want no attachment and the link under the request's URL:\n%s", bodies[0])
	}
}

// With malware scanning on, nothing is attached: every file is linked, and
// the link says it opens once the scan found nothing.
func TestLinkOnlyWhenScanning(t *testing.T) {
	api := &rawSES{}
	s := withFiles()
	s.Files = s.Files[:1]
	m := &ses.Mailer{Client: api, Files: files{"files/abc/0": []byte(pdf)}, Links: ses.Links("https://skjema.example.no"), LinkOnly: true}
	if err := m.Send(context.Background(), form, s); err != nil {
		t.Fatal(err)
	}
	_, ps, bodies := parts(t, api.got.RawMessage.Data)
	if len(ps) != 2 || !strings.Contains(string(bodies[0]), "åpnes når skanningen ikke har funnet skadelig innhold") {
		t.Errorf("%d parts:\n%s", len(ps), bodies[0])
	}
}

func TestFileNotesInTheEmail(t *testing.T) {
	s := withFiles()
	m := email.Build(form, s, []email.FileNote{{Withheld: true}, {}})
	for _, want := range []string{"holdt tilbake", "lagret; spør driftsansvarlig"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if got := email.Size(1_234_567); got != "1.2 MB" {
		t.Errorf("Size = %q", got)
	}

}
