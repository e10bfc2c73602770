package submission

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/deadline"
)

// Direct uploads: a file too large for a post (config.MaxInlineBodyBytes)
// goes straight to the bucket with a presigned upload, and the post names
// it by its upload id in UploadsField. The id is single use, belongs to
// one form and expires.
const (
	// UploadsField holds the post's upload ids, comma-separated.
	UploadsField = "_uploads"
	// CodeUploadInvalid refuses an upload id that is forged, expired, used
	// already, another form's, or whose file is not what was asked for. It
	// never says which: a guessed id learns nothing.
	CodeUploadInvalid = "upload_invalid"
	// UploadURLLifetime is how long a presigned upload may be started.
	UploadURLLifetime = 15 * time.Minute
	// UploadClaimWindow is how long after it was asked for an upload may be
	// posted with a form; the bucket deletes uploads/ objects after a day.
	UploadClaimWindow = time.Hour
	// UploadRecordTTL is when the table may forget an upload's record; until
	// then a used id stays used.
	UploadRecordTTL = 24 * time.Hour
	// UploadPrefix is where uploads wait in the bucket: uploads/<id>.
	UploadPrefix = "uploads/"
)

// UploadKey is where upload id waits in the bucket.
func UploadKey(id string) string { return UploadPrefix + id }

// UploadRequest is what a page asks to upload: the file's name, size and
// declared type (a browser's File.type), and the form field it is for.
type UploadRequest struct {
	Field string `json:"field"`
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
}

// Upload is one upload asked for: the table's record of it.
type Upload struct {
	ID, FormID, Field, Name, Type string
	Size                          int64
	// ClaimUntil is when it can no longer be posted; ExpiresAt when the
	// record may go (the table's TTL).
	ClaimUntil, ExpiresAt time.Time
}

