package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/opt-e/kontakt/internal/app"
	redriveapp "github.com/opt-e/kontakt/internal/app/redrive"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/redrive"
)

const samplePDF = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// filesS3 is the stack's S3 (the in-process emulator, or moto under make
// test-aws), whose files bucket is env.Bucket.
func filesS3() *s3.Client { return s3.NewFromConfig(env.AWS) }

// filesConfig is the contact form taking PDFs, on the stack's bucket.
func filesConfig(t *testing.T) *config.Config {
	cfg := testConfig(t)
	cfg.FilesBucket = env.Bucket
	cfg.Form("contact").Files = &config.FileRules{Types: []string{"application/pdf"}, MaxFileBytes: 1 << 20, MaxTotalBytes: 2 << 20, MaxFiles: 2}
	return cfg
}

// filePost is a browser's multipart post with a PDF, as API Gateway hands
// it over: base64, with the domain the link is made under.
func filePost(t *testing.T, filename, content string) events.APIGatewayV2HTTPRequest {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("name", "Kari Nordmann")
	w.WriteField("email", "kari@example.no")
	w.WriteField("message", "Søknad vedlagt.")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="cv"; filename="`+filename+`"`)
	h.Set("Content-Type", "application/pdf")
	pw, _ := w.CreatePart(h)
	pw.Write([]byte(content))
	w.Close()
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/f/contact", PathParameters: map[string]string{"form": "contact"},
		Headers: map[string]string{"content-type": w.FormDataContentType(), "origin": "https://www.example.no", "accept": "application/json"},
		Body:    base64.StdEncoding.EncodeToString(b.Bytes()), IsBase64Encoded: true}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.DomainName = "skjema.example.no"
	return ev
}

// A post with a PDF: the file is kept in the bucket under the submission's
// id with its retention tag, attached to the staff email, listed in the
// copy, and its download link redirects to the file.
func TestFilePostIsKeptAttachedAndLinked(t *testing.T) {
	integration(t)
	env.ClearEmails(ctx(t))
	h := submitHandler(t, filesConfig(t), env.AWS, slog.New(slog.DiscardHandler))
	resp, err := h.Handle(ctx(t), filePost(t, "CV Kari.pdf", samplePDF))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Handle = %d %v: %s", resp.StatusCode, err, resp.Body)
	}
	var ans struct{ ID string }
	json.Unmarshal([]byte(resp.Body), &ans)

	key := "files/" + ans.ID + "/0"
	s3c := s3.NewFromConfig(env.AWS)
	obj, err := s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("file not kept at %s: %v", key, err)
	}
	data, _ := io.ReadAll(obj.Body)
	if string(data) != samplePDF {
		t.Errorf("kept %q", data)
	}
	tags, err := s3c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "kontakt-retention" || aws.ToString(tags.TagSet[0].Value) != "30" {
		t.Errorf("tags %+v, %v; want kontakt-retention=30", tags, err)
	}

	emails, err := env.Emails(ctx(t))
	if err != nil || len(emails) != 1 {
		t.Fatalf("%d emails, %v", len(emails), err)
	}
	e := emails[0]
	if len(e.Attachments) != 1 || e.Attachments[0].Filename != "CV Kari.pdf" {
		t.Fatalf("attachments %+v", e.Attachments)
	}
	if got, _ := base64.StdEncoding.DecodeString(e.Attachments[0].Content); string(got) != samplePDF {
		t.Errorf("attached %q", got)
	}
	if !strings.Contains(e.Body.Text, "Vedlegg (1)") || !strings.Contains(e.Body.Text, "CV Kari.pdf (application/pdf") {
		t.Errorf("the email does not list the file:\n%s", e.Body.Text)
	}

	c, err := (&dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).Get(ctx(t), ans.ID)
	if err != nil || c == nil || len(c.Submission.Files) != 1 || c.Submission.Files[0].Key != key {
		t.Fatalf("copy %+v, %v", c, err)
	}

	// The link staff would follow (the email attached this one; the link
	// exists for every file).
	f := c.Submission.Files[0]
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/f/contact/files/" + ans.ID + "/0", Headers: map[string]string{"accept": "text/html"},
		QueryStringParameters: map[string]string{"t": f.Token}}
	ev.RequestContext.HTTP.Method = "GET"
	link, _ := h.Handle(ctx(t), ev)
	if link.StatusCode != 303 {
		t.Fatalf("download link = %d: %s", link.StatusCode, link.Body)
	}
	got, err := http.Get(link.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	body, _ := io.ReadAll(got.Body)
	if got.StatusCode != 200 || string(body) != samplePDF {
		t.Errorf("presigned download = %d %q", got.StatusCode, body)
	}
	ev.QueryStringParameters["t"] = "guessed"
	if wrong, _ := h.Handle(ctx(t), ev); wrong.StatusCode != 404 {
		t.Errorf("a guessed token = %d, want 404", wrong.StatusCode)
	}
}

// When SES is down the copy is stored with its file; redrive later sends
// the email with the same attachment, read back from the bucket.
func TestRedriveAttachesTheSameFile(t *testing.T) {
	integration(t)
	env.ClearEmails(ctx(t))
	cfg := filesConfig(t)
	t.Run("posted while SES is down", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_SES", "http://127.0.0.1:1")
		t.Setenv("AWS_MAX_ATTEMPTS", "1")
		down, err := app.AWSConfig(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := submitHandler(t, cfg, down, slog.New(slog.DiscardHandler)).Handle(ctx(t), filePost(t, "faktura.pdf", samplePDF))
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	})
	awsCfg, err := app.AWSConfig(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	svc := redriveapp.Service(&config.Redrive{Config: cfg, MaxAttempts: 5, Release: 10}, redriveapp.NewClients(awsCfg), slog.New(slog.DiscardHandler), io.Discard, "test")
	svc.Now = func() time.Time { return time.Now().Add(dynamo.FirstRetryDelay + time.Second) }
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rep redrive.Report
	if rep, err = svc.Run(c); err != nil || rep.Sent < 1 {
		t.Fatalf("redrive = %+v, %v", rep, err)
	}
	emails, _ := env.Emails(ctx(t))
	for _, e := range emails {
		if len(e.Attachments) == 1 && e.Attachments[0].Filename == "faktura.pdf" {
			if got, _ := base64.StdEncoding.DecodeString(e.Attachments[0].Content); string(got) == samplePDF {
				return
			}
		}
	}
	t.Errorf("no re-sent email carries faktura.pdf: %+v", emails)
}
