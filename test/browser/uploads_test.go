package browser_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"
)

// A 10 MB PDF, more than a post can carry, through kontakt.js: it asks for
// a direct upload, PUTs the file to the presigned URL, posts the form with
// _uploads, and the file is kept under files/ with the upload gone.
func TestScriptSendsALargeFileByDirectUpload(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	pdf, before := fillWithFile(t, ctx, msg, 10<<20)
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"], [data-kontakt-state="error"]`))
	screenshot(t, ctx, "direct-upload")
	if state, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.kontakt-status`), "data-kontakt-state")); state.Value != "success" {
		t.Fatalf("state %q: %s", state.Value, text(t, ctx))
	}
	wantOnePost(t, 200)
	wantEmails(t, msg, 1)

	var kept []string
	for _, k := range objects(t, "files/") {
		if !slices.Contains(before, k) {
			kept = append(kept, k)
		}
	}
	if len(kept) != 1 || !strings.HasSuffix(kept[0], "/0") {
		t.Fatalf("new files kept: %q, want one", kept)
	}
	out, err := files.HeadObject(callCtx(t), &s3.HeadObjectInput{Bucket: aws.String(filesBucket), Key: aws.String(kept[0])})
	must(t, err)
	if got := aws.ToInt64(out.ContentLength); got != int64(len(pdf)) {
		t.Errorf("kept %d bytes, want %d", got, len(pdf))
	}
	if left := objects(t, "uploads/"); len(left) != 0 {
		t.Errorf("uploads left behind: %q", left)
	}
}

// fillWithFile opens the files form with kontakt.js and fills it in with
// msg and a PDF of about size bytes; it returns the PDF and the files kept
// before.
func fillWithFile(t *testing.T, ctx context.Context, msg string, size int) (pdf []byte, before []string) {
	t.Helper()
	pdf = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("kontakt "), size/8)...)
	path := filepath.Join(t.TempDir(), "Søknad.pdf")
	must(t, os.WriteFile(path, pdf, 0o644))
	before = objects(t, "files/")
	open(t, ctx, site+"/form.html?mode=script&files=1")
	must(t, fill(ctx, "Kari Nordmann", "kari@example.no", msg))
	must(t, chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`input[name="cv"]`), []string{path})))
	return pdf, before
}

func objects(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := files.ListObjectsV2(callCtx(t), &s3.ListObjectsV2Input{Bucket: aws.String(filesBucket), Prefix: aws.String(prefix)})
	must(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// Pressed again after a lost answer, a message with a file goes with the
// same key and the same upload: kontakt answers like the first post (the
// upload cannot be claimed twice), staff get one email, one file is kept.
func TestScriptRetryWithAFileAfterALostAnswer(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	_, before := fillWithFile(t, ctx, msg, 100<<10)
	lost.Store(true)
	t.Cleanup(func() { lost.Store(false) }) // should send fail the test
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="error"]`))
	lost.Store(false)
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](clearState)))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"], [data-kontakt-state="error"]`))
	if state, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.kontakt-status`), "data-kontakt-state")); state.Value != "success" {
		t.Fatalf("retry: state %q: %s", state.Value, text(t, ctx))
	}
	if keys := calls.sentKeys(); len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("keys %q, want the same key for the message and its retry", keys)
	}
	wantEmails(t, msg, 1)
	var kept []string
	for _, k := range objects(t, "files/") {
		if !slices.Contains(before, k) {
			kept = append(kept, k)
		}
	}
	if len(kept) != 1 {
		t.Errorf("new files kept: %q, want one", kept)
	}
}
