// Package httpapi is kontakt's HTTP contract: it turns an API Gateway HTTP
// API (payload 2.0) request into a submission and the outcome into the
// status code, headers and body a browser or a fetch client expects. Every
// status code is chosen here and nowhere else.
package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// Acceptor is the domain service the handler hands valid submissions to.
type Acceptor interface {
	// Accept sends and stores s once admit lets it through; an admit error
	// comes back unchanged.
	Accept(ctx context.Context, form *config.Form, s *submission.Submission, admit submission.Gate) (submission.Outcome, error)
	// Repeat answers s like its first try when s repeats one whose direct
	// uploads it names (ok), sending and storing nothing.
	Repeat(ctx context.Context, form *config.Form, s *submission.Submission) (o submission.Outcome, ok bool, err error)
}

// Handler serves POST and OPTIONS on /f/{form}, GET /f/{form}/token, and
// the embeddable script on GET /f/{form}/kontakt.js.
type Handler struct {
	Config  *config.Config
	Service Acceptor
	// Guard applies the forms' abuse rules (nil: only those that need no
	// keys or network).
	Guard Guard
	Log   *slog.Logger
	Now   func() time.Time
	NewID func() string
	// Files serves the download links of staff emails (nil: no form takes files).
	Files FileLinks
	// ScanFiles: a file is handed out only once the malware scan found
	// nothing in it (config.Config.MalwareScan).
	ScanFiles bool
	// Uploads hands out and claims direct uploads (nil: no form takes files).
	Uploads Uploads
}

// Guard is the abuse rules as the form endpoint uses them; *abuse.Guard
// implements it, and a nil *abuse.Guard applies the rules that need no keys
// or network.
type Guard interface {
	// Screen applies the rules that need no network (honeypots, form-age
	// token, content) and returns the fields that are content.
	Screen(form *config.Form, fields []submission.Field) *abuse.Screened
	// Admit applies the rules that cost a call (rate limits, captcha); nil
	// or an *abuse.Refusal, or submission.ErrHold over the form's ceiling.
	Admit(ctx context.Context, form *config.Form, sc *abuse.Screened, sourceIP string) error
	// AdmitUpload counts a request for a direct upload against its
	// address's limit; nil or an *abuse.Refusal.
	AdmitUpload(ctx context.Context, form *config.Form, sourceIP string) error
	// IssueToken signs a form-age token for form; false when tokens are off.
	IssueToken(form string, now time.Time) (string, bool)
	// SourceKey is the keyed hash of a source address, for the duplicate
	// window (submission.Submission.Source); never the address.
	SourceKey(ip string) string
}

var _ Guard = (*abuse.Guard)(nil)

// guard is h.Guard, or the rules that need no keys when there is none.
func (h *Handler) guard() Guard {
	if h.Guard == nil {
		return (*abuse.Guard)(nil)
	}
	return h.Guard
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := newRequest(&req, h.Config)
	resp := h.serve(ctx, r)
	// One line per request, with the id of an accepted submission so that
	// its email and copy can be found.
	method, form, status, outcome := slog.String("method", r.method), slog.String("form", r.formID()),
		slog.Int("status", resp.StatusCode), slog.String("outcome", r.outcome)
	if r.submissionID == "" {
		h.Log.LogAttrs(ctx, slog.LevelInfo, "request", method, form, status, outcome)
	} else {
		h.Log.LogAttrs(ctx, slog.LevelInfo, "request", method, form, status, outcome, slog.String("submission_id", r.submissionID))
	}
	return resp, nil
}

