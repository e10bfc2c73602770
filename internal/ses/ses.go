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
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/email"
	"github.com/opt-e/kontakt/internal/submission"
)

// IAMActions are the SES actions this adapter calls; the template test
// checks the function's policy grants exactly these.
// SendRawEmail carries a submission's files (raw.go); NoticeIAMActions are
// those of the functions that send only notices and links (erase, privacy).
var (
	IAMActions       = []string{"ses:SendEmail", "ses:SendRawEmail"}
	NoticeIAMActions = []string{"ses:SendEmail"}
)

// API is the part of the SES client the adapter uses.
type API interface {
	SendEmail(ctx context.Context, in *sesapi.SendEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendEmailOutput, error)
}

// MailerAPI is what the staff email needs: SendRawEmail carries a
// submission's files (raw.go).
type MailerAPI interface {
	API
	SendRawEmail(ctx context.Context, in *sesapi.SendRawEmailInput, opts ...func(*sesapi.Options)) (*sesapi.SendRawEmailOutput, error)
}

// Mailer implements submission.Mailer.
type Mailer struct {
	Client MailerAPI
	// ConfigurationSet names the SES configuration set every email is sent
	// with, so that bounces and complaints reach the feedback topic; "" sends
	// without one.
	ConfigurationSet string
	// Files reads back files a copy refers to (redrive), to attach them;
	// Links makes the download links of files it does not attach. Either
	// may be nil: files are then linked, or only listed.
	Files FileReader
	Links Linker
	// LinkOnly sends every file as a link, none attached: with malware
	// scanning on, a file goes to staff only through the link, which
	// checks the scan's verdict first.
	LinkOnly bool
}

var _ submission.Mailer = (*Mailer)(nil)

