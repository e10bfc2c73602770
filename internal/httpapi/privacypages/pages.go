// Package privacypages serves the self-service privacy pages: a person asks
// for a copy of what is held about them, or for its erasure, and confirms
// through a signed link. Its answers, refusals included, come from httpapi
// (Responder), so that the pages and the form endpoint answer alike from
// one mapping, while the submit function links none of this.
package privacypages

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
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// SelfService is what the privacy pages need from the domain.
type SelfService interface {
	// AskFor sends a confirmation link for purpose (erasure.PurposeErasure
	// or erasure.PurposeAccess), within the page's limits.
	AskFor(ctx context.Context, purpose, address, sourceIP, lang, confirmURL string) error
	// Check returns the purpose of the request the token confirms.
	Check(ctx context.Context, token string) (string, error)
	Confirm(ctx context.Context, token string) (erasure.Confirmation, error)
}

// Handler serves the self-service privacy pages, under /privacy and,
// as before, /erasure:
//
//	GET  /privacy           two forms: "send me a copy of what you hold about
//	                        me" and "delete everything about me"
//	POST /privacy           sends the confirmation link for the form's
//	                        action; always the same answer
//	GET  /privacy/confirm   checks the token and shows a confirm button
//	POST /privacy/confirm   uses the token: queues the erasure, or emails
//	                        the copy to the verified address
//
// A POST to /erasure without an action asks for erasure, as it always did.
// Confirming takes a button press, not just opening the link: mail
// scanners open links, and must not erase anyone's data.
type Handler struct {
	Config  *config.Privacy
	Service SelfService
	Log     *slog.Logger
}

const (
	bodyLimit = 4 << 10
	maxFields = 5
)

// visit is one request to the pages, with its answer in the making.
type visit struct {
	*httpapi.Responder
	ev      *events.APIGatewayV2HTTPRequest
	method  string
	outcome string
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := &visit{Responder: httpapi.NewResponder(&ev, h.Config.Language), ev: &ev, method: ev.RequestContext.HTTP.Method}
	confirm := strings.HasSuffix(strings.TrimRight(ev.RawPath, "/"), "/confirm")
	base := pageBase(ev.RawPath)
	// Every error page leads back to the page's form (a relative link, so
	// that it holds under a stage path too) and names the privacy contact.
	backHref, backLabel := base, i18n.ErasureTitle
	if base == basePrivacy {
		backLabel = i18n.PrivacyTitle
	}
	if confirm {
		backHref = "../" + base
	}
	r.EndPages(backHref, backLabel, h.footer(r.Lang()))
	var resp events.APIGatewayV2HTTPResponse
	switch {
	case r.method == "GET" && !confirm:
		r.outcome = "form"
		title := i18n.ErasureTitle
		if base == basePrivacy {
			title = i18n.PrivacyTitle
		}
		resp = r.Page(200, title, h.askForms(r.Lang(), base), "'self'")
	case r.method == "POST" && !confirm:
		resp = h.ask(ctx, r)
	case r.method == "GET" && confirm:
		resp = h.check(ctx, r, ev.QueryStringParameters["token"])
	case r.method == "POST" && confirm:
		resp = h.confirm(ctx, r)
	default:
		r.outcome = "method"
		resp = r.Fail(&httpapi.Error{Code: httpapi.CodeMethodNotAllowed, Allow: "GET, POST"})
	}
	h.Log.InfoContext(ctx, "request", slog.String("method", r.method), slog.String("page", base), slog.Bool("confirm", confirm),
		slog.Int("status", resp.StatusCode), slog.String("outcome", r.outcome))
	return resp, nil
}

