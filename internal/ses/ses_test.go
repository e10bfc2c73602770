package ses_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

type sendFunc func(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error)

func (f sendFunc) SendEmail(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
	return f(ctx, in, opts...)
}

// SendRawEmail is not expected of posts without files.
func (f sendFunc) SendRawEmail(context.Context, *sesapi.SendRawEmailInput, ...func(*sesapi.Options)) (*sesapi.SendRawEmailOutput, error) {
	return nil, errors.New("unexpected SendRawEmail")
}

var form = &config.Form{ID: "contact", Sender: "kontakt@example.no", Recipients: []string{"post@example.no"}, Subject: "[{form}] {subject}", Language: "nb"}

func TestInputTakesAddressesFromConfigOnly(t *testing.T) {
	s := &submission.Submission{
		ID: "abc", FormID: "contact", ReceivedAt: time.Now(), ReplyTo: "kari@example.no",
		Subject: "Hei",
		Fields: []submission.Field{
			{Name: "to", Value: "evil@example.com"},
			{Name: "message", Value: "<script>alert(1)</script>\r\nBcc: evil@example.com"},
		},
	}
	in := ses.Input(form, s)
	if got := *in.Source; got != "kontakt@example.no" {
		t.Errorf("Source = %q", got)
	}
	if got := strings.Join(in.Destination.ToAddresses, ","); got != "post@example.no" {
		t.Errorf("To = %q", got)
	}
	if len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) != 0 {
		t.Error("Cc/Bcc set")
	}
	if got := strings.Join(in.ReplyToAddresses, ","); got != "kari@example.no" {
		t.Errorf("Reply-To = %q", got)
	}
	if got := *in.Message.Subject.Data; got != "[contact] Hei" {
		t.Errorf("Subject = %q", got)
	}
	html := *in.Message.Body.Html.Data
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("HTML part not escaped: %s", html)
	}
	if !strings.Contains(*in.Message.Body.Text.Data, "evil@example.com") {
		t.Error("content missing from the text part")
	}
}

func TestInputWithoutReplyTo(t *testing.T) {
	in := ses.Input(form, &submission.Submission{ID: "x", ReceivedAt: time.Now()})
	if in.ReplyToAddresses != nil {
		t.Errorf("Reply-To = %v", in.ReplyToAddresses)
	}
	if got := *in.Message.Subject.Data; got != "[contact] Ny melding fra kontaktskjemaet" {
		t.Errorf("Subject = %q", got)
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	for _, tc := range []struct {
		err       error
		class     string
		permanent bool
	}{
		{&smithy.GenericAPIError{Code: "Throttling"}, ses.ClassThrottled, false},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, ses.ClassThrottled, false},
		{&smithy.GenericAPIError{Code: "ConfigurationSetDoesNotExist"}, ses.ClassMisconfigured, true},
		{&types.ConfigurationSetDoesNotExistException{}, ses.ClassMisconfigured, true},
		{&smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail", Err: &types.MailFromDomainNotVerifiedException{}}, ses.ClassMisconfigured, true},
		{&smithy.GenericAPIError{Code: "SomethingNew"}, ses.ClassOther, false},
		{&smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified: kari@example.no"}, ses.ClassRejected, true},
		{&smithy.GenericAPIError{Code: "AccountSendingPausedException"}, ses.ClassPaused, true},
		{context.DeadlineExceeded, ses.ClassTimeout, false},
		{errors.New("boom"), ses.ClassOther, false},
	} {
		m := &ses.Mailer{Client: sendFunc(func(context.Context, *sesapi.SendEmailInput, ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
			return nil, tc.err
		})}
		err := m.Send(context.Background(), form, &submission.Submission{ID: "x", ReceivedAt: time.Now()})
		var se *ses.Error
		if !errors.As(err, &se) {
			t.Fatalf("%v: not a *ses.Error: %v", tc.err, err)
		}
		if se.Class != tc.class || se.Permanent() != tc.permanent || submission.ErrorClass(err) != tc.class {
			t.Errorf("%v: class %q permanent %v, want %q %v", tc.err, se.Class, se.Permanent(), tc.class, tc.permanent)
		}
	}
}

func TestConsentEvidenceInEmail(t *testing.T) {
	at := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	in := ses.Input(form, &submission.Submission{ID: "x", ReceivedAt: at,
		Consents: []submission.Consent{{Purpose: "optional_details", Field: "consent", Value: "on", Given: true, PolicyVersion: "2026-01", At: at}}})
	text := *in.Message.Body.Text.Data
	if want := `Samtykke (valgfrie opplysninger): gitt (consent="on", personvernerklæring 2026-01, 2026-11-25 12:00:00 CET)`; !strings.Contains(text, want) {
		t.Errorf("text part lacks %q:\n%s", want, text)
	}
	if !strings.Contains(*in.Message.Body.Html.Data, "personvernerklæring 2026-01") {
		t.Error("HTML part lacks the consent evidence")
	}
}

// Every email goes out with the configuration set, so that its bounces and
// complaints reach the feedback topic.
func TestSendUsesTheConfigurationSet(t *testing.T) {
	var got *sesapi.SendEmailInput
	client := sendFunc(func(_ context.Context, in *sesapi.SendEmailInput, _ ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
		got = in
		return &sesapi.SendEmailOutput{}, nil
	})
	m := &ses.Mailer{Client: client, ConfigurationSet: "kontakt-feedback"}
	if err := m.Send(context.Background(), form, &submission.Submission{ID: "x", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got.ConfigurationSetName == nil || *got.ConfigurationSetName != "kontakt-feedback" {
		t.Errorf("ConfigurationSetName = %v", got.ConfigurationSetName)
	}
	if ses.Input(form, &submission.Submission{ID: "x"}).ConfigurationSetName != nil {
		t.Error("Input sets a configuration set of its own")
	}
}

// A reply address that is not one plain address never reaches Reply-To,
// whatever path the submission took (a copy read back from the table).
func TestInputDropsAnUnsafeReplyTo(t *testing.T) {
	for _, bad := range []string{"kari@example.no\r\nBcc: evil@example.com", "kari@example.no, evil@example.com", "Kari <kari@example.no>", "not an address"} {
		in := ses.Input(form, &submission.Submission{ID: "x", ReplyTo: bad})
		if len(in.ReplyToAddresses) != 0 {
			t.Errorf("Reply-To %q passed as %q", bad, in.ReplyToAddresses)
		}
	}
}

func TestThrottledErrors(t *testing.T) {
	for class, want := range map[string]bool{ses.ClassThrottled: true, ses.ClassRejected: false, ses.ClassUnavailable: false} {
		if got := (&ses.Error{Class: class}).Throttled(); got != want {
			t.Errorf("%s: Throttled() = %v", class, got)
		}
	}
}

// SES sends only to 7-bit ASCII addresses: an internationalised domain goes
// out in punycode, also for a copy stored before submit converted it.
func TestReplyToIsASCII(t *testing.T) {
	for stored, want := range map[string]string{
		"kari@xn--blgen-vua.no": "kari@xn--blgen-vua.no",
		"kari@bølgen.no":        "kari@xn--blgen-vua.no",
		"kari@Bølgen.NO":        "kari@xn--blgen-vua.no",
		"kåre@example.no":       "", // no ASCII form: no Reply-To rather than a refused email
	} {
		in := ses.Input(form, &submission.Submission{ID: "x", ReplyTo: stored})
		if got := strings.Join(in.ReplyToAddresses, ","); got != want {
			t.Errorf("stored %q: Reply-To %q, want %q", stored, got, want)
		}
	}
}
