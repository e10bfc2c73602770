package httpapi

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// SelfService is what the erasure pages need from the domain.
type SelfService interface {
	Ask(ctx context.Context, address, sourceIP, lang, confirmURL string) error
	Check(ctx context.Context, token string) error
	Confirm(ctx context.Context, token string) (string, error)
}

// ErasureHandler serves the self-service erasure pages:
//
//	GET  /erasure           the form asking for an address
//	POST /erasure           sends the confirmation link; always the same answer
//	GET  /erasure/confirm   checks the token and shows a confirm button
//	POST /erasure/confirm   uses the token and queues the erasure
//
// Confirming takes a button press, not just opening the link: mail
// scanners open links, and must not erase anyone's data.
type ErasureHandler struct {
	Config  *config.Privacy
	Service SelfService
	Log     *slog.Logger
}

const erasureBodyLimit = 4 << 10

// Handle is the Lambda handler.
func (h *ErasureHandler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := &request{ev: &ev, method: ev.RequestContext.HTTP.Method}
	r.lang = i18n.Pick(r.header("accept-language"), h.Config.Language)
	r.answerJSON = wantsJSON(r.header("accept"), r.header("content-type"), r.header("x-requested-with"))
	confirm := strings.HasSuffix(strings.TrimRight(ev.RawPath, "/"), "/confirm")
	// Every error page leads back to the form asking for an address (a
	// relative link, so that it holds under a stage path too) and names the
	// privacy contact.
	r.pages = pageStyle{backHref: "erasure", backLabel: i18n.ErasureTitle, footer: h.footer(r.lang)}
	if confirm {
		r.pages.backHref = "../erasure"
	}
	var resp events.APIGatewayV2HTTPResponse
	switch {
	case r.method == "GET" && !confirm:
		r.outcome = "form"
		resp = h.page(r, 200, i18n.ErasureTitle, h.askForm(r.lang), "'self'")
	case r.method == "POST" && !confirm:
		resp = h.ask(ctx, r)
	case r.method == "GET" && confirm:
		resp = h.check(ctx, r, ev.QueryStringParameters["token"])
	case r.method == "POST" && confirm:
		resp = h.confirm(ctx, r)
	default:
		r.outcome = "method"
		resp = r.fail(&Error{Code: CodeMethodNotAllowed, Allow: "GET, POST"})
	}
	h.Log.InfoContext(ctx, "request", slog.String("method", r.method), slog.Bool("confirm", confirm),
		slog.Int("status", resp.StatusCode), slog.String("outcome", r.outcome))
	return resp, nil
}

func (h *ErasureHandler) fields(r *request) (map[string]string, error) {
	body, err := readBody(r.ev, erasureBodyLimit)
	if err != nil {
		return nil, err
	}
	fs, err := parseBody(r.header("content-type"), body, 5)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(fs))
	for _, f := range fs {
		out[f.Name] = f.Value
	}
	return out, nil
}

