package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

const pdf = "%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"

// filesHandler serves the contact form with file rules: PDF and text, at
// most 1,000 bytes a file, 1,500 in all, two files.
func filesHandler(t *testing.T, svc *fakeService) *httpapi.Handler {
	h, _ := newHandler(t, svc)
	h.Config.Form("contact").Files = &config.FileRules{Types: []string{"application/pdf", "text/plain"},
		MaxFileBytes: 1000, MaxTotalBytes: 1500, MaxFiles: 2}
	return h
}

type part struct{ field, filename, content string }

// multipartPost is a browser's multipart post of a message and parts.
func multipartPost(parts ...part) events.APIGatewayV2HTTPRequest {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("message", "Hei, se vedlegget.")
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.filename))
		h.Set("Content-Type", "application/pdf")
		pw, _ := w.CreatePart(h)
		pw.Write([]byte(p.content))
	}
	w.Close()
	return post(w.FormDataContentType(), b.String())
}

func TestFilePostReachesTheServiceSniffedAndNamed(t *testing.T) {
	svc := &fakeService{}
	h := filesHandler(t, svc)
	resp, _ := h.Handle(context.Background(), multipartPost(part{"cv", "../../CV Kari.exe", pdf}, part{"notes", "", ""}))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if len(svc.got) != 1 || len(svc.got[0].Files) != 1 {
		t.Fatalf("service got %+v", svc.got)
	}
	f := svc.got[0].Files[0]
	if f.Field != "cv" || f.Name != "CV Kari.exe.pdf" || f.Type != "application/pdf" || f.Size != int64(len(pdf)) || string(f.Data) != pdf || len(f.Token) < 20 {
		t.Errorf("file = %+v", f)
	}
	if fields := svc.got[0].Fields; len(fields) != 1 || fields[0].Name != "message" {
		t.Errorf("fields = %+v (a file is not a field)", fields)
	}
}

func TestFileRefusals(t *testing.T) {
	tiny := make([]part, 1000)
	for i := range tiny {
		tiny[i] = part{"f", fmt.Sprintf("%d.txt", i), "x"}
	}
	cases := []struct {
		name      string
		parts     []part
		field     string
		code      string
		message   string
		formspree string
	}{
		{"an executable renamed .pdf", []part{{"cv", "cv.pdf", "MZ\x90\x00\x03\x00\x00\x00"}}, "cv", submission.CodeFileType, "This type of file cannot be sent with this form.", ""},
		{"a type the form does not allow", []part{{"cv", "cv.png", "\x89PNG\r\n\x1a\n...."}}, "cv", submission.CodeFileType, "", ""},
		{"a zero-byte file", []part{{"cv", "cv.pdf", ""}}, "cv", submission.CodeFileEmpty, "The file is empty.", ""},
		{"a file over the limit", []part{{"cv", "cv.pdf", pdf + strings.Repeat(" ", 1000)}}, "cv", submission.CodeFileTooLarge, "The file is too large (at most 1 MB).", ""},
		{"1,000 tiny files", tiny, "f", submission.CodeTooManyFiles, "Too many files (at most 2).", ""},
		{"more than all files may be", []part{{"a", "a.pdf", pdf + strings.Repeat(" ", 900)}, {"b", "b.pdf", pdf + strings.Repeat(" ", 900)}}, "b", submission.CodeFilesTooLarge, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := &fakeService{}
			resp, _ := filesHandler(t, svc).Handle(context.Background(), multipartPost(c.parts...))
			if resp.StatusCode != 422 {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			b := decode(t, resp)
			if b.Error != httpapi.CodeValidation || len(b.Errors) == 0 || b.Errors[0].Field != c.field || b.Errors[0].KontaktCode != c.code {
				t.Errorf("answer %+v, want field %s code %s", b, c.field, c.code)
			}
			if c.message != "" && b.Errors[0].Message != c.message {
				t.Errorf("message %q, want %q", b.Errors[0].Message, c.message)
			}
			if len(svc.got) != 0 {
				t.Error("a refused post reached the service")
			}
		})
	}
}

