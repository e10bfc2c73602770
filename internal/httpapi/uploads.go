package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// UploadsSuffix ends the route of direct uploads, POST /f/{form}/uploads.
const UploadsSuffix = "/uploads"

// maxUploadRequest bounds the body of an upload request: a name, a size,
// a type and a field name.
const maxUploadRequest = 4 << 10

// Uploads is what direct uploads need (*submission.UploadDesk).
type Uploads interface {
	// Begin records and presigns one upload, or returns the problems the
	// form's rules find with what was declared.
	Begin(ctx context.Context, form *config.Form, req submission.UploadRequest) (*submission.UploadTicket, []submission.Problem, error)
	// Claim takes a post's upload ids for claimant and reads their files,
	// all or none.
	Claim(ctx context.Context, form *config.Form, ids []string, claimant string) (*submission.Claimed, []submission.Problem, error)
}

var _ Uploads = (*submission.UploadDesk)(nil)

type uploadBody struct {
	OK bool `json:"ok"`
	submission.UploadTicket
}

// upload answers POST /f/{form}/uploads: a presigned upload for one file,
// for forms that take files, from the form's origins (CORS as the form
// endpoint). A declared size or type the form refuses is the 422 a post
// with that file gets.
func (h *Handler) upload(ctx context.Context, r *request) events.APIGatewayV2HTTPResponse {
	r.answerJSON = true
	if resp, done := r.admitPost(); done {
		return resp
	}
	r.outcome = "upload"
	if r.form.Files == nil || h.Uploads == nil {
		return r.fail(refuse(CodeFileUpload))
	}
	mediaType, _, _ := strings.Cut(r.header("content-type"), ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), "application/json") {
		return r.fail(refuse(CodeContentType))
	}
	body, err := readBody(r.ev, maxUploadRequest)
	if err != nil {
		return r.fail(err)
	}
	var req submission.UploadRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return r.fail(refuse(CodeMalformedJSON))
	}
	var refusal *abuse.Refusal
	if err := h.guard().AdmitUpload(ctx, r.form, r.ev.RequestContext.HTTP.SourceIP); errors.As(err, &refusal) {
		return r.refused(refusal)
	}
	ticket, problems, err := h.Uploads.Begin(ctx, r.form, req)
	if err != nil {
		r.outcome = "unavailable"
		h.Log.LogAttrs(ctx, slog.LevelError, "upload not begun", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	if len(problems) > 0 {
		r.outcome = "invalid"
		return r.fail(&submission.ValidationError{Problems: problems})
	}
	return r.jsonResponse(200, uploadBody{OK: true, UploadTicket: *ticket})
}

// claimUploads takes the post's direct uploads (UploadsField) for the
// submission id, or none when it names none.
func (h *Handler) claimUploads(ctx context.Context, r *request, id string) (*submission.Claimed, []submission.Problem, error) {
	ids := postedUploadIDs(r)
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if h.Uploads == nil || r.form.Files == nil {
		return nil, []submission.Problem{{Field: submission.UploadsField, Code: submission.CodeUploadInvalid}}, nil
	}
	return h.Uploads.Claim(ctx, r.form, ids, id)
}

// postedUploadIDs are the upload ids the post names, in order.
func postedUploadIDs(r *request) []string {
	var ids []string
	for _, f := range r.fields {
		if f.Name == submission.UploadsField {
			ids = append(ids, submission.UploadIDs(f.Value)...)
		}
	}
	return ids
}