func (h *Handler) ask(ctx context.Context, r *visit) events.APIGatewayV2HTTPResponse {
	fs, err := r.Form(bodyLimit, maxFields)
	if err != nil {
		r.outcome = "body"
		return r.Fail(err)
	}
	purpose := erasure.PurposeErasure
	switch fs["action"] {
	case "", erasure.PurposeErasure:
	case erasure.PurposeAccess:
		purpose = erasure.PurposeAccess
	default:
		r.outcome = "body"
		return r.Fail(&httpapi.Error{Code: httpapi.CodeMalformedBody})
	}
	address, code := submission.ParseReplyTo(strings.TrimSpace(fs["email"]))
	if code != "" {
		r.outcome = "invalid"
		return r.Invalid("email", fs["email"], code)
	}
	link := ConfirmURL(h.Config.PublicURL, r.ev)
	if purpose == erasure.PurposeAccess {
		link = strings.TrimSuffix(link, "/erasure/confirm") + "/privacy/confirm"
	}
	if err := h.Service.AskFor(ctx, purpose, address, r.ev.RequestContext.HTTP.SourceIP, r.Lang(), link); err != nil {
		r.outcome = "unavailable"
		h.Log.ErrorContext(ctx, "erasure ask failed", slog.String("error_class", submission.ErrorClass(err)))
		return r.Unavailable()
	}
	// The same answer whether or not anything is stored for the address.
	r.outcome = "asked"
	hours := int(h.Config.TokenLifetime.Hours())
	msg := i18n.Text(r.Lang(), i18n.ErasureAskedBody, hours)
	if purpose == erasure.PurposeAccess {
		msg = i18n.Text(r.Lang(), i18n.AccessAskedBody, hours)
	}
	if r.WantsJSON() {
		return r.JSON(202, map[string]any{"ok": true, "success": true, "status": "link_sent_if_valid", "message": msg})
	}
	return r.Page(202, i18n.ErasureAsked, "<p>"+html.EscapeString(msg)+"</p>", "'none'")
}

func (h *Handler) check(ctx context.Context, r *visit, token string) events.APIGatewayV2HTTPResponse {
	purpose, err := h.Service.Check(ctx, token)
	if err != nil {
		return h.tokenFailure(ctx, r, err)
	}
	r.outcome = "confirm_page"
	title, text, button := i18n.ErasureConfirm, i18n.ErasureConfirmBody, i18n.ErasureConfirmBtn
	if purpose == erasure.PurposeAccess {
		title, text, button = i18n.AccessConfirm, i18n.AccessConfirmBody, i18n.AccessConfirmBtn
	}
	body := `<p>` + html.EscapeString(i18n.Text(r.Lang(), text, 0)) + `</p>` +
		`<form method="post" action="confirm"><input type="hidden" name="token" value="` + html.EscapeString(token) + `">` +
		`<button type="submit">` + html.EscapeString(i18n.Text(r.Lang(), button, 0)) + `</button></form>`
	if r.WantsJSON() {
		return r.JSON(200, map[string]any{"ok": true, "success": true, "status": "valid", "purpose": purpose})
	}
	return r.Page(200, title, body, "'self'")
}

func (h *Handler) confirm(ctx context.Context, r *visit) events.APIGatewayV2HTTPResponse {
	fs, err := r.Form(bodyLimit, maxFields)
	if err != nil {
		r.outcome = "body"
		return r.Fail(err)
	}
	c, err := h.Service.Confirm(ctx, fs["token"])
	if err != nil {
		return h.tokenFailure(ctx, r, err)
	}
	if c.Purpose == erasure.PurposeAccess {
		// The same answer whether or not anything was stored: the email
		// says what there is, to the verified address only.
		r.outcome = "access_sent"
		msg := i18n.Textf(r.Lang(), i18n.AccessSentBody, c.RequestID)
		if r.WantsJSON() {
			return r.JSON(200, map[string]any{"ok": true, "success": true, "status": "sent", "request_id": c.RequestID, "message": msg})
		}
		return r.Page(200, i18n.AccessSent, "<p>"+html.EscapeString(msg)+"</p>", "'none'")
	}
	r.outcome = "queued"
	msg := i18n.Textf(r.Lang(), i18n.ErasureQueuedBody, c.RequestID)
	if r.WantsJSON() {
		return r.JSON(202, map[string]any{"ok": true, "success": true, "status": "queued", "request_id": c.RequestID, "message": msg})
	}
	return r.Page(202, i18n.ErasureQueued, "<p>"+html.EscapeString(msg)+"</p>", "'none'")
}