func TestFilePostBodyErrors(t *testing.T) {
	t.Run("a body that ends before its last boundary", func(t *testing.T) {
		svc := &fakeService{}
		ev := multipartPost(part{"cv", "cv.pdf", pdf})
		ev.Body = ev.Body[:len(ev.Body)-40]
		resp, _ := filesHandler(t, svc).Handle(context.Background(), ev)
		if resp.StatusCode != 400 || decode(t, resp).Error != httpapi.CodeMalformedBody || len(svc.got) != 0 {
			t.Errorf("status %d %s; service got %d", resp.StatusCode, resp.Body, len(svc.got))
		}
	})
	t.Run("a part that lies about its size", func(t *testing.T) {
		svc := &fakeService{}
		body := "--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nHei\r\n--b\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\nContent-Length: 3\r\n\r\n" + pdf + "\r\n--b--\r\n"
		resp, _ := filesHandler(t, svc).Handle(context.Background(), post("multipart/form-data; boundary=b", body))
		if resp.StatusCode != 200 || len(svc.got) != 1 || svc.got[0].Files[0].Size != int64(len(pdf)) {
			t.Fatalf("status %d %s: the bytes sent count, not what a header says", resp.StatusCode, resp.Body)
		}
	})
	t.Run("more than a request can carry", func(t *testing.T) {
		svc := &fakeService{}
		resp, _ := filesHandler(t, svc).Handle(context.Background(), multipartPost(part{"cv", "cv.pdf", pdf + strings.Repeat(" ", config.MaxInlineBodyBytes)}))
		if resp.StatusCode != 413 || decode(t, resp).Error != httpapi.CodeTooLarge || len(svc.got) != 0 {
			t.Errorf("status %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("a file on a form that takes none", func(t *testing.T) {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		resp, _ := h.Handle(context.Background(), multipartPost(part{"cv", "cv.pdf", pdf}))
		if b := decode(t, resp); resp.StatusCode != 415 || b.Error != httpapi.CodeFileUpload || b.Errors[0].Code != "NO_FILE_UPLOADS" || len(svc.got) != 0 {
			t.Errorf("status %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("files that could not be kept", func(t *testing.T) {
		svc := &fakeService{err: submission.ErrUnavailable}
		resp, _ := filesHandler(t, svc).Handle(context.Background(), multipartPost(part{"cv", "cv.pdf", pdf}))
		if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
			t.Errorf("status %d %v", resp.StatusCode, resp.Headers)
		}
	})
}

// links is a FileLinks with one copy and its files' scan result.
type links struct {
	copy    *submission.Submission
	err     error
	scan    string
	scanErr error // the scan result cannot be read
}

func (l *links) ScanStatus(context.Context, submission.File) (string, error) {
	return l.scan, l.scanErr
}

func (l *links) Copy(_ context.Context, id string) (*submission.Submission, error) {
	if l.err != nil || l.copy == nil || l.copy.ID != id {
		return nil, l.err
	}
	return l.copy, nil
}

func (l *links) DownloadURL(_ context.Context, f submission.File) (string, error) {
	return "https://bucket.example/" + f.Key + "?X-Amz-Signature=x", nil
}

func TestDownloadLink(t *testing.T) {
	id := strings.Repeat("a", submission.IDLength)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cp := &submission.Submission{ID: id, FormID: "contact", ReceivedAt: now.Add(-time.Hour), ExpiresAt: now.Add(30 * 24 * time.Hour),
		Files: []submission.File{{Name: "cv.pdf", Type: "application/pdf", Key: submission.FileKey(id, 0), Token: "secret-token"}}}
	get := func(l *links, path, token string, at time.Time) events.APIGatewayV2HTTPResponse {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		h.Files = l
		h.ScanFiles = l.scan != "" || l.scanErr != nil
		h.Now = func() time.Time { return at }
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, Headers: map[string]string{"accept": "text/html"},
			QueryStringParameters: map[string]string{"t": token}}
		ev.RequestContext.HTTP.Method = "GET"
		resp, _ := h.Handle(context.Background(), ev)
		return resp
	}
	good := "/f/contact/files/" + id + "/0"
	if resp := get(&links{copy: cp, scan: httpapi.ScanClean}, good, "secret-token", now); resp.StatusCode != 303 {
		t.Errorf("a file the scan found clean: %d", resp.StatusCode)
	}
	// Flagged: withheld for good, said as such (not "expired").
	if resp := get(&links{copy: cp, scan: "THREATS_FOUND"}, good, "secret-token", now); resp.StatusCode != 410 ||
		!strings.Contains(resp.Body, i18n.Text("nb", i18n.FileWithheld, 0)) && !strings.Contains(resp.Body, i18n.Text("en", i18n.FileWithheld, 0)) {
		t.Errorf("a flagged file: %d %s", resp.StatusCode, resp.Body)
	}
	// Not scanned yet: 503 and a minute's wait.
	scanning := &links{copy: cp}
	if resp := func() events.APIGatewayV2HTTPResponse {
		h, _ := newHandler(t, &fakeService{})
		h.Files, h.ScanFiles, h.Now = scanning, true, func() time.Time { return now }
		ev := events.APIGatewayV2HTTPRequest{RawPath: good, Headers: map[string]string{"accept": "application/json"}, QueryStringParameters: map[string]string{"t": "secret-token"}}
		ev.RequestContext.HTTP.Method = "GET"
		resp, _ := h.Handle(context.Background(), ev)
		return resp
	}(); resp.StatusCode != 503 || resp.Headers["Retry-After"] != "60" || decode(t, resp).Error != httpapi.CodeFileScanning {
		t.Errorf("a file not scanned yet: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if resp := get(&links{copy: cp}, good, "secret-token", now); resp.StatusCode != 303 || !strings.HasPrefix(resp.Headers["Location"], "https://bucket.example/files/"+id+"/0") || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("good link: %d %v", resp.StatusCode, resp.Headers)
	}
	for name, c := range map[string]struct {
		l      *links
		path   string
		token  string
		at     time.Time
		status int
	}{
		"wrong token":             {&links{copy: cp}, good, "guess", now, 404},
		"no token":                {&links{copy: cp}, good, "", now, 404},
		"another form's path":     {&links{copy: cp}, "/f/other/files/" + id + "/0", "secret-token", now, 404},
		"no such file":            {&links{copy: cp}, "/f/contact/files/" + id + "/1", "secret-token", now, 404},
		"erased copy":             {&links{}, good, "secret-token", now, 404},
		"a week later":            {&links{copy: cp}, good, "secret-token", now.Add(submission.LinkLifetime), 410},
		"table unavailable":       {&links{err: errors.New("down")}, good, "secret-token", now, 503},
		"not a submission id":     {&links{copy: cp}, "/f/contact/files/x/0", "secret-token", now, 404},
		"not a number of a file":  {&links{copy: cp}, "/f/contact/files/" + id + "/x", "secret-token", now, 404},
		"the scan found a threat": {&links{copy: cp, scan: "THREATS_FOUND"}, good, "secret-token", now, 410},
		"the scan could not scan": {&links{copy: cp, scan: "UNSUPPORTED"}, good, "secret-token", now, 410},
		"scan result unreadable":  {&links{copy: cp, scanErr: errors.New("throttled")}, good, "secret-token", now, 503},
	} {
		if resp := get(c.l, c.path, c.token, c.at); resp.StatusCode != c.status || resp.Headers["Location"] != "" {
			t.Errorf("%s: status %d, want %d (%v)", name, resp.StatusCode, c.status, resp.Headers)
		}
	}
}