func (h *ErasureHandler) ask(ctx context.Context, r *request) events.APIGatewayV2HTTPResponse {
	fs, err := h.fields(r)
	if err != nil {
		r.outcome = "body"
		return r.fail(err)
	}
	address, code := submission.ParseReplyTo(strings.TrimSpace(fs["email"]))
	if code != "" {
		r.outcome = "invalid"
		r.fields = []submission.Field{{Name: "email", Value: fs["email"]}}
		return r.fail(&submission.ValidationError{Problems: []submission.Problem{{Field: "email", Code: code}}})
	}
	if err := h.Service.Ask(ctx, address, r.ev.RequestContext.HTTP.SourceIP, r.lang, ConfirmURL(h.Config.PublicURL, r.ev)); err != nil {
		r.outcome = "unavailable"
		h.Log.ErrorContext(ctx, "erasure ask failed", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	// The same answer whether or not anything is stored for the address.
	r.outcome = "asked"
	hours := int(h.Config.TokenLifetime.Hours())
	msg := i18n.Text(r.lang, i18n.ErasureAskedBody, hours)
	if r.answerJSON {
		return r.jsonResponse(202, map[string]any{"ok": true, "success": true, "status": "link_sent_if_valid", "message": msg})
	}
	return h.page(r, 202, i18n.ErasureAsked, "<p>"+html.EscapeString(msg)+"</p>", "'none'")
}

func (h *ErasureHandler) check(ctx context.Context, r *request, token string) events.APIGatewayV2HTTPResponse {
	if err := h.Service.Check(ctx, token); err != nil {
		return h.tokenFailure(ctx, r, err)
	}
	r.outcome = "confirm_page"
	body := `<p>` + html.EscapeString(i18n.Text(r.lang, i18n.ErasureConfirmBody, 0)) + `</p>` +
		`<form method="post" action="confirm"><input type="hidden" name="token" value="` + html.EscapeString(token) + `">` +
		`<button type="submit">` + html.EscapeString(i18n.Text(r.lang, i18n.ErasureConfirmBtn, 0)) + `</button></form>`
	if r.answerJSON {
		return r.jsonResponse(200, map[string]any{"ok": true, "success": true, "status": "valid"})
	}
	return h.page(r, 200, i18n.ErasureConfirm, body, "'self'")
}

func (h *ErasureHandler) confirm(ctx context.Context, r *request) events.APIGatewayV2HTTPResponse {
	fs, err := h.fields(r)
	if err != nil {
		r.outcome = "body"
		return r.fail(err)
	}
	id, err := h.Service.Confirm(ctx, fs["token"])
	if err != nil {
		return h.tokenFailure(ctx, r, err)
	}
	r.outcome = "queued"
	msg := i18n.Textf(r.lang, i18n.ErasureQueuedBody, id)
	if r.answerJSON {
		return r.jsonResponse(202, map[string]any{"ok": true, "success": true, "status": "queued", "request_id": id, "message": msg})
	}
	return h.page(r, 202, i18n.ErasureQueued, "<p>"+html.EscapeString(msg)+"</p>", "'none'")
}

// tokenFailure maps token errors to a clear page each: a link that was
// changed (400), one that expired or was used (410), or our failure (503).
func (h *ErasureHandler) tokenFailure(ctx context.Context, r *request, err error) events.APIGatewayV2HTTPResponse {
	code := ""
	switch {
	case errors.Is(err, erasure.ErrTokenInvalid):
		code = CodeTokenInvalid
	case errors.Is(err, erasure.ErrTokenExpired):
		code = CodeTokenExpired
	case errors.Is(err, erasure.ErrTokenUsed):
		code = CodeTokenUsed
	default:
		r.outcome = "unavailable"
		h.Log.ErrorContext(ctx, "erasure confirm failed", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	r.outcome = code
	return r.fail(&Error{Code: code, Title: i18n.ErasureRefused})
}

func (h *ErasureHandler) askForm(lang string) string {
	return `<p>` + html.EscapeString(i18n.Text(lang, i18n.ErasureIntro, 0)) + `</p>` +
		`<form method="post" action="erasure"><label for="email">` + html.EscapeString(i18n.Text(lang, i18n.ErasureEmailLabel, 0)) +
		`</label><input id="email" name="email" type="email" autocomplete="email" required>` +
		`<button type="submit">` + html.EscapeString(i18n.Text(lang, i18n.ErasureSend, 0)) + `</button></form>`
}

// footer names the privacy contact and the right to complain, on every page.
func (h *ErasureHandler) footer(lang string) string {
	var b strings.Builder
	b.WriteString(`<div class="note"><p>`)
	b.WriteString(html.EscapeString(i18n.Textf(lang, i18n.PrivacyContact, h.Config.PrivacyContact)))
	b.WriteString(` `)
	b.WriteString(html.EscapeString(i18n.Text(lang, i18n.Complaint, 0)))
	b.WriteString(`</p>`)
	if h.Config.Note != "" {
		b.WriteString(`<p>`)
		b.WriteString(html.EscapeString(h.Config.Note))
		b.WriteString(`</p>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}

func (h *ErasureHandler) page(r *request, status int, title i18n.Key, body, formAction string) events.APIGatewayV2HTTPResponse {
	hd := r.headers("text/html; charset=utf-8")
	hd["Content-Security-Policy"] = pageCSP(formAction)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: hd,
		Body: htmlPage(r.lang, i18n.Text(r.lang, title, 0), body+h.footer(r.lang))}
}

// ConfirmURL is the link target for the confirmation email: the configured
// public URL, or the API's own domain as API Gateway reports it.
func ConfirmURL(publicURL string, ev *events.APIGatewayV2HTTPRequest) string {
	if publicURL != "" {
		return publicURL + "/erasure/confirm"
	}
	u := url.URL{Scheme: "https", Host: ev.RequestContext.DomainName, Path: "/erasure/confirm"}
	return u.String()
}