// tokenFailure maps token errors to a clear page each: a link that was
// changed (400), one that expired or was used (410), or our failure (503).
func (h *Handler) tokenFailure(ctx context.Context, r *visit, err error) events.APIGatewayV2HTTPResponse {
	code := ""
	switch {
	case errors.Is(err, erasure.ErrTokenInvalid):
		code = httpapi.CodeTokenInvalid
	case errors.Is(err, erasure.ErrTokenExpired):
		code = httpapi.CodeTokenExpired
	case errors.Is(err, erasure.ErrTokenUsed):
		code = httpapi.CodeTokenUsed
	default:
		r.outcome = "unavailable"
		h.Log.ErrorContext(ctx, "erasure confirm failed", slog.String("error_class", submission.ErrorClass(err)))
		return r.Unavailable()
	}
	r.outcome = code
	return r.Fail(&httpapi.Error{Code: code, Title: i18n.ErasureRefused})
}

// The two page bases: /privacy, and /erasure as before.
const (
	basePrivacy = "privacy"
	baseErasure = "erasure"
)

func pageBase(path string) string {
	if strings.HasPrefix(strings.TrimPrefix(path, "/"), basePrivacy) {
		return basePrivacy
	}
	return baseErasure
}

// askForms are the two requests a person can make, each its own form
// posting to the page it is on. The erasure form keeps the field id
// "email" it always had.
func (h *Handler) askForms(lang, base string) string {
	form := func(action, id string, heading, intro, send i18n.Key) string {
		return `<h2>` + html.EscapeString(i18n.Text(lang, heading, 0)) + `</h2><p>` + html.EscapeString(i18n.Text(lang, intro, 0)) + `</p>` +
			`<form method="post" action="` + base + `"><input type="hidden" name="action" value="` + action + `">` +
			`<label for="` + id + `">` + html.EscapeString(i18n.Text(lang, i18n.ErasureEmailLabel, 0)) +
			`</label><input id="` + id + `" name="email" type="email" autocomplete="email" required>` +
			`<button type="submit">` + html.EscapeString(i18n.Text(lang, send, 0)) + `</button></form>`
	}
	access := form(erasure.PurposeAccess, "access-email", i18n.AccessTitle, i18n.AccessIntro, i18n.AccessSend)
	erase := form(erasure.PurposeErasure, "email", i18n.ErasureTitle, i18n.ErasureIntro, i18n.ErasureSend)
	if base == baseErasure {
		return erase + access
	}
	return access + erase
}

// footer names the privacy contact and the right to complain, on every page.
func (h *Handler) footer(lang string) string {
	var b strings.Builder
	b.WriteString(`<div class="note">`)
	if u := h.Config.PolicyURL; u != "" {
		// Checked at start-up to be an http(s) URL without quotes.
		b.WriteString(`<p><a href="` + html.EscapeString(u) + `">` + html.EscapeString(i18n.Text(lang, i18n.PolicyLink, 0)) + `</a>`)
		if v := h.Config.PolicyVersion; v != "" {
			b.WriteString(` (` + html.EscapeString(i18n.Textf(lang, i18n.PolicyVersion, v)) + `)`)
		}
		b.WriteString(`</p>`)
	}
	b.WriteString(`<p>`)
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

// ConfirmURL is the link target for the confirmation email: the configured
// public URL, or the API's own domain as API Gateway reports it.
func ConfirmURL(publicURL string, ev *events.APIGatewayV2HTTPRequest) string {
	if publicURL != "" {
		return publicURL + "/erasure/confirm"
	}
	u := url.URL{Scheme: "https", Host: ev.RequestContext.DomainName, Path: "/erasure/confirm"}
	return u.String()
}