// UploadTicket is the answer to an upload request: where and how to send
// the file (a presigned request that fixes its size and type).
type UploadTicket struct {
	ID        string            `json:"id"`
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// ErrUploadInvalid is the Uploads port's answer for an id it will not
// hand out: absent, expired, another form's, or claimed already.
var ErrUploadInvalid = errors.New("upload id not claimable")

// ErrObjectInvalid is the UploadObjects port's answer for an upload that
// is not there or is larger than the limit it was read with.
var ErrObjectInvalid = errors.New("upload object missing or too large")

// Uploads records uploads (the table).
type Uploads interface {
	// Create records u; an id taken already is an error.
	Create(ctx context.Context, u Upload) error
	// Claim takes id for claimant, atomically, if it is formID's, not
	// claimed and before its ClaimUntil at now; else ErrUploadInvalid.
	Claim(ctx context.Context, id, formID, claimant string, now time.Time) (*Upload, error)
	// Release gives a claim back, if it is still claimant's.
	Release(ctx context.Context, id, claimant string) error
	// Forget removes the file's declared name from the record once
	// claimant's post was accepted; the record stays, claimed, until it
	// expires, so that the id is never used again.
	Forget(ctx context.Context, id, claimant string) error
}

// UploadObjects are the uploads' bytes (the bucket).
type UploadObjects interface {
	// PresignUpload signs an upload of exactly size bytes of contentType
	// to key, valid for lifetime: the URL, its method and the headers the
	// page must send.
	PresignUpload(ctx context.Context, key, contentType string, size int64, lifetime time.Duration) (url, method string, headers map[string]string, err error)
	// ReadUpload reads key, at most limit bytes (a larger object is
	// ErrObjectInvalid, as is none), and the version read (its ETag), so
	// that what is kept is exactly what was checked.
	ReadUpload(ctx context.Context, key string, limit int64) (data []byte, version string, err error)
	// Delete removes objects by key; a key with no object is no error.
	Delete(ctx context.Context, keys []string) error
}

// UploadDesk hands out direct uploads and turns posted upload ids into
// files for PrepareFiles and the Service.
type UploadDesk struct {
	Uploads Uploads
	Objects UploadObjects
	Log     *slog.Logger
	Now     func() time.Time
	// Timeout bounds each call; reading a file gets ReadTimeout.
	Timeout, ReadTimeout time.Duration
}

// DefaultUploadTimeouts fit the submit function's 10 s with a 25 MB read.
const (
	DefaultUploadTimeout     = 2 * time.Second
	DefaultUploadReadTimeout = 5 * time.Second
	// uploadReserve is kept back from each call for answering.
	uploadReserve = time.Second
)

// Begin records an upload for form and presigns it. A request the form's
// rules refuse comes back as problems (the codes a post's file gets), and
// nothing is recorded.
func (d *UploadDesk) Begin(ctx context.Context, form *config.Form, req UploadRequest) (*UploadTicket, []Problem, error) {
	if req.Field == "" {
		req.Field = UploadsField
	}
	if p := checkUploadRequest(form.Files, req); p != nil {
		return nil, []Problem{*p}, nil
	}
	now := d.Now().UTC()
	u := Upload{
		ID: rand.Text(), FormID: form.ID, Field: req.Field, Name: req.Name, Type: req.Type, Size: req.Size,
		ClaimUntil: now.Add(UploadClaimWindow), ExpiresAt: now.Add(UploadRecordTTL),
	}
	// A browser leaves File.type empty for a type it does not know (a
	// file without an extension, an unusual one): the upload goes as bytes,
	// and its content decides when it is posted, as in a plain post.
	putType := u.Type
	if putType == "" {
		putType = UnknownUploadType
	}
	c, cancel := deadline.Bound(ctx, d.Timeout, uploadReserve)
	url, method, headers, err := d.Objects.PresignUpload(c, UploadKey(u.ID), putType, u.Size, UploadURLLifetime)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	c, cancel = deadline.Bound(ctx, d.Timeout, uploadReserve)
	err = d.Uploads.Create(c, u)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	return &UploadTicket{ID: u.ID, URL: url, Method: method, Headers: headers, ExpiresAt: now.Add(UploadURLLifetime)}, nil, nil
}

// UnknownUploadType is what an upload whose type the browser does not
// know is sent as.
const UnknownUploadType = "application/octet-stream"

// checkUploadRequest refuses what a post's file would be refused for, as
// far as a declared size and type can tell; the content is checked when
// the upload is posted. No declared type (or the browser's "bytes") is no
// refusal: a plain post with that file is judged by its content too.
func checkUploadRequest(r *config.FileRules, req UploadRequest) *Problem {
	switch {
	case req.Size <= 0:
		return &Problem{Field: req.Field, Code: CodeFileEmpty}
	case req.Size > int64(r.MaxFileBytes):
		return &Problem{Field: req.Field, Code: CodeFileTooLarge, Limit: megabytes(r.MaxFileBytes)}
	case req.Type != "" && req.Type != UnknownUploadType && !r.Allows(req.Type):
		return &Problem{Field: req.Field, Code: CodeFileType}
	}
	return nil
}

// UploadIDs splits the value of UploadsField; duplicates count once.
func UploadIDs(value string) []string {
	var ids []string
	for part := range strings.SplitSeq(value, ",") {
		if id := strings.TrimSpace(part); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// validUploadID: what rand.Text makes (26 characters of base32), so that a
// forged id costs no call.
func validUploadID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for _, c := range []byte(id) {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// Claimed are the uploads a post holds while it is being accepted: give
// them back (Release) when it is not, or let them go (Finish) once it is.
type Claimed struct {
	d         *UploadDesk
	claimant  string
	ids       []string
	Files     []File
	finalised bool
}

// Claim takes the uploads ids for the post claimant (its submission id) on
// form and reads each into a File (Upload and Data set) for PrepareFiles.
// All or none: when one is refused (problems) or cannot be read (error),
// the others are given back, so the visitor may post them again. Too many
// ids is too_many_files, before any call.
func (d *UploadDesk) Claim(ctx context.Context, form *config.Form, ids []string, claimant string) (*Claimed, []Problem, error) {
	cl := &Claimed{d: d, claimant: claimant}
	if len(ids) == 0 {
		return cl, nil, nil
	}
	invalid := []Problem{{Field: UploadsField, Code: CodeUploadInvalid}}
	if form.Files == nil {
		return nil, invalid, nil
	}
	if len(ids) > form.Files.MaxFiles {
		return nil, []Problem{{Field: UploadsField, Code: CodeTooManyFiles, Limit: form.Files.MaxFiles}}, nil
	}
	for _, id := range ids {
		if !validUploadID(id) {
			return nil, invalid, nil
		}
	}
	now := d.Now()
	for _, id := range ids {
		c, cancel := deadline.Bound(ctx, d.Timeout, uploadReserve)
		u, err := d.Uploads.Claim(c, id, form.ID, claimant, now)
		cancel()
		if err != nil {
			// A claim whose answer was lost may have landed: give it back too.
			cl.ids = append(cl.ids, id)
			cl.Release(ctx)
			if errors.Is(err, ErrUploadInvalid) {
				return nil, invalid, nil
			}
			return nil, nil, err
		}
		cl.ids = append(cl.ids, id)
		// One more byte than the form allows tells a file too large from
		// one just large enough, without reading all of a larger one.
		c, cancel = deadline.Bound(ctx, d.ReadTimeout, uploadReserve)
		data, version, err := d.Objects.ReadUpload(c, UploadKey(id), int64(form.Files.MaxFileBytes)+1)
		cancel()
		switch {
		case errors.Is(err, ErrObjectInvalid), err == nil && int64(len(data)) != u.Size:
			// Not uploaded, or not the size its upload was signed for (an
			// emulator that checks no signature, a replaced object).
			cl.Release(ctx)
			return nil, invalid, nil
		case err != nil:
			cl.Release(ctx)
			return nil, nil, err
		}
		cl.Files = append(cl.Files, File{Field: u.Field, Name: u.Name, Data: data, Upload: id, UploadVersion: version})
	}
	return cl, nil, nil
}

// Release gives every claim back (the post was not accepted): the uploads
// stay, and the visitor may post them again. A claim that cannot be given
// back stays taken until its record expires: never used twice.
func (cl *Claimed) Release(ctx context.Context) {
	if cl == nil || cl.finalised {
		return
	}
	cl.finalised = true
	cl.eachRecord(ctx, cl.d.Uploads.Release, "upload claim not given back")
}

// Finish lets the uploads go once the post was accepted: their files are
// kept under the submission (Files.Put copied them), the claims stay (an id
// is single use), and the upload objects are deleted, as are the names the
// records held: the copy, which erasure finds, is then the only place that
// names the files. Should the objects not be deleted, the bucket's
// lifecycle rule deletes them within a day; a name not forgotten goes with
// its record (UploadRecordTTL).
func (cl *Claimed) Finish(ctx context.Context) {
	if cl == nil || cl.finalised || len(cl.ids) == 0 {
		return
	}
	cl.finalised = true
	keys := make([]string, len(cl.ids))
	for i, id := range cl.ids {
		keys[i] = UploadKey(id)
	}
	c, cancel := deadline.Bound(ctx, cl.d.Timeout, uploadReserve)
	err := cl.d.Objects.Delete(c, keys)
	cancel()
	if err != nil {
		cl.d.Log.LogAttrs(ctx, slog.LevelWarn, "posted uploads not deleted", slog.String("error_class", ErrorClass(err)))
	}
	cl.eachRecord(ctx, cl.d.Uploads.Forget, "posted upload's name not forgotten")
}

// eachRecord calls change on the record of each claimed id, each call with
// its deadline. A failure is logged as failed and left: what change does
// is never worth failing an answer for.
func (cl *Claimed) eachRecord(ctx context.Context, change func(ctx context.Context, id, claimant string) error, failed string) {
	for _, id := range cl.ids {
		c, cancel := deadline.Bound(ctx, cl.d.Timeout, uploadReserve)
		err := change(c, id, cl.claimant)
		cancel()
		if err != nil {
			cl.d.Log.LogAttrs(ctx, slog.LevelWarn, failed, slog.String("error_class", ErrorClass(err)))
		}
	}
}
