package httpapi

import (
	"errors"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// Error codes: the JSON `error` of every refusal, stable so that programs
// may switch on them. Each has one line in refusals below, which is the
// only place that says what status and message a code gets.
const (
	CodeUnknownForm       = "unknown_form"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeOriginNotAllowed  = "origin_not_allowed"
	CodeRefererNotAllowed = "referer_not_allowed"
	CodeOriginRequired    = "origin_required"
	CodeTooLarge          = "too_large"
	CodeContentType       = "unsupported_content_type"
	CodeCharset           = "unsupported_charset"
	CodeFileUpload        = "file_upload"
	CodeMalformedJSON     = "malformed_json"
	CodeNestedValue       = "nested_value"
	CodeMalformedBody     = "malformed_body"
	CodeIdempotencyKey    = "idempotency_key_too_long"
	// CodeKeyReused: the post's Idempotency-Key came with another message
	// before; send again with a new key (one per message).
	CodeKeyReused        = "idempotency_key_reused"
	CodeValidation       = "validation"
	CodeRateLimited      = "rate_limited"
	CodeCheckUnavailable = "check_unavailable"
	CodeUnavailable      = "unavailable"
	CodeFormTokenOff     = "form_token_off"
	CodeTokenInvalid     = "token_invalid"
	CodeTokenExpired     = "token_expired"
	CodeTokenUsed        = "token_used"
	CodeInternal         = "internal"
	// CodeFileNotFound: a download link that names no file kept (wrong,
	// erased, expired copy); CodeLinkExpired: a real one past its time.
	CodeFileNotFound = "file_not_found"
	CodeLinkExpired  = "link_expired"
	// CodeFileScanning: the malware scan has not finished (503, Retry-After);
	// CodeFileWithheld: it flagged the file, or could not scan it.
	CodeFileScanning = "file_scanning"
	CodeFileWithheld = "file_withheld"
)

// Formspree's form-level codes (@formspree/core keeps only these, and
// calls anything else UNSPECIFIED).
const (
	formspreeNotFound = "FORM_NOT_FOUND"
	formspreeBlocked  = "BLOCKED"
	formspreeEmpty    = "EMPTY"
	formspreeNoFiles  = "NO_FILE_UPLOADS"
)

// refusal is what one error code is answered with.
type refusal struct {
	status int
	key    i18n.Key
	// formspree is the code from Formspree's form-level vocabulary, where
	// one means the same.
	formspree string
}

var refusals = map[string]refusal{
	CodeUnknownForm:       {404, i18n.UnknownForm, formspreeNotFound},
	CodeMethodNotAllowed:  {405, i18n.NotAllowed, ""},
	CodeOriginNotAllowed:  {403, i18n.OriginRefused, formspreeBlocked},
	CodeRefererNotAllowed: {403, i18n.OriginRefused, formspreeBlocked},
	CodeOriginRequired:    {403, i18n.OriginRequired, formspreeBlocked},
	CodeTooLarge:          {413, i18n.TooLarge, ""},
	CodeContentType:       {415, i18n.Unsupported, ""},
	CodeCharset:           {415, i18n.Unsupported, ""},
	CodeFileUpload:        {415, i18n.NoFileUploads, formspreeNoFiles},
	CodeMalformedJSON:     {400, i18n.Malformed, ""},
	CodeNestedValue:       {400, i18n.NestedValue, ""},
	CodeMalformedBody:     {400, i18n.Malformed, ""},
	CodeIdempotencyKey:    {400, i18n.Malformed, ""},
	CodeKeyReused:         {422, i18n.KeyReused, ""},
	CodeValidation:        {422, i18n.FixFields, ""},
	CodeRateLimited:       {429, i18n.RateLimited, ""},
	CodeCheckUnavailable:  {503, i18n.CheckFailed, ""},
	CodeUnavailable:       {503, i18n.Unavailable, ""},
	CodeFormTokenOff:      {404, i18n.TokenOff, ""},
	CodeTokenInvalid:      {400, i18n.TokenInvalid, ""},
	CodeTokenExpired:      {410, i18n.TokenExpired, ""},
	CodeTokenUsed:         {410, i18n.TokenUsed, ""},
	CodeInternal:          {500, i18n.InternalError, ""},
	CodeFileNotFound:      {404, i18n.FileNotFound, ""},
	CodeLinkExpired:       {410, i18n.LinkExpired, ""},
	CodeFileScanning:      {503, i18n.FileScanning, ""},
	CodeFileWithheld:      {410, i18n.FileWithheld, ""},
}

// Error is a refusal of the request as a whole: a code from refusals, and
// what its message or headers need.
type Error struct {
	Code  string
	Limit int // the number the message names (a size limit)
	// RetryAfter, when above zero, is sent as Retry-After (seconds).
	RetryAfter int
	// Allow is the Allow header of a 405.
	Allow string
	// Title heads the HTML page (zero: i18n.ErrorTitle).
	Title i18n.Key
}

func (e *Error) Error() string { return e.Code }

func refuse(code string) *Error { return &Error{Code: code} }

// RetryAfterSeconds is what a visitor is told to wait when nothing could be
// accepted.
const RetryAfterSeconds = "30"

var retryAfterSeconds, _ = strconv.Atoi(RetryAfterSeconds)

// unavailable is the 503 for a failure of ours: nothing was accepted, and
// the client is told when to try again.
func unavailable() *Error { return &Error{Code: CodeUnavailable, RetryAfter: retryAfterSeconds} }

// Formspree's field codes, for kontakt's problem codes that mean the same.
// The required codes are chosen by whether the field was sent at all.
var formspreeFieldCodes = map[string]string{
	submission.CodeInvalidEmail:  "TYPE_EMAIL",
	submission.CodeOneAddress:    "TYPE_EMAIL",
	submission.CodeEmailNotASCII: "TYPE_EMAIL",
	submission.CodeEmailTooLong:  "TYPE_EMAIL",
	submission.CodeInvalidChars:  "TYPE_TEXT",
	abuse.CodeInvalidPhone:       "TYPE_NUMERIC",
	abuse.CodeInvalidFormat:      "TYPE_TEXT",
	submission.CodeEmpty:         formspreeEmpty,
}

// requiredCodes are the problems that mean "nothing was given here".
var requiredCodes = map[string]bool{
	submission.CodeRequired:   true,
	submission.CodeConsent:    true,
	abuse.CodeCaptchaRequired: true,
}

type problemJSON struct {
	// Field is empty for a problem with the form as a whole.
	Field string `json:"field,omitempty"`
	// Code is Formspree's, where one fits: its clients keep no other.
	Code string `json:"code,omitempty"`
	// KontaktCode is kontakt's own, finer code.
	KontaktCode string `json:"kontakt_code"`
	Message     string `json:"message"`
}

type errorBody struct {
	OK bool `json:"ok"`
	// Success is for clients written against Web3Forms-style answers.
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Message string `json:"message"`
	// Errors always has at least one item: @formspree/core shows these
	// messages, and would show the bare code without them.
	Errors []problemJSON `json:"errors"`
}

// fail maps any error to its answer, the one place that does, for the
// form endpoint and the privacy pages (through Responder) alike: a
// validation error is 422 with one item per problem, an *Error gets its
// code's status, message and headers, and anything else is a 500 whose
// details stay in the logs.
func (r *request) fail(err error) events.APIGatewayV2HTTPResponse {
	var (
		ve  *submission.ValidationError
		e   *Error
		ans refusal
	)
	body := errorBody{}
	switch {
	case errors.As(err, &ve):
		e = refuse(CodeValidation)
		ans = refusals[CodeValidation]
		for _, p := range ve.Problems {
			body.Errors = append(body.Errors, r.problem(p))
		}
	case errors.As(err, &e):
		var known bool
		if ans, known = refusals[e.Code]; !known {
			e, ans = refuse(CodeInternal), refusals[CodeInternal]
		}
	default:
		e, ans = refuse(CodeInternal), refusals[CodeInternal]
	}
	body.Error = e.Code
	body.Message = i18n.Text(r.lang, ans.key, e.Limit)
	listed := body.Errors
	if len(body.Errors) == 0 {
		body.Errors = []problemJSON{{Code: ans.formspree, KontaktCode: e.Code, Message: body.Message}}
	}
	var resp events.APIGatewayV2HTTPResponse
	if r.answerJSON {
		resp = r.jsonResponse(ans.status, body)
	} else {
		title := e.Title
		if title == "" {
			title = i18n.ErrorTitle
		}
		resp = r.page(ans.status, title, body.Message, listed)
	}
	if e.RetryAfter > 0 {
		resp.Headers["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	if e.Allow != "" {
		resp.Headers["Allow"] = e.Allow
	}
	return resp
}

// problem is one validation problem as the clients read it.
func (r *request) problem(p submission.Problem) problemJSON {
	out := problemJSON{Field: p.Field, KontaktCode: p.Code, Message: i18n.Text(r.lang, i18n.Key(p.Code), p.Limit), Code: formspreeFieldCodes[p.Code]}
	if p.Field == submission.FormProblem {
		out.Field = ""
	}
	if requiredCodes[p.Code] {
		out.Code = "REQUIRED_FIELD_MISSING"
		if r.sent(p.Field) {
			out.Code = "REQUIRED_FIELD_EMPTY"
		}
	}
	return out
}

// sent reports whether the post had a field of that name (after aliases).
func (r *request) sent(name string) bool {
	for _, f := range r.fields {
		if f.Name == name {
			return true
		}
	}
	return false
}
