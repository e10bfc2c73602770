package submission

import (
	"context"
	"crypto/rand"
	"net/url"
	"strconv"
	"time"

	"github.com/opt-e/kontakt/internal/attachment"
	"github.com/opt-e/kontakt/internal/config"
)

// File is one file sent with a submission. Name and Type are what kontakt
// made of it (a cleaned name, the type its content has), never what the
// browser claimed.
type File struct {
	// Field is the form field it was sent in.
	Field string
	Name  string
	Type  string
	Size  int64
	// Key is where the bucket keeps it, once stored (files/<id>/<n>).
	Key string
	// Token is the capability in the staff email's download link: random,
	// per file, and useless once the copy is gone.
	Token string
	// Data is the content while the request that brought it runs; nil in
	// a copy read back from the table (the bucket has it).
	Data []byte `json:"-"`
	// Upload is the direct upload it came from, when it was not in the post;
	// UploadVersion the version of it that was read and checked (its ETag),
	// which is the one kept.
	Upload        string `json:"-"`
	UploadVersion string `json:"-"`
}

// File problem codes: what the refusal of a file names.
const (
	CodeFileType     = "file_type"
	CodeFileTooLarge = "file_too_large"
	CodeTooManyFiles = "too_many_files"
	CodeFileEmpty    = "file_empty"
	// CodeFilesTooLarge: each file fits, all of them together do not.
	CodeFilesTooLarge = "files_too_large"
)

// PrepareFiles checks files against the form's rules and fills in what
// kontakt makes of each: its type by content, a safe name, its size and a
// link token. It returns one problem per refused file (and one for too
// many or too much in all); with any problem nothing is to be stored.
// Files with data (sent in the post) are sniffed here; a direct upload is
// sniffed by whoever read it and arrives with Type set.
func PrepareFiles(form *config.Form, files []File) []Problem {
	if len(files) == 0 {
		return nil
	}
	r := form.Files
	var problems []Problem
	if r == nil {
		// The caller refuses the post before this; kept for safety.
		return []Problem{{Field: files[0].Field, Code: CodeFileType}}
	}
	if len(files) > r.MaxFiles {
		return []Problem{{Field: files[r.MaxFiles].Field, Code: CodeTooManyFiles, Limit: r.MaxFiles}}
	}
	var total int64
	for i := range files {
		f := &files[i]
		if f.Data != nil || f.Upload == "" {
			f.Size = int64(len(f.Data))
			f.Type = attachment.Sniff(f.Data)
		}
		switch {
		case f.Size == 0:
			problems = append(problems, Problem{Field: f.Field, Code: CodeFileEmpty})
			continue
		case f.Size > int64(r.MaxFileBytes):
			problems = append(problems, Problem{Field: f.Field, Code: CodeFileTooLarge, Limit: megabytes(r.MaxFileBytes)})
			continue
		case !r.Allows(f.Type):
			problems = append(problems, Problem{Field: f.Field, Code: CodeFileType})
			continue
		}
		total += f.Size
		f.Name = attachment.CleanName(f.Name, f.Type)
		if f.Token == "" {
			f.Token = rand.Text()
		}
	}
	if problems == nil && total > int64(r.MaxTotalBytes) {
		problems = append(problems, Problem{Field: files[len(files)-1].Field, Code: CodeFilesTooLarge, Limit: megabytes(r.MaxTotalBytes)})
	}
	return problems
}

// megabytes rounds n bytes up to whole MB, as messages name limits.
func megabytes(n int) int { return (n + 1<<20 - 1) >> 20 }

// LinkLifetime is how long the download link of a file in a staff email
// works: a week after the post, and never past the copy's retention (the
// file is gone then). It needs no AWS login; after that, staff ask the
// operator, who can read the file from the bucket while it is kept.
const LinkLifetime = 7 * 24 * time.Hour

// LinkUntil is when the download links of s's files stop working.
func (s *Submission) LinkUntil() time.Time {
	until := s.ReceivedAt.Add(LinkLifetime)
	if !s.ExpiresAt.IsZero() && s.ExpiresAt.Before(until) {
		until = s.ExpiresAt
	}
	return until
}

// FilesPath is the part of a download link's path after the form's: the
// link is base/f/<form>/files/<submission id>/<n>?t=<token>.
const FilesPath = "/files/"

// FileLink is the download link of s's i-th file under base (the API's
// public URL, no trailing slash).
func FileLink(base string, s *Submission, i int) string {
	return base + "/f/" + s.FormID + FilesPath + s.ID + "/" + strconv.Itoa(i) + "?t=" + url.QueryEscape(s.Files[i].Token)
}

type baseURLKey struct{}

// WithBaseURL carries the public URL a request came in at, for links made
// while answering it when no public URL is configured.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// BaseURL is what WithBaseURL put in ctx, or "".
func BaseURL(ctx context.Context) string {
	s, _ := ctx.Value(baseURLKey{}).(string)
	return s
}
