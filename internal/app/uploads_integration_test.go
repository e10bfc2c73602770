package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

// The stack's S3 takes presigned URLs as plain requests: neither the
// in-process emulator nor moto checks the signature, so the expiry and the
// signed Content-Length and Content-Type are enforced by S3 alone; what
// these tests can prove is the post's own size check.
func uploadsSetup(t *testing.T) (*httpapi.Handler, *s3.Client, *bytes.Buffer) {
	t.Helper()
	s3c := filesS3()
	cfg := testConfig(t)
	cfg.FilesBucket = env.Bucket
	cfg.Form("contact").Files = &config.FileRules{Types: []string{"application/pdf"}, MaxFileBytes: 10 << 20, MaxTotalBytes: 25 << 20, MaxFiles: 3}
	clients := submit.NewClients(env.AWS, cfg)
	clients.S3, clients.Presign = s3c, s3.NewPresignClient(s3c)
	var logs bytes.Buffer
	h, err := submit.Handler(ctx(t), cfg, clients, slog.New(slog.NewJSONHandler(&logs, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// A 5 MB file is attached: a raw message of about 7 MB, which moto
	// under -race takes longer than the 5 s send budget to accept (the
	// post is then stored and answered 202, as it should be). These tests
	// are about where the file ends up, not about SES's speed.
	svc := h.Service.(*submission.Service)
	svc.Timeouts.Send = 30 * time.Second
	return h, s3c, &logs
}

func apiEvent(method, path, contentType, body string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		RawPath:        path,
		Headers:        map[string]string{"content-type": contentType, "origin": "https://www.example.no", "accept": "application/json"},
		Body:           body,
		PathParameters: map[string]string{"form": "contact"},
	}
	ev.RequestContext.HTTP.Method = method
	return ev
}

type uploadTicket struct {
	ID      string            `json:"id"`
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
}

// uploadFile asks kontakt for an upload of declared bytes and sends data
// to it as a browser would (fetch PUT with the headers given).
func uploadFile(t *testing.T, h *httpapi.Handler, declared int, data []byte) string {
	t.Helper()
	return uploadTyped(t, h, "application/pdf", declared, data)
}

// uploadTyped is uploadFile with the type the browser declares.
func uploadTyped(t *testing.T, h *httpapi.Handler, typ string, declared int, data []byte) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"field": "cv", "name": "Søknad Kari.pdf", "size": declared, "type": typ})
	resp, err := h.Handle(ctx(t), apiEvent("POST", "/f/contact/uploads", "application/json", string(body)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload request: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	var tk uploadTicket
	if err := json.Unmarshal([]byte(resp.Body), &tk); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tk.URL, "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost") {
		t.Errorf("the presigned URL does not sign the size and type: %s", tk.URL)
	}
	req, err := http.NewRequestWithContext(ctx(t), tk.Method, tk.URL, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tk.Headers {
		req.Header.Set(k, v)
	}
	put, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != 200 {
		t.Fatalf("PUT to the presigned URL: %d", put.StatusCode)
	}
	return tk.ID
}

func postWithUploads(t *testing.T, h *httpapi.Handler, ids ...string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return postKeyed(t, h, "", ids...)
}

// postKeyed is postWithUploads with an Idempotency-Key (none when "").
func postKeyed(t *testing.T, h *httpapi.Handler, key string, ids ...string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	post := map[string]string{"name": "Kari", "email": "kari@example.no", "message": "Søknad vedlagt.", submission.UploadsField: strings.Join(ids, ",")}
	if key != "" {
		post["_idempotency_key"] = key
	}
	body, _ := json.Marshal(post)
	// As long as a function timeout allows for the slow send (uploadsSetup).
	c, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	resp, err := h.Handle(c, apiEvent("POST", "/f/contact", "application/json", string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A 5 MB PDF (more than a post can carry) goes up by presigned PUT, the
// post names it, and it ends up under files/<submission id>/0 with the
// copy referring to it; the upload object is gone and its id used.
func TestDirectUploadIsKeptUnderTheSubmission(t *testing.T) {
	integration(t)
	if err := env.ClearEmails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	h, s3c, logs := uploadsSetup(t)
	data := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0123456789abcdef"), 5<<16)...)
	id := uploadFile(t, h, len(data), data)
	if !objectExists(t, s3c, env.Bucket, submission.UploadKey(id)) {
		t.Fatal("the PUT did not land in uploads/")
	}

	resp := postWithUploads(t, h, id)
	var answer struct{ ID string }
	json.Unmarshal([]byte(resp.Body), &answer)
	store := &dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
	c, err := store.Get(ctx(t), answer.ID)
	if resp.StatusCode != 200 {
		t.Fatalf("post: %d %s (copy: %+v)", resp.StatusCode, resp.Body, c)
	}
	if err != nil || c == nil || len(c.Submission.Files) != 1 {
		t.Fatalf("copy %s: %+v %v", answer.ID, c, err)
	}
	f := c.Submission.Files[0]
	if f.Key != submission.FileKey(answer.ID, 0) || f.Size != int64(len(data)) || f.Type != "application/pdf" || f.Name != "Søknad Kari.pdf" || f.Field != "cv" {
		t.Errorf("file in the copy: %+v", f)
	}
	out, err := s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(f.Key)})
	if err != nil {
		t.Fatalf("the file is not under files/: %v", err)
	}
	kept, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(kept, data) {
		t.Errorf("kept %d bytes, want the %d uploaded", len(kept), len(data))
	}
	if objectExists(t, s3c, env.Bucket, submission.UploadKey(id)) {
		t.Error("the upload object was not deleted")
	}
	// The record stays claimed (single use) but no longer names the file:
	// the copy, which erasure finds, is the one place that does.
	rec, err := dynamodb.NewFromConfig(env.AWS).GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String(env.Table), Key: dynamo.Key(dynamo.UploadPrefix + id), ConsistentRead: aws.Bool(true)})
	if err != nil || rec.Item == nil || rec.Item[dynamo.AttrClaimedBy] == nil || rec.Item[dynamo.AttrName] != nil {
		t.Errorf("upload record after the post: %v %v, want claimed and no name", rec, err)
	}
	emails, err := env.Emails(ctx(t))
	if err != nil || len(emails) != 1 {
		t.Errorf("%d emails (%v), want 1", len(emails), err)
	}

	t.Run("the id posted again", func(t *testing.T) {
		resp := postWithUploads(t, h, id)
		if resp.StatusCode != 422 || !strings.Contains(resp.Body, submission.CodeUploadInvalid) {
			t.Errorf("%d %s", resp.StatusCode, resp.Body)
		}
	})
	logsHoldNone(t, logs.String(), "Kari", "kari@example.no", "Søknad")
}

