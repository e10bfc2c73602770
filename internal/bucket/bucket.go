// Package bucket keeps visitors' files in S3: put when a post is accepted,
// read back to attach them again (redrive), deleted by erasure, and handed
// to staff through short presigned downloads. Each file is tagged with its
// form's retention; the bucket's lifecycle rules (template.yaml,
// FilesBucket) delete it at that age.
package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// RetentionTag is the object tag the lifecycle rules match: the form's
// retention in days, or TagHeld while a legal hold keeps the file.
const (
	RetentionTag = "kontakt-retention"
	TagHeld      = "held"
)

// API is the part of the S3 client the adapter uses.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	// Direct uploads (uploads.go).
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

// Presigner signs download URLs (s3.PresignClient).
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// TaggingAPI reads an object's tags: GuardDuty's scan result.
type TaggingAPI interface {
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, opts ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// Bucket implements submission.Files and the file reads of the email and
// the download link.
type Bucket struct {
	Client  API
	Presign Presigner
	// Tagging reads scan results (only with malware scanning on).
	Tagging TaggingAPI
	Name    string
}

// Bucket is also erasure's Files (asserted in the erase wiring: the
// functions that do not erase do not link erasure).
var _ submission.Files = (*Bucket)(nil)

// Error is a failed bucket call with its class (see submission.ErrorClass).
type Error struct {
	Op, Class string
	Err       error
}

func (e *Error) Error() string      { return fmt.Sprintf("%s (%s): %v", e.Op, e.Class, e.Err) }
func (e *Error) Unwrap() error      { return e.Err }
func (e *Error) ErrorClass() string { return e.Class }

func wrap(op string, err error) error {
	class := "error"
	var api smithy.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		class = "timeout"
	case errors.As(err, &api):
		switch api.ErrorCode() {
		case "SlowDown", "ServiceUnavailable", "RequestTimeout":
			class = "throttled"
		case "AccessDenied", "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			class = "misconfigured"
		case "NoSuchKey":
			class = "not_found"
		default:
			class = "rejected"
		}
	}
	return &Error{Op: op, Class: class, Err: err}
}

// Put stores the data of each of s's files under its key, server-side
// encrypted, tagged with the form's retention. A direct upload is copied
// inside the bucket instead (copyUpload); files without data are skipped.
func (b *Bucket) Put(ctx context.Context, form *config.Form, s *submission.Submission) error {
	tag := RetentionTag + "=" + strconv.Itoa(form.RetentionDays)
	for _, f := range s.Files {
		if f.Upload != "" {
			if err := b.copyUpload(ctx, f, tag); err != nil {
				return err
			}
			continue
		}
		if f.Data == nil {
			continue
		}
		_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(b.Name),
			Key:                  aws.String(f.Key),
			Body:                 bytes.NewReader(f.Data),
			ContentLength:        aws.Int64(int64(len(f.Data))),
			ContentType:          aws.String(f.Type),
			ServerSideEncryption: types.ServerSideEncryptionAes256,
			Tagging:              aws.String(tag),
		})
		if err != nil {
			return wrap("put file", err)
		}
	}
	return nil
}

// maxRead bounds what Get reads: no stored file can be larger.
const maxRead = 64 << 20

// Get reads a stored file.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, wrap("get file", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxRead))
	if err != nil {
		return nil, wrap("read file", err)
	}
	return data, nil
}

// Delete removes files by key, up to 1,000 per call (S3's limit). S3
// answers a key with no object as deleted, so erasing twice is no error.
func (b *Bucket) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		objs := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := b.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.Name),
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return wrap("delete files", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return &Error{Op: "delete files", Class: "rejected", Err: fmt.Errorf("%d not deleted, first: %s", len(out.Errors), aws.ToString(e.Code))}
		}
		keys = keys[n:]
	}
	return nil
}

// DownloadLifetime is how long a presigned download works once staff
// follow a file link: long enough to start it, too short to pass on.
const DownloadLifetime = 5 * time.Minute

// DownloadURL presigns a download of f that saves it under its cleaned
// name and sniffed type (never rendered in the browser as a page).
func (b *Bucket) DownloadURL(ctx context.Context, f submission.File) (string, error) {
	req, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(b.Name),
		Key:                        aws.String(f.Key),
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})),
		ResponseContentType:        aws.String(f.Type),
	}, s3.WithPresignExpires(DownloadLifetime))
	if err != nil {
		return "", wrap("presign download", err)
	}
	return req.URL, nil
}

// ScanTag is the tag GuardDuty Malware Protection for S3 puts on each
// object it scanned; ScanClean is the one result that lets a file out.
const (
	ScanTag   = "GuardDutyMalwareScanStatus"
	ScanClean = "NO_THREATS_FOUND"
)

// ScanStatus is GuardDuty's verdict on f (ScanClean, THREATS_FOUND,
// UNSUPPORTED, ACCESS_DENIED, FAILED), or "" while it has not scanned it.
func (b *Bucket) ScanStatus(ctx context.Context, f submission.File) (string, error) {
	out, err := b.Tagging.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b.Name), Key: aws.String(f.Key)})
	if err != nil {
		return "", wrap("read scan result", err)
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == ScanTag {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}
