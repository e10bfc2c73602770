package erasuremail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// recorder is an SES client that keeps the last email it was asked to send.
type recorder struct{ last *sesapi.SendEmailInput }

func (r *recorder) SendEmail(_ context.Context, in *sesapi.SendEmailInput, _ ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
	r.last = in
	return &sesapi.SendEmailOutput{}, nil
}

// The erasure notice and the confirmation links go out with the
// configuration set, so that their bounces and complaints reach the
// feedback topic.
func TestSendUsesTheConfigurationSet(t *testing.T) {
	client := &recorder{}
	n := &erasuremail.Notifier{Client: client, Sender: "kontakt@example.no", Contact: "personvern@example.no", ConfigurationSet: "kontakt-feedback"}
	if err := n.NotifyErased(context.Background(), erasure.Receipt{RequestID: "r"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := client.last; got.ConfigurationSetName == nil || *got.ConfigurationSetName != "kontakt-feedback" {
		t.Errorf("erasure notice ConfigurationSetName = %v", got.ConfigurationSetName)
	}
	// The erasure page's links go to any address a visitor types: their
	// bounces must reach the feedback topic too.
	client.last = nil
	l := &erasuremail.LinkMailer{Client: client, Sender: "kontakt@example.no", ConfigurationSet: "kontakt-feedback"}
	if err := l.SendConfirmLink(context.Background(), "kari@example.no", "https://x/erasure/confirm?token=t", "nb", erasure.PurposeErasure, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := client.last; got.ConfigurationSetName == nil || *got.ConfigurationSetName != "kontakt-feedback" {
		t.Errorf("confirmation link ConfigurationSetName = %v", got.ConfigurationSetName)
	}
}

// The privacy contact's notice names each file by name and size under its
// copy (held or erased), never its content, type, key or link token.
func TestErasureNoticeListsFiles(t *testing.T) {
	at := time.Date(2026, 11, 25, 17, 4, 0, 0, time.UTC)
	copies := []erasure.Copy{
		{ID: "A1", FormID: "soknad", ReceivedAt: at, Files: []submission.File{
			{Name: "cv.pdf", Type: "application/pdf", Size: 123456, Key: "files/A1/0", Token: "secret-token"},
			{Name: "<b>bilde</b>.jpg", Type: "image/jpeg", Size: 512, Key: "files/A1/1", Token: "secret-token-2"},
		}},
		{ID: "B2", FormID: "contact", ReceivedAt: at},
		{ID: "H3", FormID: "soknad", ReceivedAt: at, HeldUntil: at.AddDate(1, 0, 0), Files: []submission.File{
			{Name: "held.pdf", Size: 2_500_000, Key: "files/H3/0"},
		}},
	}
	m := erasuremail.ErasureNotice(erasure.Receipt{RequestID: "dpo-1", Source: "operator", Count: 2, Held: 1, Files: 2}, copies)
	for _, want := range []string{
		"  A1  soknad  2026-11-25 18:04 CET\n      fil / file: cv.pdf (123 KB)\n      fil / file: <b>bilde</b>.jpg (512 B)\n  B2",
		"2 filer sendt med disse kopiene slettes også",
		"2 files sent with these copies are erased from storage too",
		"hold → 2027-11-25\n      fil / file: held.pdf (2.5 MB)\n",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	for _, never := range []string{"files/A1", "secret-token", "application/pdf"} {
		if strings.Contains(m.Text+m.HTML, never) {
			t.Errorf("notice carries %q", never)
		}
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;bilde&lt;/b&gt;.jpg") {
		t.Errorf("a file name reaches the HTML part unescaped: %s", m.HTML)
	}
	// Without files the notice says nothing about them.
	if m := erasuremail.ErasureNotice(erasure.Receipt{RequestID: "dpo-2", Count: 1}, copies[1:2]); strings.Contains(m.Text, "fil") {
		t.Errorf("notice without files mentions them:\n%s", m.Text)
	}
}
