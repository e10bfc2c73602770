package httpapi

import (
	"encoding/json"
	"html"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// Headers a fetch client may send on a cross-origin POST: kontakt's own,
// and those Formspree's clients (@formspree/core 4, under @formspree/ajax
// and @formspree/react) send on every post, without which a browser never
// sends the post at all.
var allowedRequestHeaders = []string{"accept", "accept-language", "content-type", "idempotency-key", "x-requested-with", "formspree-client", "formspree-session-data"}

func (r *request) headers(contentType string) map[string]string {
	h := map[string]string{
		"Content-Type":           contentType,
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Vary":                   "Origin, Accept, Accept-Language, Content-Type, X-Requested-With",
		"Content-Language":       r.lang,
	}
	// CORS headers go only to an origin the form allows, never "*".
	if r.form != nil && r.origin != "" && r.form.OriginAllowed(r.origin) {
		h["Access-Control-Allow-Origin"] = r.origin
	}
	return h
}

// preflight answers a CORS preflight from the form's allowed origins only.
func (r *request) preflight() events.APIGatewayV2HTTPResponse {
	if r.origin == "" || !r.form.OriginAllowed(r.origin) {
		r.outcome = "preflight_refused"
		return r.fail(refuse(CodeOriginNotAllowed))
	}
	r.outcome = "preflight"
	h := r.headers("text/plain; charset=utf-8")
	h["Access-Control-Allow-Methods"] = "POST, OPTIONS"
	h["Access-Control-Allow-Headers"] = strings.Join(allowedRequestHeaders, ", ")
	h["Access-Control-Max-Age"] = "600"
	return events.APIGatewayV2HTTPResponse{StatusCode: 204, Headers: h}
}

type successBody struct {
	OK bool `json:"ok"`
	// Success is for clients written against Web3Forms-style answers.
	Success bool   `json:"success"`
	ID      string `json:"id"`
	Status  string `json:"status"`
	// Message is the localised text a page can show as is.
	Message string `json:"message"`
	// Next is always a URL: @formspree/core takes an answer for a success
	// only when it has a string next.
	Next string `json:"next"`
	// Redirect says that Next is where the post (_next) or the form
	// (redirect_url) asked to go afterwards, as a plain post would; when
	// false, Next is only the page the visitor came from.
	Redirect bool `json:"redirect"`
}

// success answers an accepted post (or one caught as spam, which must look
// the same). next is the post's own _next, already checked.
func (r *request) success(outcome submission.Outcome, id, next string) events.APIGatewayV2HTTPResponse {
	status, state, msgKey := 200, "sent", i18n.ThanksBody
	if outcome == submission.Stored {
		status, state, msgKey = 202, "queued", i18n.QueuedBody
	}
	if next == "" {
		next = r.form.RedirectURL
	}
	if r.answerJSON {
		body := successBody{OK: true, Success: true, ID: id, Status: state, Message: i18n.Text(r.lang, msgKey, 0), Next: next, Redirect: next != ""}
		if next == "" {
			body.Next = r.comeFrom()
		}
		return r.jsonResponse(status, body)
	}
	if next != "" {
		h := r.headers("text/plain; charset=utf-8")
		h["Location"] = next
		return events.APIGatewayV2HTTPResponse{StatusCode: 303, Headers: h}
	}
	return r.page(status, i18n.ThanksTitle, i18n.Text(r.lang, msgKey, 0), nil)
}

// comeFrom is the page the post came from, or at least its site: the
// Referer or the Origin when the form allows them, else the form's first
// allowed origin. Never a page on another site.
func (r *request) comeFrom() string {
	if back := r.backLink(); back != "" {
		return back
	}
	if r.origin != "" && r.form.OriginAllowed(r.origin) {
		return strings.TrimRight(r.origin, "/") + "/"
	}
	if len(r.form.AllowedOrigins) > 0 {
		return r.form.AllowedOrigins[0] + "/"
	}
	return ""
}

func (r *request) jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"ok":false,"success":false,"error":"internal","message":"","errors":[{"kontakt_code":"internal","message":""}]}`)
		status = 500
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: r.headers("application/json; charset=utf-8"), Body: string(b)}
}

// page renders the small built-in HTML page for plain form posts: a
// thank-you or the reasons a post was refused, with a way back.
func (r *request) page(status int, title i18n.Key, message string, problems []problemJSON) events.APIGatewayV2HTTPResponse {
	var b strings.Builder
	b.WriteString(`<p>`)
	b.WriteString(html.EscapeString(message))
	b.WriteString(`</p>`)
	if len(problems) > 0 {
		b.WriteString(`<ul>`)
		for _, p := range problems {
			b.WriteString(`<li>`)
			if p.Field != "" && p.Field != submission.FormProblem {
				b.WriteString(`<strong>`)
				b.WriteString(html.EscapeString(p.Field))
				b.WriteString(`</strong>: `)
			}
			b.WriteString(html.EscapeString(p.Message))
			b.WriteString(`</li>`)
		}
		b.WriteString(`</ul>`)
	}
	back, label := r.backLink(), i18n.Back
	if r.pages.backHref != "" {
		back, label = r.pages.backHref, r.pages.backLabel
	}
	if back != "" {
		b.WriteString(`<p><a href="`)
		b.WriteString(html.EscapeString(back))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(i18n.Text(r.lang, label, 0)))
		b.WriteString(`</a></p>`)
	}
	if r.form != nil && r.form.PrivacyPolicyURL != "" {
		// Checked at start-up to be an http(s) URL without quotes.
		b.WriteString(`<p class="note"><a href="`)
		b.WriteString(html.EscapeString(r.form.PrivacyPolicyURL))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(i18n.Text(r.lang, i18n.PolicyLink, 0)))
		b.WriteString(`</a>`)
		if v := r.form.PolicyVersion; v != "" {
			b.WriteString(` (` + html.EscapeString(i18n.Textf(r.lang, i18n.PolicyVersion, v)) + `)`)
		}
		b.WriteString(`</p>`)
	}
	b.WriteString(r.pages.footer)
	h := r.headers("text/html; charset=utf-8")
	h["Content-Security-Policy"] = pageCSP("'none'")
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: htmlPage(r.lang, i18n.Text(r.lang, title, 0), b.String())}
}

// pageCSP allows nothing but inline styles and, where a page has a form,
// posting it back to formAction.
func pageCSP(formAction string) string {
	return "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
}

// htmlPage wraps body (already escaped HTML) in kontakt's small page.
func htmlPage(lang, title, body string) string {
	t := html.EscapeString(title)
	return `<!doctype html><html lang="` + lang + `"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>` +
		t + `</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}h1{font-size:1.5rem}li{margin:.25rem 0}label{display:block;font-weight:600;margin:1rem 0 .25rem}input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}button{font:inherit;padding:.5rem 1rem;margin-top:1rem}.note{color:#444;font-size:.9rem;border-top:1px solid #ddd;margin-top:2rem;padding-top:1rem}</style></head><body><main><h1>` +
		t + `</h1>` + body + `</main></body></html>`
}

// backLink is the page the form was posted from, when that page is on one
// of the form's own origins (never a link to somewhere a visitor did not
// come from).
func (r *request) backLink() string {
	if r.form == nil {
		return ""
	}
	ref := r.header("referer")
	if ref == "" {
		return ""
	}
	if submission.RedirectAllowed(r.form, ref) {
		return ref
	}
	return ""
}
