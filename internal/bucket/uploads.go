package bucket

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/internal/submission"
)

var _ submission.UploadObjects = (*Bucket)(nil)

// UploadIAMActions are the S3 actions of direct uploads, on uploads/*:
// presigning a PUT needs s3:PutObject (the signature carries the
// function's permission to the browser), reading one back s3:GetObject,
// deleting it once posted s3:DeleteObject (DeleteObjects
// checks it per key). Copying it to files/<id>/<n> needs s3:GetObject on
// uploads/* and s3:PutObject and s3:PutObjectTagging on files/*, which
// storing a post's files needs already.
var UploadIAMActions = []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}

// PresignUpload signs a PUT of exactly size bytes of contentType to key.
// The SDK (s3 v1.115) signs Content-Length and Content-Type as headers
// (X-Amz-SignedHeaders=content-length;content-type;host), so S3 refuses
// a body of any other length or another type; a browser's fetch sets
// Content-Length from the file itself and must send the Content-Type given.
func (b *Bucket) PresignUpload(ctx context.Context, key, contentType string, size int64, lifetime time.Duration) (string, string, map[string]string, error) {
	req, err := b.Presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.Name),
		Key:           aws.String(key),
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType),
	}, s3.WithPresignExpires(lifetime))
	if err != nil {
		return "", "", nil, wrap("presign upload", err)
	}
	return req.URL, req.Method, map[string]string{"Content-Type": contentType}, nil
}

// ReadUpload reads an upload, at most limit bytes: one GET, whose length
// refuses a larger object before its body is read, and whose ETag names
// the version that was read (the copy is made of that version only).
func (b *Bucket) ReadUpload(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, "", missing("get upload", err)
	}
	defer out.Body.Close()
	if aws.ToInt64(out.ContentLength) > limit {
		return nil, "", submission.ErrObjectInvalid
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, "", wrap("read upload", err)
	}
	if int64(len(data)) > limit {
		return nil, "", submission.ErrObjectInvalid
	}
	return data, aws.ToString(out.ETag), nil
}

// missing maps "no such object" to ErrObjectInvalid; anything else is an
// outage.
func missing(op string, err error) error {
	var (
		nsk *types.NoSuchKey
		nf  *types.NotFound
		re  interface{ HTTPStatusCode() int }
	)
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return submission.ErrObjectInvalid
	}
	if errors.As(err, &re) {
		if re.HTTPStatusCode() == http.StatusNotFound {
			return submission.ErrObjectInvalid
		}
	}
	return wrap(op, err)
}

// copyUpload copies an upload to f.Key inside the bucket, only the version
// that was read and checked (If-Match on its ETag: a presigned PUT works
// more than once until it expires), encrypted and tagged like a post's file,
// with the type its content has.
func (b *Bucket) copyUpload(ctx context.Context, f submission.File, tag string) error {
	in := &s3.CopyObjectInput{
		Bucket:               aws.String(b.Name),
		Key:                  aws.String(f.Key),
		CopySource:           aws.String(b.Name + "/" + submission.UploadKey(f.Upload)),
		ContentType:          aws.String(f.Type),
		MetadataDirective:    types.MetadataDirectiveReplace,
		ServerSideEncryption: types.ServerSideEncryptionAes256,
		Tagging:              aws.String(tag),
		TaggingDirective:     types.TaggingDirectiveReplace,
	}
	if f.UploadVersion != "" {
		in.CopySourceIfMatch = aws.String(f.UploadVersion)
	}
	if _, err := b.Client.CopyObject(ctx, in); err != nil {
		return wrap("copy upload", err)
	}
	return nil
}
