package httpapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/submission"
)

// FileLinks is what the download links in staff emails need: the copy the
// file belongs to, and a short presigned download of it.
type FileLinks interface {
	// Copy returns the stored copy with id, or nil when there is none (never
	// stored, erased, expired).
	Copy(ctx context.Context, id string) (*submission.Submission, error)
	// DownloadURL presigns a download of f that works for minutes.
	DownloadURL(ctx context.Context, f submission.File) (string, error)
	// ScanStatus is the malware scan's verdict on f ("" while it has not
	// scanned it); asked only with Handler.ScanFiles.
	ScanStatus(ctx context.Context, f submission.File) (string, error)
}

// ScanClean is the scan result that lets a file out (bucket.ScanClean).
const ScanClean = "NO_THREATS_FOUND"

// scanRetrySeconds is what staff are told to wait for a file still being
// scanned: GuardDuty takes seconds to a few minutes.
const scanRetrySeconds = 60

// linkTimeout bounds each call a download link makes.
const linkTimeout = 3 * time.Second

// download answers GET /f/{form}/files/{id}/{n}?t=token, the link in a
// staff email: a redirect to a presigned download of the file while the
// copy is kept and the link has not expired. Anything else looks like a
// file that does not exist, so that a guessed link learns nothing.
func (h *Handler) download(ctx context.Context, r *request) events.APIGatewayV2HTTPResponse {
	r.outcome = "download"
	if r.method != "GET" && r.method != "HEAD" {
		return r.methodNotAllowed("GET")
	}
	id, n, ok := strings.Cut(r.fileRoute, "/")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 || len(id) != submission.IDLength || h.Files == nil {
		return r.fail(refuse(CodeFileNotFound))
	}
	c, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	s, err := h.Files.Copy(c, id)
	if err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "download link: copy not read", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	token := r.ev.QueryStringParameters["t"]
	if s == nil || s.FormID != r.form.ID || i >= len(s.Files) || token == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(s.Files[i].Token)) != 1 {
		return r.fail(refuse(CodeFileNotFound))
	}
	if !h.Now().Before(s.LinkUntil()) {
		return r.fail(refuse(CodeLinkExpired))
	}
	if h.ScanFiles {
		switch status, err := h.Files.ScanStatus(c, s.Files[i]); {
		case err != nil:
			h.Log.LogAttrs(ctx, slog.LevelError, "download link: scan result not read", slog.String("error_class", submission.ErrorClass(err)))
			return r.fail(unavailable())
		case status == "":
			return r.fail(&Error{Code: CodeFileScanning, RetryAfter: scanRetrySeconds})
		case status != ScanClean:
			// Flagged, or one GuardDuty could not scan: never handed out.
			r.submissionID = s.ID
			return r.fail(refuse(CodeFileWithheld))
		}
	}
	url, err := h.Files.DownloadURL(c, s.Files[i])
	if err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "download link: not presigned", slog.String("error_class", submission.ErrorClass(err)))
		return r.fail(unavailable())
	}
	r.submissionID = s.ID
	return events.APIGatewayV2HTTPResponse{StatusCode: 303, Headers: map[string]string{
		"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
	}}
}
