package app_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/submission"
)

// objectExists reports whether key is in bucket. Only S3's NoSuchKey
// counts as absent: any other error fails the test, so that "deleted" is
// never concluded from an unreachable emulator.
func objectExists(t *testing.T, c *s3.Client, bucket, key string) bool {
	t.Helper()
	out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return false
	}
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	return true
}

func sqsEvent(id, body string) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
}

// Erasure through the erase function's own wiring deletes a person's files
// from the bucket with their copies, and nobody else's; the privacy
// contact's notice names the files by name and size; the receipt counts
// them. Without a bucket, the same request fails and changes nothing.
func TestEraseDeletesFiles(t *testing.T) {
	integration(t)
	bucketName := env.Bucket
	s3c := filesS3()
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC()
	save := func(addr string, files ...string) *submission.Submission {
		s := &submission.Submission{ID: submission.NewID(), FormID: "soknad", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: addr,
			Fields: []submission.Field{{Name: "message", Value: "Hemmelig melding"}}}
		for i, name := range files {
			data := []byte("%PDF-1.7 hemmelig innhold " + name)
			s.Files = append(s.Files, submission.File{Field: "cv", Name: name, Type: "application/pdf", Size: int64(len(data)),
				Key: submission.FileKey(s.ID, i), Token: "tok" + name})
			if _, err := s3c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucketName), Key: aws.String(submission.FileKey(s.ID, i)),
				Body: bytes.NewReader(data)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Save(ctx(t), s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	kari := save("kari.files@example.no", "cv-kari.pdf", "attest-kari.pdf")
	ola := save("ola.files@example.no", "cv-ola.pdf")
	env.ClearEmails(ctx(t))
	msg := `{"email":"kari.files@example.no","request_id":"op-files-1","source":"operator"}`

	// No bucket: the message fails, nothing is told, deleted or receipted.
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := eraseConfig()
	clients := erase.NewClients(env.AWS)
	clients.S3 = s3c
	h, err := erase.Handler(ctx(t), cfg, clients, log, &bytes.Buffer{}, "EraseFunction")
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := h.Handle(ctx(t), sqsEvent("m1", msg)); len(res.BatchItemFailures) != 1 {
		t.Fatalf("without a bucket the request succeeded: %+v", res)
	}
	if !getRaw(t, kari.ID) || !objectExists(t, s3c, bucketName, kari.Files[0].Key) {
		t.Fatal("half-erased without a bucket")
	}
	if emails, _ := env.Emails(ctx(t)); len(emails) != 0 {
		t.Fatalf("notice sent for a request that failed: %d", len(emails))
	}
	if !strings.Contains(logs.String(), `"error_class":"misconfigured"`) {
		t.Errorf("log does not name the class: %s", logs.String())
	}

	cfg.FilesBucket = bucketName
	if h, err = erase.Handler(ctx(t), cfg, clients, log, &bytes.Buffer{}, "EraseFunction"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent: the second run finds nothing more to do
		if res, _ := h.Handle(ctx(t), sqsEvent("m2", msg)); len(res.BatchItemFailures) != 0 {
			t.Fatalf("erase failed: %s", logs.String())
		}
	}
	if getRaw(t, kari.ID) {
		t.Error("the copy is still stored")
	}
	for _, f := range kari.Files {
		if objectExists(t, s3c, bucketName, f.Key) {
			t.Errorf("file %s is still in the bucket", f.Key)
		}
	}
	if !getRaw(t, ola.ID) || !objectExists(t, s3c, bucketName, ola.Files[0].Key) {
		t.Error("another person's copy or file was erased")
	}
	rec, err := (&erasurestore.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).GetReceipt(ctx(t), "op-files-1")
	if err != nil || rec == nil || rec.Count != 1 || rec.Files != 2 || !rec.Complete {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}
	emails, _ := env.Emails(ctx(t))
	if len(emails) != 1 {
		t.Fatalf("notices = %d, want 1", len(emails))
	}
	text := emails[0].Body.Text
	for _, want := range []string{kari.ID, "cv-kari.pdf (", "attest-kari.pdf ("} {
		if !strings.Contains(text, want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	for _, never := range []string{"hemmelig", "kari.files", "tokcv", "files/"} {
		if strings.Contains(strings.ToLower(text+logs.String()), never) {
			t.Errorf("notice or logs carry %q", never)
		}
	}
}