func (h *Handler) serve(ctx context.Context, r *request) events.APIGatewayV2HTTPResponse {
	if r.form == nil {
		r.outcome = "unknown_form"
		return r.fail(refuse(CodeUnknownForm))
	}
	if r.tokenRoute {
		return h.token(r)
	}
	if r.scriptRoute {
		return r.script()
	}
	if r.fileRoute != "" {
		return h.download(ctx, r)
	}
	if r.uploadRoute {
		return h.upload(ctx, r)
	}
	if resp, done := r.admitPost(); done {
		return resp
	}

	body, err := r.body()
	if err != nil {
		r.outcome = "body"
		return r.fail(err)
	}
	fields, files, err := parseBody(r.header("content-type"), body, r.form.MaxFields, r.form.Files)
	if err != nil {
		r.outcome = "body"
		return r.fail(err)
	}
	r.fields = submission.Canonical(r.form, fields)
	screened := h.guard().Screen(r.form, r.fields)
	if screened.Spam != "" {
		// A bot must not learn that it was caught: same answer as a success,
		// nothing sent, nothing stored.
		r.outcome = "spam"
		return r.success(submission.Sent, h.NewID(), spamNext(r.form, screened.Fields))
	}
	content, instructions, err := submission.Check(r.form, screened.Fields)
	if err = withProblems(err, append(screened.Problems, submission.PrepareFiles(r.form, files)...)); err != nil {
		r.outcome = "invalid"
		return r.fail(err)
	}
	key := r.header("idempotency-key")
	if key == "" {
		key = instructions.IdempotencyKey
	}
	if len(key) > submission.MaxIdempotencyKey {
		r.outcome = "body"
		return r.fail(refuse(CodeIdempotencyKey))
	}

	now := h.Now().UTC()
	s := &submission.Submission{
		ID:         h.NewID(),
		FormID:     r.form.ID,
		ReceivedAt: now,
		ExpiresAt:  now.Add(r.form.Retention()),
		Fields:     content,
		ReplyTo:    instructions.ReplyTo,
		Subject:    instructions.Subject,
		Language:   r.lang,
		Consents:   instructions.Consents,
		Files:      files,

		IdempotencyKey: key,
		Source:         h.guard().SourceKey(r.ev.RequestContext.HTTP.SourceIP),
	}

	// Direct uploads are claimed last, once nothing else is wrong, and given
	// back whenever the post is not accepted: all or none, and never twice.
	claimed, problems, err := h.claimUploads(ctx, r, s.ID)
	if err == nil && claimed != nil {
		s.Files = append(s.Files, claimed.Files...)
		problems = append(problems, submission.PrepareFiles(r.form, s.Files)...)
	}
	if err != nil {
		r.outcome = "unavailable"
		h.Log.LogAttrs(ctx, slog.LevelError, "uploads not claimed", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	if claimed == nil && len(problems) > 0 && problems[0].Code == submission.CodeUploadInvalid {
		// Uploads that cannot be claimed may be held by this very post's
		// first try, whose answer was lost: answer like it.
		if resp, ok := h.repeat(ctx, r, s, instructions.Next); ok {
			return resp
		}
	}
	if len(problems) > 0 {
		claimed.Release(ctx)
		r.outcome = "invalid"
		return r.fail(&submission.ValidationError{Problems: problems})
	}

	for i := range s.Consents {
		s.Consents[i].At = now
	}
	// The abuse rules that cost a call run inside Accept, alongside the
	// idempotency check, and before anything is sent.
	if dn := r.ev.RequestContext.DomainName; dn != "" {
		ctx = submission.WithBaseURL(ctx, "https://"+dn)
	}
	outcome, err := h.Service.Accept(ctx, r.form, s, func(ctx context.Context) error {
		return h.guard().Admit(ctx, r.form, screened, r.ev.RequestContext.HTTP.SourceIP)
	})
	if err != nil {
		claimed.Release(ctx)
	} else {
		claimed.Finish(ctx)
	}
	var refusal *abuse.Refusal
	if errors.As(err, &refusal) {
		return r.refused(refusal)
	}
	if err != nil {
		return r.notAccepted(ctx, h.Log, err)
	}
	return r.accepted(outcome, s.ID, instructions.Next)
}

// repeat answers a post whose uploads its own first try holds (see
// submission.Service.Repeat) like that first try; ok is false when the
// post is not such a repeat.
func (h *Handler) repeat(ctx context.Context, r *request, s *submission.Submission, next string) (resp events.APIGatewayV2HTTPResponse, ok bool) {
	for _, id := range postedUploadIDs(r) {
		s.Files = append(s.Files, submission.File{Upload: id})
	}
	outcome, ok, err := h.Service.Repeat(ctx, r.form, s)
	switch {
	case err != nil:
		return r.notAccepted(ctx, h.Log, err), true
	case !ok:
		return resp, false
	}
	return r.accepted(outcome, s.ID, next), true
}

// accepted answers a post that was sent or stored (or repeats one).
func (r *request) accepted(outcome submission.Outcome, id, next string) events.APIGatewayV2HTTPResponse {
	r.outcome, r.submissionID = "sent", id
	if outcome == submission.Stored {
		r.outcome = "stored"
	}
	return r.success(outcome, id, next)
}

// notAccepted answers a post the service did not accept.
func (r *request) notAccepted(ctx context.Context, log *slog.Logger, err error) events.APIGatewayV2HTTPResponse {
	if errors.Is(err, submission.ErrKeyReused) {
		// Never the first post's answer: that would tell this visitor their
		// message was sent when it was not.
		r.outcome = "idempotency_key_reused"
		return r.fail(refuse(CodeKeyReused))
	}
	r.outcome = "unavailable"
	if !errors.Is(err, submission.ErrUnavailable) {
		log.ErrorContext(ctx, "accept failed", slog.String("error_class", submission.ErrorClass(err)))
	}
	return r.fail(unavailable())
}

// admitPost answers what comes before a post is read, on the form endpoint
// and the upload route alike: the preflight, another method, an origin the
// form does not allow. done is false for a POST to go on with.
func (r *request) admitPost() (resp events.APIGatewayV2HTTPResponse, done bool) {
	switch r.method {
	case "OPTIONS":
		return r.preflight(), true
	case "POST":
	default:
		return r.methodNotAllowed("POST, OPTIONS"), true
	}
	return r.refuseOrigin()
}

// request is one HTTP request with what the handler learnt about it.
type request struct {
	ev     *events.APIGatewayV2HTTPRequest
	method string
	form   *config.Form
	lang   string
	// answerJSON: the client asked for JSON (see wantsJSON).
	answerJSON bool
	origin     string
	outcome    string
	// fields are the post's fields as sent (aliases resolved), once read.
	fields []submission.Field
	// pages is how this route's HTML pages end.
	pages pageStyle
	// tokenRoute is GET /f/{form}/token.
	tokenRoute bool
	// scriptRoute is GET /f/{form}/kontakt.js.
	scriptRoute bool
	// fileRoute is what follows /f/{form}/files/ (a download link), or "".
	fileRoute string
	// uploadRoute is /f/{form}/uploads (direct uploads).
	uploadRoute bool
	// submissionID is set once a submission was accepted.
	submissionID string
}

func newRequest(ev *events.APIGatewayV2HTTPRequest, cfg *config.Config) *request {
	r := &request{ev: ev, method: ev.RequestContext.HTTP.Method}
	if r.method == "" {
		r.method = "POST"
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	path, r.tokenRoute = strings.CutSuffix(path, tokenSuffix)
	path, r.scriptRoute = strings.CutSuffix(path, "/"+ScriptFile)
	path, r.uploadRoute = strings.CutSuffix(path, UploadsSuffix)
	if i := strings.Index(path, submission.FilesPath); i >= 0 {
		path, r.fileRoute = path[:i], path[i+len(submission.FilesPath):]
	}
	id := ev.PathParameters["form"]
	if id == "" {
		// Without a route parameter (a catch-all route), take it from the path.
		id = strings.TrimPrefix(path, "/f/")
	}
	r.form = cfg.Form(id)
	fallback := config.DefaultLanguage
	if r.form != nil {
		fallback = r.form.Language
	}
	r.lang = i18n.Pick(r.header("accept-language"), fallback)
	r.answerJSON = wantsJSON(r.header("accept"), r.header("content-type"), r.header("x-requested-with"))
	r.origin = r.header("origin")
	return r
}

func (r *request) formID() string {
	if r.form == nil {
		return "" // never log what an unknown id said: it is visitor input
	}
	return r.form.ID
}

// header reads a header by lower-case name; API Gateway lower-cases them.
func (r *request) header(name string) string {
	if v, ok := r.ev.Headers[name]; ok {
		return v
	}
	for k, v := range r.ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// body is the request body as sent: the fields parsed from it are slices
// of it rather than copies.
func (r *request) body() (string, error) {
	limit := r.form.MaxBodyBytes
	if r.form.Files != nil && isMultipart(r.header("content-type")) {
		limit = config.MaxInlineBodyBytes
	}
	return readBody(r.ev, limit)
}

// readBody decodes a base64 body and refuses one over limit bytes.
func readBody(ev *events.APIGatewayV2HTTPRequest, limit int) (string, error) {
	tooLarge := &Error{Code: CodeTooLarge, Limit: limit}
	raw := ev.Body
	if !ev.IsBase64Encoded {
		if len(raw) > limit {
			return "", tooLarge
		}
		return raw, nil
	}
	if base64.StdEncoding.DecodedLen(len(raw)) > limit+3 {
		return "", tooLarge
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", refuse(CodeMalformedBody)
	}
	if len(b) > limit {
		return "", tooLarge
	}
	return string(b), nil
}

// pageStyle is how a route's HTML pages end: a link back (zero: to the
// Referer, when it is on one of the form's origins) and a footer.
type pageStyle struct {
	backHref  string
	backLabel i18n.Key
	footer    string // HTML
}

// wantsJSON decides between a JSON answer and an HTML page. A client that
// asks for JSON never gets a page: jQuery's X-Requested-With, an Accept that
// ranks JSON at least as high as HTML, or a JSON body unless Accept ranks
// HTML higher. A browser's own form post (HTML first, */* after) gets a page.
func wantsJSON(accept, contentType, requestedWith string) bool {
	if strings.EqualFold(requestedWith, "XMLHttpRequest") {
		return true
	}
	jsonQ, htmlQ := acceptQ(accept)
	if jsonQ > 0 && jsonQ >= htmlQ {
		return true
	}
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	return isJSON && htmlQ <= jsonQ
}

// acceptQ is the weight Accept gives JSON and HTML by name (a wildcard
// prefers neither).
func acceptQ(accept string) (jsonQ, htmlQ float64) {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch t := strings.ToLower(strings.TrimSpace(mediaType)); {
		case t == "application/json" || strings.HasSuffix(t, "+json"):
			jsonQ = max(jsonQ, q)
		case t == "text/html" || t == "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ, htmlQ
}
