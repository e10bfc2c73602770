package localstack_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
)

// moto starts on loopback and answers its own API; a missing moto_server
// is a loud failure with the command that installs it.
func TestStartMoto(t *testing.T) {
	ctx := localstack.TestContext(t, time.Minute)
	m, err := localstack.StartMoto(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	resp, err := http.Get(m.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("moto answered %d", resp.StatusCode)
	}
	m.Stop()
	m.Stop()
}

// What kontakt sends through SES v1 SendEmail is read back from moto's
// model dump; ClearEmails hides what came before; and moto, like SES,
// refuses a sender that is not verified.
func TestMotoEmails(t *testing.T) {
	ctx := localstack.TestContext(t, time.Minute)
	st, err := localstack.Start(ctx, localstack.Options{Moto: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	for _, u := range []string{st.DynamoURL, st.SESURL, st.SQSURL} {
		if u != st.Moto.URL {
			t.Errorf("service URL %q, want moto's %q", u, st.Moto.URL)
		}
	}
	defer st.Setenv()()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := ses.NewFromConfig(cfg)
	send := func(from, line string) error {
		_, err := client.SendEmail(ctx, &ses.SendEmailInput{
			Source:      aws.String(from),
			Destination: &sestypes.Destination{ToAddresses: []string{"post@example.no"}},
			Message: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String("Emne " + line)},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String(line + "\n")},
					Html: &sestypes.Content{Data: aws.String("<p>Hei &amp; velkommen<br>" + line + "</p>")}},
			},
			ReplyToAddresses: []string{"kari@example.no"},
		})
		return err
	}
	var rejected *sestypes.MessageRejected
	if err := send("kontakt@example.no", "ID: 1"); !errors.As(err, &rejected) {
		t.Fatalf("unverified sender: %v, want MessageRejected", err)
	}
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("kontakt@example.no")}); err != nil {
		t.Fatal(err)
	}
	if err := send("kontakt@example.no", "ID: 1"); err != nil {
		t.Fatal(err)
	}
	if err := st.ClearEmails(ctx); err != nil {
		t.Fatal(err)
	}
	if err := send("kontakt@example.no", "ID: 2"); err != nil {
		t.Fatal(err)
	}
	// ClearEmails hid the first.
	e := st.OnlyEmail(ctx, t)
	if e.From != "kontakt@example.no" || strings.Join(e.Destination.To, ",") != "post@example.no" || e.Subject != "Emne ID: 2" {
		t.Errorf("email = %+v", e)
	}
	if want := "Hei & velkommen\nID: 2\n"; e.Body.Text != want {
		t.Errorf("text = %q, want %q (moto keeps the HTML part only)", e.Body.Text, want)
	}
}
