package httpapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// Responder answers a request of a route outside the form endpoint (the
// self-service privacy pages, in privacypages) as the form endpoint does:
// the same headers, the same page, and every refusal through fail, the one
// mapping from errors to answers.
type Responder struct{ r *request }

// NewResponder reads what the answer depends on from ev: the language
// (fallback when Accept-Language names none kontakt has) and whether the
// client asked for JSON.
func NewResponder(ev *events.APIGatewayV2HTTPRequest, fallback string) *Responder {
	r := &request{ev: ev, method: ev.RequestContext.HTTP.Method}
	r.lang = i18n.Pick(r.header("accept-language"), fallback)
	r.answerJSON = wantsJSON(r.header("accept"), r.header("content-type"), r.header("x-requested-with"))
	return &Responder{r: r}
}

// Lang is the language of the answer.
func (a *Responder) Lang() string { return a.r.lang }

// WantsJSON reports whether the client asked for JSON rather than a page.
func (a *Responder) WantsJSON() bool { return a.r.answerJSON }

// EndPages makes every HTML page end with a link back to backHref, named
// backLabel, and footer (HTML, already escaped).
func (a *Responder) EndPages(backHref string, backLabel i18n.Key, footer string) {
	a.r.pages = pageStyle{backHref: backHref, backLabel: backLabel, footer: footer}
}

// Form reads a form post of at most limit bytes and maxFields fields, text
// only; a refusal is an *Error for Fail.
func (a *Responder) Form(limit, maxFields int) (map[string]string, error) {
	body, err := readBody(a.r.ev, limit)
	if err != nil {
		return nil, err
	}
	fs, _, err := parseBody(a.r.header("content-type"), body, maxFields, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(fs))
	for _, f := range fs {
		out[f.Name] = f.Value
	}
	return out, nil
}

// Fail answers err as the form endpoint would (see fail).
func (a *Responder) Fail(err error) events.APIGatewayV2HTTPResponse { return a.r.fail(err) }

// Unavailable answers the 503 for a failure of ours, with Retry-After.
func (a *Responder) Unavailable() events.APIGatewayV2HTTPResponse { return a.r.fail(unavailable()) }

// Invalid answers the 422 for one field the visitor sent and can fix.
func (a *Responder) Invalid(field, value, code string) events.APIGatewayV2HTTPResponse {
	a.r.fields = []submission.Field{{Name: field, Value: value}}
	return a.r.fail(&submission.ValidationError{Problems: []submission.Problem{{Field: field, Code: code}}})
}

// JSON answers v as the JSON body.
func (a *Responder) JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	return a.r.jsonResponse(status, v)
}

// Page answers body (already escaped HTML) as kontakt's page, headed by
// title and ended by the footer of EndPages; its forms may post only to
// formAction (a CSP source, "'none'" for a page without one).
func (a *Responder) Page(status int, title i18n.Key, body, formAction string) events.APIGatewayV2HTTPResponse {
	h := a.r.headers("text/html; charset=utf-8")
	h["Content-Security-Policy"] = pageCSP(formAction)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h,
		Body: htmlPage(a.r.lang, i18n.Text(a.r.lang, title, 0), body+a.r.pages.footer)}
}
