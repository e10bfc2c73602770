package erasuremail_test

import (
	"context"
	"testing"
	"time"

	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
)

type sendFunc func(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error)

func (f sendFunc) SendEmail(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
	return f(ctx, in, opts...)
}

// The erasure notice and the confirmation links go out with the
// configuration set, so that their bounces and complaints reach the
// feedback topic.
func TestSendUsesTheConfigurationSet(t *testing.T) {
	var got *sesapi.SendEmailInput
	client := sendFunc(func(_ context.Context, in *sesapi.SendEmailInput, _ ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error) {
		got = in
		return &sesapi.SendEmailOutput{}, nil
	})
	n := &erasuremail.Notifier{Client: client, Sender: "kontakt@example.no", Contact: "personvern@example.no", ConfigurationSet: "kontakt-feedback"}
	if err := n.NotifyErased(context.Background(), erasure.Receipt{RequestID: "r"}, nil); err != nil {
		t.Fatal(err)
	}
	if got.ConfigurationSetName == nil || *got.ConfigurationSetName != "kontakt-feedback" {
		t.Errorf("erasure notice ConfigurationSetName = %v", got.ConfigurationSetName)
	}
	// The erasure page's links go to any address a visitor types: their
	// bounces must reach the feedback topic too.
	got = nil
	l := &erasuremail.LinkMailer{Client: client, Sender: "kontakt@example.no", ConfigurationSet: "kontakt-feedback"}
	if err := l.SendConfirmLink(context.Background(), "kari@example.no", "https://x/erasure/confirm?token=t", "nb", erasure.PurposeErasure, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got.ConfigurationSetName == nil || *got.ConfigurationSetName != "kontakt-feedback" {
		t.Errorf("confirmation link ConfigurationSetName = %v", got.ConfigurationSetName)
	}
}
