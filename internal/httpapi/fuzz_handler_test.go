package httpapi_test

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// FuzzSubmitToEmail drives a whole hostile post through the handler and,
// when it is accepted, builds the SES request from what was accepted: the
// request never panics, and no CR or LF, no second Reply-To and no
// recipient other than the configured ones ever reaches SES.
// Seeds: testdata/fuzz/FuzzSubmitToEmail.
func FuzzSubmitToEmail(f *testing.F) {
	f.Add("application/json", `{"name":"Kari","email":"kari@example.no","_subject":"Hei","message":"Hei!"}`, "")
	f.Add("application/json", `{"email":"kari@example.no\r\nBcc: evil@example.com","message":"x"}`, "k1")
	f.Add("application/x-www-form-urlencoded", "_replyto=a%40b.no%2C+c%40d.no&to=evil%40example.com&_cc=evil%40example.com&message=x", "")
	f.Add("application/x-www-form-urlencoded", "_subject=Hei%0D%0ABcc%3A+evil%40example.com&message=x&email=%22evil%22%40example.com", "")
	f.Fuzz(func(t *testing.T, contentType, body, key string) {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		ev := post(contentType, body, "idempotency-key", key)
		resp, err := h.Handle(context.Background(), ev)
		if err != nil || resp.StatusCode == 0 || resp.StatusCode >= 500 {
			t.Fatalf("Handle = %d, %v", resp.StatusCode, err)
		}
		form := h.Config.Form("contact")
		for _, s := range svc.got {
			checkSESInput(t, form.Recipients, form.Sender, s)
		}
	})
}

func checkSESInput(t *testing.T, recipients []string, sender string, s *submission.Submission) {
	t.Helper()
	h, _ := newHandler(t, &fakeService{})
	in := ses.Input(h.Config.Form("contact"), s)
	if subj := *in.Message.Subject.Data; strings.ContainsAny(subj, "\r\n") {
		t.Fatalf("line break in the subject %q", subj)
	}
	if *in.Source != sender {
		t.Fatalf("Source = %q", *in.Source)
	}
	d := in.Destination
	if !slices.Equal(d.ToAddresses, recipients) || len(d.CcAddresses)+len(d.BccAddresses) != 0 {
		t.Fatalf("destination %+v, want exactly %v", d, recipients)
	}
	if len(in.ReplyToAddresses) > 1 {
		t.Fatalf("Reply-To %q", in.ReplyToAddresses)
	}
	for _, a := range in.ReplyToAddresses {
		list, err := mail.ParseAddressList(a)
		if strings.ContainsAny(a, "\r\n,;") || err != nil || len(list) != 1 || list[0].Address != a {
			t.Fatalf("Reply-To %q is not one plain address", a)
		}
	}
}
