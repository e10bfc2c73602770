package localstack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/internal/app"
)

// The SDK reaches S3 from Stack.Env alone (AWS_ENDPOINT_URL_S3), as the
// functions do, with the configuration every function builds: no path-style
// option, no custom resolver. It works on the in-process emulator and on
// moto alike: objects, their tags (PutObject's Tagging, Get/Put/Delete
// ObjectTagging), presigned PUT and GET URLs, and deletion.
func TestS3ThroughTheSDK(t *testing.T) {
	for _, impl := range []string{"gofakes3", "moto"} {
		t.Run(impl, func(t *testing.T) {
			ctx := localstack.TestContext(t, time.Minute)
			opt := localstack.Options{S3: true}
			if impl == "moto" {
				opt = localstack.Options{Moto: true}
			}
			st, err := localstack.Start(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Stop()
			if !strings.HasPrefix(st.S3URL, "http://127.0.0.1:") {
				t.Fatalf("S3URL = %q, want loopback", st.S3URL)
			}
			for _, kv := range st.Env() {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			os.Unsetenv("AWS_ENDPOINT_URL") // only the per-service variable
			cfg, err := app.AWSConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			exerciseS3(ctx, t, s3.NewFromConfig(cfg), st.S3URL)
		})
	}
}

func exerciseS3(ctx context.Context, t *testing.T, c *s3.Client, endpoint string) {
	// A name that is a valid bucket but no host under 127.0.0.1: only a
	// path-style request reaches it.
	const bucket = "kontakt-files"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(localstack.Region)}}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	key := "files/01JABCDEFGHJKMNPQRSTVWXYZ0/0"
	body := []byte("%PDF-1.4 a small file\n")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/pdf"), Tagging: aws.String("kontakt-retention=30")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(data, body) || aws.ToString(got.ContentType) != "application/pdf" {
		t.Errorf("GetObject = %q (%s), want %q (application/pdf)", data, aws.ToString(got.ContentType), body)
	}

	tags := func() map[string]string {
		t.Helper()
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		m := map[string]string{}
		for _, tag := range out.TagSet {
			m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return m
	}
	if m := tags(); len(m) != 1 || m["kontakt-retention"] != "30" {
		t.Errorf("tags after PutObject = %v, want kontakt-retention=30", m)
	}
	// A legal hold replaces the tag; the file stays as it was.
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("kontakt-retention"), Value: aws.String("held")}}}}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if m := tags(); m["kontakt-retention"] != "held" {
		t.Errorf("tags after the hold = %v, want kontakt-retention=held", m)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Errorf("after PutObjectTagging the object is %d bytes, want %d", aws.ToInt64(head.ContentLength), len(body))
	}
	if _, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("files/none/0")}); !isCode(err, "NoSuchKey") {
		t.Errorf("GetObjectTagging of a missing key: %v, want NoSuchKey", err)
	}

	// Presigned PUT (a direct upload) and GET (a staff link), path-style on
	// the endpoint.
	presign := s3.NewPresignClient(c)
	upload := "uploads/01JABCDEFGHJKMNPQRSTVWXYZ1"
	put, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(upload),
		ContentType: aws.String("image/png")}, s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := endpoint + "/" + bucket + "/" + upload + "?"; !strings.HasPrefix(put.URL, want) {
		t.Errorf("presigned URL %s, want path-style %s…", put.URL, want)
	}
	req, _ := http.NewRequestWithContext(ctx, put.Method, put.URL, bytes.NewReader([]byte("\x89PNG")))
	for k, v := range put.SignedHeader {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("presigned PUT: %s", resp.Status)
	}
	get, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(upload)}, s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(data) != "\x89PNG" {
		t.Errorf("presigned GET: %s %q", resp.Status, data)
	}

	// Erasure deletes; the file is gone.
	for _, k := range []string{key, upload} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
			t.Fatalf("DeleteObject %s: %v", k, err)
		}
		if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); !isCode(err, "NoSuchKey") {
			t.Errorf("GetObject after DeleteObject: %v, want NoSuchKey", err)
		}
	}
	// A file put again under the same key has only its own tags.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if m := tags(); len(m) != 0 {
		t.Errorf("tags of a new object under an old key = %v, want none", m)
	}
}

func isCode(err error, code string) bool {
	var api interface{ ErrorCode() string }
	return errors.As(err, &api) && api.ErrorCode() == code
}
