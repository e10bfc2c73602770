// Package ses sends staff emails through Amazon SES (the v1 SendEmail API).
// SES builds the MIME message from structured parameters, so From, To and
// Reply-To come from configuration and the validated reply address, never
// from raw submitted text.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// IAMActions are the SES actions this adapter calls; the template test
// checks the function's policy grants exactly these.
var IAMActions = []string{"ses:SendEmail"}

// API is the part of the SES client the adapter uses.
type API interface {
	SendEmail(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error)
}

// Mailer implements submission.Mailer.
type Mailer struct {
	Client API
	// ConfigurationSet names the SES configuration set every email is sent
	// with, so that bounces and complaints reach the feedback topic; "" sends
	// without one.
	ConfigurationSet string
}

var _ submission.Mailer = (*Mailer)(nil)

// Input builds the SendEmail request for s. It is separate from Send so the
// fuzz and unit tests can check exactly what would reach SES.
func Input(form *config.Form, s *submission.Submission) *sesapi.SendEmailInput {
	in := input(form.Sender, form.Recipients, email.Build(form, s))
	// The reply address was validated when the form was posted; checking it
	// again here keeps a copy read back from the table (or any other path)
	// from ever putting a second address or a line break into the header.
	if addr, code := submission.ParseReplyTo(s.ReplyTo); s.ReplyTo != "" && code == "" && addr == s.ReplyTo {
		in.ReplyToAddresses = []string{s.ReplyTo}
	}
	return in
}

func withConfigurationSet(in *sesapi.SendEmailInput, name string) *sesapi.SendEmailInput {
	if name != "" {
		in.ConfigurationSetName = aws.String(name)
	}
	return in
}

// charsetUTF8 serves every request (the SDK only reads its input).
var charsetUTF8 = aws.String("UTF-8")

func input(from string, to []string, msg email.Message) *sesapi.SendEmailInput {
	utf8 := func(s string) *types.Content {
		return &types.Content{Data: aws.String(s), Charset: charsetUTF8}
	}
	return &sesapi.SendEmailInput{
		Source:      aws.String(from),
		Destination: &types.Destination{ToAddresses: to},
		Message: &types.Message{
			Subject: utf8(msg.Subject),
			Body:    &types.Body{Text: utf8(msg.Text), Html: utf8(msg.HTML)},
		},
	}
}

// Send emails s to the form's recipients.
func (m *Mailer) Send(ctx context.Context, form *config.Form, s *submission.Submission) error {
	if _, err := m.Client.SendEmail(ctx, withConfigurationSet(Input(form, s), m.ConfigurationSet)); err != nil {
		return &Error{Class: Classify(err), Err: err}
	}
	return nil
}

// Error is a failed send with its class. Permanent errors will fail again
// however often they are retried.
type Error struct {
	Class string
	Err   error
}

func (e *Error) Error() string      { return fmt.Sprintf("ses send (%s): %v", e.Class, e.Err) }
func (e *Error) Unwrap() error      { return e.Err }
func (e *Error) ErrorClass() string { return e.Class }

// Permanent reports whether retrying cannot help.
func (e *Error) Permanent() bool { return e.Class == ClassRejected || e.Class == ClassPaused }

// Throttled reports whether SES asked to slow down: worth retrying later,
// not at once.
func (e *Error) Throttled() bool { return e.Class == ClassThrottled }

// Error classes.
const (
	ClassThrottled   = "throttled"
	ClassRejected    = "rejected"
	ClassPaused      = "paused"
	ClassTimeout     = "timeout"
	ClassUnavailable = "unavailable"
	ClassOther       = "error"
)

// Classify maps an SES error to a class by its code only: the message text
// can quote addresses.
func Classify(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException":
			return ClassThrottled
		case "MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExistException", "InvalidParameterValue":
			return ClassRejected
		case "AccountSendingPausedException", "ConfigurationSetSendingPausedException":
			return ClassPaused
		case "ServiceUnavailable", "InternalFailure":
			return ClassUnavailable
		}
		return ClassOther
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		if nerr.Timeout() {
			return ClassTimeout
		}
		return ClassUnavailable
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return ClassUnavailable
	}
	return ClassOther
}

// Notifier tells the privacy contact about erasures.
type Notifier struct {
	Client           API
	Sender           string
	Contact          string
	ConfigurationSet string
}

var _ erasure.Notifier = (*Notifier)(nil)

// NotifyErased emails the erasure notice to the privacy contact.
func (n *Notifier) NotifyErased(ctx context.Context, r erasure.Receipt, copies []erasure.Copy) error {
	_, err := n.Client.SendEmail(ctx, withConfigurationSet(input(n.Sender, []string{n.Contact}, email.ErasureNotice(r, copies)), n.ConfigurationSet))
	if err != nil {
		return &Error{Class: Classify(err), Err: err}
	}
	return nil
}

// LinkMailer emails erasure confirmation links to visitors. They go to
// any address a visitor types, so their bounces matter most of all: with
// the configuration set they reach the feedback topic and count in the
// reputation alarms.
type LinkMailer struct {
	Client           API
	Sender           string
	ConfigurationSet string
}

var _ erasure.LinkMailer = (*LinkMailer)(nil)

// SendConfirmLink emails the link to the address that asked.
func (m *LinkMailer) SendConfirmLink(ctx context.Context, to, link, lang string, expires time.Time) error {
	if _, err := m.Client.SendEmail(ctx, withConfigurationSet(input(m.Sender, []string{to}, email.ConfirmLink(link, lang, expires)), m.ConfigurationSet)); err != nil {
		return &Error{Class: Classify(err), Err: err}
	}
	return nil
}