// Input builds the SendEmail request for s. It is separate from Send so the
// fuzz and unit tests can check exactly what would reach SES.
func Input(form *config.Form, s *submission.Submission) *sesapi.SendEmailInput {
	in := input(form.Sender, form.Recipients, email.Build(form, s, nil))
	// The reply address was validated when the form was posted; checking it
	// again here keeps a copy read back from the table (or any other path)
	// from ever putting a second address, a display name or a line break
	// into the header. What goes to SES is the parsed form, 7-bit ASCII: a
	// copy stored before domains were converted to punycode still gets its
	// Reply-To, in the form SES accepts.
	if addr, code := submission.ParseReplyTo(s.ReplyTo); s.ReplyTo != "" && code == "" && (addr == s.ReplyTo || !strings.ContainsAny(s.ReplyTo, " <>\"(),;:")) {
		in.ReplyToAddresses = []string{addr}
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
	if len(s.Files) > 0 {
		return m.sendRaw(ctx, form, s)
	}
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

// Permanent reports whether retrying cannot help: the copy is marked failed
// at once and counted in the permanent-errors metric, whose alarm tells the
// operator, instead of being retried for the whole back-off (17 hours).
func (e *Error) Permanent() bool {
	return e.Class == ClassRejected || e.Class == ClassPaused || e.Class == ClassMisconfigured
}

// Throttled reports whether SES asked to slow down: worth retrying later,
// not at once.
func (e *Error) Throttled() bool { return e.Class == ClassThrottled }

// Error classes.
const (
	ClassThrottled = "throttled"
	// ClassRejected: SES refused this request (the message, an address, a
	// parameter); sending it again gets the same answer.
	ClassRejected = "rejected"
	// ClassPaused: sending is switched off for the account or the
	// configuration set until the operator turns it on again.
	ClassPaused = "paused"
	// ClassMisconfigured: the deployment is wrong (a configuration set,
	// template or identity that does not exist, missing permission); no
	// retry helps until the operator fixes it.
	ClassMisconfigured = "misconfigured"
	ClassTimeout       = "timeout"
	ClassUnavailable   = "unavailable"
	ClassOther         = "error"
)

// classes gives every error code SES v1 can answer a deliberate class: each
// error the SDK models (service/ses/types, codes as ErrorCode() returns
// them: the query API's codes, which mostly lack the "Exception" suffix of
// the type names) and the AWS common errors. TestEveryModeledErrorHasAClass
// walks the SDK's types so that a new error, or a misspelt code here, fails
// a test rather than being retried for hours as ClassOther.
var classes = map[string]string{
	// Modeled errors of SendEmail, the call this package makes.
	"MessageRejected":                        ClassRejected,
	"MailFromDomainNotVerifiedException":     ClassMisconfigured,
	"ConfigurationSetDoesNotExist":           ClassMisconfigured,
	"ConfigurationSetSendingPausedException": ClassPaused,
	"AccountSendingPausedException":          ClassPaused,

	// Modeled errors of the other SES v1 calls. None is an answer to
	// SendEmail today; if one ever is, it names something the deployment
	// lacks or has wrong, which a retry cannot change.
	"AlreadyExists":                                ClassMisconfigured,
	"CannotDelete":                                 ClassMisconfigured,
	"ConfigurationSetAlreadyExists":                ClassMisconfigured,
	"CustomVerificationEmailInvalidContent":        ClassMisconfigured,
	"CustomVerificationEmailTemplateAlreadyExists": ClassMisconfigured,
	"CustomVerificationEmailTemplateDoesNotExist":  ClassMisconfigured,
	"EventDestinationAlreadyExists":                ClassMisconfigured,
	"EventDestinationDoesNotExist":                 ClassMisconfigured,
	"FromEmailAddressNotVerified":                  ClassMisconfigured,
	"InvalidCloudWatchDestination":                 ClassMisconfigured,
	"InvalidConfigurationSet":                      ClassMisconfigured,
	"InvalidDeliveryOptions":                       ClassMisconfigured,
	"InvalidFirehoseDestination":                   ClassMisconfigured,
	"InvalidLambdaFunction":                        ClassMisconfigured,
	"InvalidPolicy":                                ClassMisconfigured,
	"InvalidRenderingParameter":                    ClassRejected,
	"InvalidS3Configuration":                       ClassMisconfigured,
	"InvalidSNSDestination":                        ClassMisconfigured,
	"InvalidSnsTopic":                              ClassMisconfigured,
	"InvalidTemplate":                              ClassMisconfigured,
	"InvalidTrackingOptions":                       ClassMisconfigured,
	// LimitExceeded is v1's "too many resources of a kind" (configuration
	// sets, rule sets), not a sending rate: SES says Throttling for that.
	"LimitExceeded":                         ClassMisconfigured,
	"MissingRenderingAttribute":             ClassRejected,
	"ProductionAccessNotGranted":            ClassPaused,
	"RuleDoesNotExist":                      ClassMisconfigured,
	"RuleSetDoesNotExist":                   ClassMisconfigured,
	"TemplateDoesNotExist":                  ClassMisconfigured,
	"TrackingOptionsAlreadyExistsException": ClassMisconfigured,
	"TrackingOptionsDoesNotExistException":  ClassMisconfigured,

	// Common errors of every AWS query API
	// (docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html).
	// SES's sending quotas answer "Throttling" (the daily quota too, which
	// a retry within the back-off outlives).
	"Throttling":          ClassThrottled,
	"ThrottlingException": ClassThrottled,
	"ServiceUnavailable":  ClassUnavailable,
	"InternalFailure":     ClassUnavailable,
	// The request's signature time was off: the next request is signed anew.
	"RequestExpired":              ClassUnavailable,
	"AccessDenied":                ClassMisconfigured,
	"AccessDeniedException":       ClassMisconfigured,
	"InvalidClientTokenId":        ClassMisconfigured,
	"MissingAuthenticationToken":  ClassMisconfigured,
	"NotAuthorized":               ClassMisconfigured,
	"OptInRequired":               ClassMisconfigured,
	"IncompleteSignature":         ClassRejected,
	"InvalidAction":               ClassRejected,
	"InvalidParameterCombination": ClassRejected,
	"InvalidParameterValue":       ClassRejected,
	"InvalidQueryParameter":       ClassRejected,
	"MalformedQueryString":        ClassRejected,
	"MissingAction":               ClassRejected,
	"MissingParameter":            ClassRejected,
	"ValidationError":             ClassRejected,
}

// ClassOf returns the class of an SES error code, and whether the code is
// one this package classifies deliberately.
func ClassOf(code string) (class string, known bool) {
	class, known = classes[code]
	return class, known
}

// Classify maps an SES error to a class by its code only: the message text
// can quote addresses. A code outside the table is ClassOther (retried).
func Classify(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		if class, ok := classes[api.ErrorCode()]; ok {
			return class
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