// A file whose type the browser does not know (File.type empty) goes up
// as bytes, signed as such, and is kept with the type its content has.
func TestDirectUploadOfATypeTheBrowserDoesNotKnow(t *testing.T) {
	integration(t)
	h, s3c, _ := uploadsSetup(t)
	data := []byte("%PDF-1.7\nno extension on this one")
	id := uploadTyped(t, h, "", len(data), data)
	resp := postWithUploads(t, h, id)
	if resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, resp.Body)
	}
	var answer struct{ ID string }
	json.Unmarshal([]byte(resp.Body), &answer)
	head, err := s3c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(submission.FileKey(answer.ID, 0))})
	if err != nil || aws.ToString(head.ContentType) != "application/pdf" {
		t.Errorf("kept file: %v, type %q; want application/pdf", err, aws.ToString(head.ContentType))
	}
}

// A post whose answer was lost, sent again as kontakt.js sends it (the
// same Idempotency-Key, content and upload ids), gets the first answer:
// one email, one copy, though its uploads cannot be claimed twice.
func TestRetryOfAPostWithUploadsIsAnsweredLikeTheFirst(t *testing.T) {
	integration(t)
	if err := env.ClearEmails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	h, _, _ := uploadsSetup(t)
	data := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 1000)...)
	id := uploadFile(t, h, len(data), data)
	key := "retry-" + id
	var first, again struct{ ID string }
	resp := postKeyed(t, h, key, id)
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &first) != nil {
		t.Fatalf("first try: %d %s", resp.StatusCode, resp.Body)
	}
	resp = postKeyed(t, h, key, id)
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &again) != nil || again.ID != first.ID {
		t.Fatalf("retry: %d %s, want 200 with id %s", resp.StatusCode, resp.Body, first.ID)
	}
	if emails, err := env.Emails(ctx(t)); err != nil || len(emails) != 1 {
		t.Errorf("%d emails (%v), want 1", len(emails), err)
	}
	if resp := postWithUploads(t, h, id); resp.StatusCode != 422 || !strings.Contains(resp.Body, submission.CodeUploadInvalid) {
		t.Errorf("the same uploads without the key: %d %s, want 422", resp.StatusCode, resp.Body)
	}
}

// The emulator checks no signature, so a PUT of more bytes than were
// signed lands; the post still refuses it, and consumes nothing.
func TestUploadLargerThanItsPolicyIsRefused(t *testing.T) {
	integration(t)
	h, s3c, _ := uploadsSetup(t)
	data := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 1000)...)
	id := uploadFile(t, h, 100, data)
	resp := postWithUploads(t, h, id)
	if resp.StatusCode != 422 || !strings.Contains(resp.Body, submission.CodeUploadInvalid) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	if !objectExists(t, s3c, env.Bucket, submission.UploadKey(id)) {
		t.Error("a refused upload was deleted")
	}
	// The claim was given back: the record is claimable (by this form).
	u := &dynamo.Uploads{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
	if _, err := u.Claim(ctx(t), id, "other-form", "x", time.Now()); err != submission.ErrUploadInvalid {
		t.Errorf("claimed for another form: %v", err)
	}
	if _, err := u.Claim(ctx(t), id, "contact", "x", time.Now().Add(submission.UploadClaimWindow+time.Minute)); err != submission.ErrUploadInvalid {
		t.Errorf("claimed after its time: %v", err)
	}
	if _, err := u.Claim(ctx(t), id, "contact", "x", time.Now()); err != nil {
		t.Errorf("the claim was not given back: %v", err)
	}
	if _, err := u.Claim(ctx(t), id, "contact", "y", time.Now()); err != submission.ErrUploadInvalid {
		t.Errorf("claimed twice: %v", err)
	}
	if _, err := u.Claim(ctx(t), strings.Repeat("A", submission.IDLength), "contact", "x", time.Now()); err != submission.ErrUploadInvalid {
		t.Errorf("an id never handed out: %v", err)
	}
}
