package localstack

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestStack starts all three emulators and makes one real SDK call to each.
// A machine without node/npm fails here on purpose: the local stack is part
// of the project's test suite, not an optional extra.
func TestStack(t *testing.T) {
	ctx := TestContext(t, 3*time.Minute)
	if err := EnsureInstalled(ctx, ""); err != nil {
		t.Fatalf("install emulators: %v", err)
	}
	var log strings.Builder
	st, err := Start(ctx, Options{Dynamo: true, SES: true, SQS: true, Log: &log})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer st.Stop()
	for _, u := range []string{st.DynamoURL, st.SESURL, st.SQSURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("URL %q is not on 127.0.0.1", u)
		}
	}
	restore := st.Setenv()
	defer restore()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}

	t.Run("dynamodb", func(t *testing.T) {
		out, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		if len(out.TableNames) != 0 {
			t.Errorf("fresh emulator has tables %v", out.TableNames)
		}
	})

	t.Run("ses", func(t *testing.T) {
		// Unsupported SES actions hang in the emulator: always bound calls.
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := ses.NewFromConfig(cfg).SendEmail(ctx, &ses.SendEmailInput{
			Source:           aws.String("Kontakt <noreply@example.com>"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"owner@example.com"}},
			ReplyToAddresses: []string{"visitor@example.org"},
			Message: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String("New message")},
				Body: &sestypes.Body{
					Text: &sestypes.Content{Data: aws.String("Hello there")},
					Html: &sestypes.Content{Data: aws.String("<p>Hello there</p>")},
				},
			},
		})
		if err != nil {
			t.Fatalf("SendEmail: %v", err)
		}
		m := st.OnlyEmail(ctx, t)
		if m.MessageID != aws.ToString(out.MessageId) {
			t.Errorf("messageId = %q, SendEmail returned %q", m.MessageID, aws.ToString(out.MessageId))
		}
		if !slices.Equal(m.ReplyTo, []string{"visitor@example.org"}) {
			t.Errorf("replyTo = %v", m.ReplyTo)
		}
		if !slices.Equal(m.Destination.To, []string{"owner@example.com"}) || m.From != "Kontakt <noreply@example.com>" {
			t.Errorf("from %q to %v", m.From, m.Destination.To)
		}
		if m.Subject != "New message" || m.Body.Text != "Hello there" || m.Body.HTML != "<p>Hello there</p>" {
			t.Errorf("subject %q, body %+v", m.Subject, m.Body)
		}
		if d := time.Since(m.Time()); d < -time.Minute || d > time.Minute {
			t.Errorf("at = %v, not now", m.Time())
		}
		if err := st.ClearEmails(ctx); err != nil {
			t.Fatal(err)
		}
		if mails, err := st.Emails(ctx); err != nil || len(mails) != 0 {
			t.Errorf("after clear: %d emails, %v", len(mails), err)
		}
	})

	t.Run("sqs", func(t *testing.T) {
		c := sqs.NewFromConfig(cfg)
		q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("kontakt-test")})
		if err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		if !strings.HasPrefix(aws.ToString(q.QueueUrl), st.SQSURL+"/") {
			t.Errorf("queue URL %q not under %s", aws.ToString(q.QueueUrl), st.SQSURL)
		}
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("ping")}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		// MaxNumberOfMessages 1 returns as soon as the message is there;
		// otherwise the emulator waits out the whole long poll.
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 5})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "ping" {
			t.Errorf("received %+v", out.Messages)
		}
	})

	st.Stop()
	for _, u := range []string{st.DynamoURL, st.SESURL, st.SQSURL} {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listening after Stop", u)
		}
	}
	if t.Failed() {
		t.Logf("emulator output:\n%s", log.String())
	}
}

// TestStartFailure checks that an emulator that cannot listen is reported
// with its output, and that the ones already started are stopped.
func TestStartFailure(t *testing.T) {
	ctx := TestContext(t, 3*time.Minute)
	if err := EnsureInstalled(ctx, ""); err != nil {
		t.Fatalf("install emulators: %v", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	dynPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}

	_, err = Start(ctx, Options{Dynamo: true, DynamoPort: dynPort, SQS: true, SQSPort: port})
	if err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	if !strings.Contains(err.Error(), "EADDRINUSE") {
		t.Errorf("error lacks the emulator's output: %v", err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(dynPort), time.Second); err == nil {
		c.Close()
		t.Error("dynamodb emulator still listening after failed Start")
	}
}

func TestEnv(t *testing.T) {
	st := &Stack{SESURL: "http://127.0.0.1:1"}
	env := st.Env()
	want := []string{
		"AWS_ENDPOINT_URL_SES=http://127.0.0.1:1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=eu-north-1", "AWS_EC2_METADATA_DISABLED=true",
	}
	if !slices.Equal(env, want) {
		t.Errorf("Env() = %v, want %v", env, want)
	}
	// t.Setenv restores the real values after the test.
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_SES", "")
	os.Unsetenv("AWS_ENDPOINT_URL_SES")
	restore := st.Setenv()
	if got := os.Getenv("AWS_REGION"); got != Region {
		t.Errorf("AWS_REGION = %q after Setenv", got)
	}
	restore()
	if got := os.Getenv("AWS_REGION"); got != "us-east-1" {
		t.Errorf("AWS_REGION = %q after restore", got)
	}
	if _, ok := os.LookupEnv("AWS_ENDPOINT_URL_SES"); ok {
		t.Error("AWS_ENDPOINT_URL_SES still set after restore")
	}
}
