package httpapi

import (
	"errors"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// tokenSuffix ends the form-age token route, GET /f/{form}/token.
const tokenSuffix = "/token"

type tokenBody struct {
	OK      bool   `json:"ok"`
	Success bool   `json:"success"`
	Token   string `json:"token"`
	// Field is where the page puts the token.
	Field     string `json:"field"`
	ExpiresIn int    `json:"expires_in"`
}

// token answers GET /f/{form}/token with a fresh form-age token, for forms
// that use them. It is JSON whatever the client asks for.
func (h *Handler) token(r *request) events.APIGatewayV2HTTPResponse {
	r.answerJSON = true
	if r.method != "GET" {
		return r.methodNotAllowed("GET")
	}
	if resp, refused := r.refuseOrigin(); refused {
		return resp
	}
	t := r.form.Abuse.FormToken
	token, ok := h.guard().IssueToken(r.form.ID, h.Now())
	if t == nil || !ok {
		r.outcome = "token_off"
		return r.fail(refuse(CodeFormTokenOff))
	}
	r.outcome = "token"
	return r.jsonResponse(200, tokenBody{
		OK: true, Success: true, Token: token,
		Field: abuse.TokenField, ExpiresIn: t.MaxAgeSeconds,
	})
}

// methodNotAllowed is the 405 for a route that takes the methods in allow.
func (r *request) methodNotAllowed(allow string) events.APIGatewayV2HTTPResponse {
	r.outcome = "method"
	return r.fail(&Error{Code: CodeMethodNotAllowed, Allow: allow})
}

// refuseOrigin answers a 403 when checkOrigin refuses the request.
func (r *request) refuseOrigin() (events.APIGatewayV2HTTPResponse, bool) {
	if err := r.checkOrigin(); err != nil {
		r.outcome = "origin"
		return r.fail(err), true
	}
	return events.APIGatewayV2HTTPResponse{}, false
}

// checkOrigin checks Origin, or Referer when a browser sent no Origin.
// Requests with neither (some browsers' plain HTML posts, curl) are let
// through unless the form requires one; the CORS headers still go only to
// allowed origins. The code says which header was refused, so a web
// developer sees at once what to fix.
func (r *request) checkOrigin() error {
	origin, via := r.origin, CodeOriginNotAllowed
	if origin == "" {
		ref := r.header("referer")
		if ref == "" {
			if r.form.Abuse.RequireOrigin {
				return refuse(CodeOriginRequired)
			}
			return nil
		}
		via = CodeRefererNotAllowed
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return refuse(via)
		}
		origin = u.Scheme + "://" + u.Host
	}
	if r.form.OriginAllowed(origin) {
		return nil
	}
	return refuse(via)
}

// refused maps a refusal from the abuse rules: 422 for what the visitor can
// fix (a captcha), 429 for a rate limit and 503 when a check could not be
// made (the captcha provider did not answer): fail closed, nothing is sent,
// and the visitor is told to try again.
func (r *request) refused(err error) events.APIGatewayV2HTTPResponse {
	var ref *abuse.Refusal
	if !errors.As(err, &ref) {
		r.outcome = "internal"
		return r.fail(err)
	}
	r.outcome = string(ref.Rule)
	retryAfter := max(1, int(ref.RetryAfter.Seconds()))
	switch ref.Kind {
	case abuse.Invalid:
		return r.fail(&submission.ValidationError{Problems: []submission.Problem{ref.Problem}})
	case abuse.Limited:
		return r.fail(&Error{Code: CodeRateLimited, RetryAfter: retryAfter})
	default:
		return r.fail(&Error{Code: CodeCheckUnavailable, RetryAfter: retryAfter})
	}
}

// spamNext is where a success would have sent the post, so that a bot
// caught as spam is redirected exactly like a person.
func spamNext(form *config.Form, fields []submission.Field) string {
	next := ""
	for _, f := range fields {
		if f.Name == "_next" {
			next = strings.TrimSpace(f.Value)
		}
	}
	if next != "" && submission.RedirectAllowed(form, next) {
		return next
	}
	return ""
}

// withProblems adds the content rules' problems to validation's, so that a
// visitor fixes everything in one round trip.
func withProblems(err error, problems []submission.Problem) error {
	if len(problems) == 0 {
		return err
	}
	var ve *submission.ValidationError
	if errors.As(err, &ve) {
		return &submission.ValidationError{Problems: append(append([]submission.Problem{}, ve.Problems...), problems...)}
	}
	if err != nil {
		return err
	}
	return &submission.ValidationError{Problems: problems}
}
