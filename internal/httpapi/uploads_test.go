package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/countertest"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

// fakeUploads keeps upload records as the table does: a claim is one
// conditional write (right form, not claimed, not past its time).
type fakeUploads struct {
	mu      sync.Mutex
	records map[string]*fakeRecord
}

type fakeRecord struct {
	submission.Upload
	claimedBy string
}

func (f *fakeUploads) Create(_ context.Context, u submission.Upload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.records[u.ID]; ok {
		return errors.New("exists")
	}
	f.records[u.ID] = &fakeRecord{Upload: u}
	return nil
}

func (f *fakeUploads) Claim(_ context.Context, id, formID, claimant string, now time.Time) (*submission.Upload, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok || r.FormID != formID || r.claimedBy != "" || !now.Before(r.ClaimUntil) {
		return nil, submission.ErrUploadInvalid
	}
	r.claimedBy = claimant
	u := r.Upload
	return &u, nil
}

func (f *fakeUploads) Forget(_ context.Context, id, claimant string) error {
	f.claimants(id, claimant, func(r *fakeRecord) { r.Name = "" })
	return nil
}

func (f *fakeUploads) Release(_ context.Context, id, claimant string) error {
	f.claimants(id, claimant, func(r *fakeRecord) { r.claimedBy = "" })
	return nil
}

// claimants changes the record of id if claimant holds it.
func (f *fakeUploads) claimants(id, claimant string, change func(*fakeRecord)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.records[id]; ok && r.claimedBy == claimant {
		change(r)
	}
}

// fakeObjects is the bucket: what a browser PUT to a presigned URL lands
// in objects (put), with no signature checked, as an emulator.
type fakeObjects struct {
	mu      sync.Mutex
	objects map[string][]byte
	readErr error
	// presignErr fails PresignUpload (the bucket or its credentials).
	presignErr error
}

func (f *fakeObjects) PresignUpload(_ context.Context, key, contentType string, size int64, lifetime time.Duration) (string, string, map[string]string, error) {
	if f.presignErr != nil {
		return "", "", nil, f.presignErr
	}
	return "https://bucket.example/" + key + "?signed", "PUT", map[string]string{"Content-Type": contentType}, nil
}

func (f *fakeObjects) ReadUpload(_ context.Context, key string, limit int64) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return nil, "", f.readErr
	}
	data, ok := f.objects[key]
	if !ok || int64(len(data)) > limit {
		return nil, "", submission.ErrObjectInvalid
	}
	return data, `"etag"`, nil
}

func (f *fakeObjects) Delete(_ context.Context, keys []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		delete(f.objects, k)
	}
	return nil
}

func (f *fakeObjects) put(key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = data
}

func (f *fakeObjects) has(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.objects[key]
	return ok
}

type uploadRig struct {
	h       *httpapi.Handler
	svc     *fakeService
	records *fakeUploads
	objects *fakeObjects
	now     time.Time
}

// uploadsHandler is filesHandler with direct uploads; ids are random, the
// clock moves with rig.now.
func uploadsHandler(t *testing.T) *uploadRig {
	rig := &uploadRig{svc: &fakeService{}, records: &fakeUploads{records: map[string]*fakeRecord{}},
		objects: &fakeObjects{objects: map[string][]byte{}}, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	rig.h = filesHandler(t, rig.svc)
	rig.h.NewID = submission.NewID
	rig.h.Uploads = &submission.UploadDesk{Uploads: rig.records, Objects: rig.objects, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return rig.now }, Timeout: time.Second, ReadTimeout: time.Second}
	return rig
}

func uploadRequest(form, body string) events.APIGatewayV2HTTPRequest {
	ev := post("application/json", body)
	ev.RawPath = "/f/" + form + "/uploads"
	ev.PathParameters = map[string]string{"form": form}
	return ev
}

type ticket struct {
	OK        bool              `json:"ok"`
	ID        string            `json:"id"`
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// begin asks for an upload and fails the test unless it gets one.
func (rig *uploadRig) begin(t *testing.T, field, name, typ string, size int) ticket {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"field": field, "name": name, "type": typ, "size": size})
	resp, _ := rig.h.Handle(context.Background(), uploadRequest("contact", string(body)))
	if resp.StatusCode != 200 {
		t.Fatalf("upload request: status %d: %s", resp.StatusCode, resp.Body)
	}
	var tk ticket
	if err := json.Unmarshal([]byte(resp.Body), &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// upload asks for an upload of content and puts it where the URL points.
func (rig *uploadRig) upload(t *testing.T, field, name, content string) string {
	tk := rig.begin(t, field, name, "application/pdf", len(content))
	rig.objects.put(submission.UploadKey(tk.ID), []byte(content))
	return tk.ID
}

func (rig *uploadRig) postUploads(ids ...string) events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(map[string]string{"message": "Hei, se vedlegget.", submission.UploadsField: strings.Join(ids, ",")})
	resp, _ := rig.h.Handle(context.Background(), post("application/json", string(body)))
	return resp
}

// An upload that cannot be signed is a 503 with Retry-After: the page
// asks again later.
func TestUploadRequestThatCannotBeSignedIs503(t *testing.T) {
	rig := uploadsHandler(t)
	rig.objects.presignErr = errors.New("no credentials")
	body, _ := json.Marshal(map[string]any{"field": "cv", "name": "a.pdf", "type": "application/pdf", "size": 900})
	resp, _ := rig.h.Handle(context.Background(), uploadRequest("contact", string(body)))
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Errorf("status %d %v: %s", resp.StatusCode, resp.Headers, resp.Body)
	}
}

func TestUploadRequestAnswersAPresignedUpload(t *testing.T) {
	rig := uploadsHandler(t)
	tk := rig.begin(t, "cv", "CV Kari.pdf", "application/pdf", 900)
	if !tk.OK || len(tk.ID) != submission.IDLength || tk.Method != "PUT" || tk.URL != "https://bucket.example/uploads/"+tk.ID+"?signed" ||
		tk.Headers["Content-Type"] != "application/pdf" || !tk.ExpiresAt.Equal(rig.now.Add(submission.UploadURLLifetime)) {
		t.Errorf("ticket %+v", tk)
	}
	r := rig.records.records[tk.ID]
	if r == nil || r.FormID != "contact" || r.Field != "cv" || r.Size != 900 || r.Type != "application/pdf" ||
		!r.ClaimUntil.Equal(rig.now.Add(submission.UploadClaimWindow)) || !r.ExpiresAt.Equal(rig.now.Add(submission.UploadRecordTTL)) {
		t.Errorf("record %+v", r)
	}
	if other := rig.begin(t, "cv", "b.pdf", "application/pdf", 10); other.ID == tk.ID {
		t.Error("two uploads got one id")
	}
}

// A file whose type the browser does not know (File.type empty, or the
// generic bytes type) is judged by its content when it is posted, as a
// plain post of the same file is: allowed content goes through with the
// type it has, other content is file_type then.
func TestUploadOfATypeTheBrowserDoesNotKnow(t *testing.T) {
	for _, declared := range []string{"", submission.UnknownUploadType} {
		rig := uploadsHandler(t)
		tk := rig.begin(t, "cv", "CV Kari", declared, len(pdf))
		if tk.Headers["Content-Type"] != submission.UnknownUploadType {
			t.Errorf("declared %q: the upload is sent as %q, want %q", declared, tk.Headers["Content-Type"], submission.UnknownUploadType)
		}
		rig.objects.put(submission.UploadKey(tk.ID), []byte(pdf))
		if resp := rig.postUploads(tk.ID); resp.StatusCode != 200 || len(rig.svc.got) != 1 || rig.svc.got[0].Files[0].Type != "application/pdf" {
			t.Fatalf("declared %q: status %d: %s; service got %+v", declared, resp.StatusCode, resp.Body, rig.svc.got)
		}
		image := []byte("\x89PNG\r\n\x1a\n0000000000000")
		png := rig.begin(t, "cv", "photo", declared, len(image))
		rig.objects.put(submission.UploadKey(png.ID), image)
		resp := rig.postUploads(png.ID)
		if b := decode(t, resp); resp.StatusCode != 422 || len(b.Errors) != 1 || b.Errors[0].KontaktCode != submission.CodeFileType {
			t.Errorf("declared %q, PNG content: status %d: %s", declared, resp.StatusCode, resp.Body)
		}
	}
}

func TestUploadRequestRefusals(t *testing.T) {
	cases := []struct {
		name, form, body, origin string
		status                   int
		code, field              string
	}{
		{"a declared type the form does not allow", "contact", `{"field":"cv","name":"a.png","size":10,"type":"image/png"}`, "", 422, submission.CodeFileType, "cv"},
		{"larger than a file may be", "contact", `{"field":"cv","name":"a.pdf","size":1001,"type":"application/pdf"}`, "", 422, submission.CodeFileTooLarge, "cv"},
		{"zero bytes", "contact", `{"field":"cv","name":"a.pdf","size":0,"type":"application/pdf"}`, "", 422, submission.CodeFileEmpty, "cv"},
		{"a negative size", "contact", `{"name":"a.pdf","size":-5,"type":"application/pdf"}`, "", 422, submission.CodeFileEmpty, submission.UploadsField},
		{"not JSON", "contact", `name=a.pdf`, "", 400, httpapi.CodeMalformedJSON, ""},
		{"not JSON by its content type", "contact", `name=a.pdf`, "", 415, httpapi.CodeContentType, ""},
		{"a request larger than one file's description", "contact", `{"name":"` + strings.Repeat("a", 5000) + `.pdf","size":10,"type":"application/pdf"}`, "", 413, httpapi.CodeTooLarge, ""},
		{"an origin the form does not allow", "contact", `{"name":"a.pdf","size":10,"type":"application/pdf"}`, "https://evil.example", 403, httpapi.CodeOriginNotAllowed, ""},
		{"an unknown form", "nope", `{"name":"a.pdf","size":10,"type":"application/pdf"}`, "", 404, httpapi.CodeUnknownForm, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rig := uploadsHandler(t)
			ev := uploadRequest(c.form, c.body)
			if c.name == "not JSON by its content type" {
				ev.Headers["content-type"] = "application/x-www-form-urlencoded"
			}
			if c.origin != "" {
				ev.Headers["origin"] = c.origin
			}
			resp, _ := rig.h.Handle(context.Background(), ev)
			b := decode(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status == 422 {
				if len(b.Errors) != 1 || b.Errors[0].KontaktCode != c.code || b.Errors[0].Field != c.field {
					t.Errorf("errors %+v, want %s on %s", b.Errors, c.code, c.field)
				}
			} else if b.Error != c.code {
				t.Errorf("error %q, want %q", b.Error, c.code)
			}
			if len(rig.records.records) != 0 {
				t.Error("a refused upload was recorded")
			}
		})
	}
	t.Run("a form that takes no files", func(t *testing.T) {
		rig := uploadsHandler(t)
		rig.h.Config.Form("contact").Files = nil
		resp, _ := rig.h.Handle(context.Background(), uploadRequest("contact", `{"name":"a.pdf","size":10,"type":"application/pdf"}`))
		if resp.StatusCode != 415 || decode(t, resp).Error != httpapi.CodeFileUpload {
			t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("the preflight", func(t *testing.T) {
		rig := uploadsHandler(t)
		ev := uploadRequest("contact", "")
		ev.RequestContext.HTTP.Method = "OPTIONS"
		resp, _ := rig.h.Handle(context.Background(), ev)
		if resp.StatusCode != 204 || resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.no" {
			t.Errorf("status %d, headers %v", resp.StatusCode, resp.Headers)
		}
	})
}

func TestPostedUploadReachesTheServiceAndIsLetGo(t *testing.T) {
	for _, kind := range []string{"json", "urlencoded", "multipart"} {
		t.Run(kind, func(t *testing.T) {
			rig := uploadsHandler(t)
			id := rig.upload(t, "cv", "../CV Kari.exe", pdf)
			var resp events.APIGatewayV2HTTPResponse
			switch kind {
			case "json":
				resp = rig.postUploads(id)
			case "urlencoded":
				resp, _ = rig.h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=Hei&_uploads="+id))
			case "multipart":
				resp, _ = rig.h.Handle(context.Background(), multipartWithField(t, submission.UploadsField, id))
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			if len(rig.svc.got) != 1 || len(rig.svc.got[0].Files) != 1 {
				t.Fatalf("service got %+v", rig.svc.got)
			}
			f := rig.svc.got[0].Files[0]
			if f.Field != "cv" || f.Name != "CV Kari.exe.pdf" || f.Type != "application/pdf" || f.Size != int64(len(pdf)) ||
				string(f.Data) != pdf || f.Upload != id || f.UploadVersion != `"etag"` || f.Token == "" {
				t.Errorf("file %+v", f)
			}
			for _, fl := range rig.svc.got[0].Fields {
				if fl.Name == submission.UploadsField {
					t.Error("_uploads reached the content")
				}
			}
			if rig.objects.has(submission.UploadKey(id)) {
				t.Error("the upload object was not deleted once the post was accepted")
			}
			if r := rig.records.records[id]; r.Name != "" || r.claimedBy == "" {
				t.Errorf("record after the post: %+v, want claimed, its name forgotten", r)
			}
			if resp := rig.postUploads(id); resp.StatusCode != 422 {
				t.Errorf("the id posted again: status %d", resp.StatusCode)
			}
		})
	}
}

// multipartWithField is a plain form's multipart post with a field.
func multipartWithField(t *testing.T, name, value string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := multipartPost()
	ct := ev.Headers["content-type"]
	boundary := ct[strings.Index(ct, "boundary=")+len("boundary="):]
	ev.Body = strings.Replace(ev.Body, "--"+boundary+"--", "--"+boundary+"\r\nContent-Disposition: form-data; name=\""+name+"\"\r\n\r\n"+value+"\r\n--"+boundary+"--", 1)
	return ev
}

func TestBadUploadIDs(t *testing.T) {
	forged := strings.Repeat("A", submission.IDLength)
	cases := []struct {
		name string
		// ids makes the post's ids from a rig with one good upload.
		ids  func(t *testing.T, rig *uploadRig, good string) []string
		code string
	}{
		{"forged: not an id at all", func(*testing.T, *uploadRig, string) []string { return []string{"../../files/x"} }, submission.CodeUploadInvalid},
		{"forged: an id never handed out", func(*testing.T, *uploadRig, string) []string { return []string{forged} }, submission.CodeUploadInvalid},
		{"reused", func(t *testing.T, rig *uploadRig, good string) []string {
			if resp := rig.postUploads(good); resp.StatusCode != 200 {
				t.Fatalf("first post: %d %s", resp.StatusCode, resp.Body)
			}
			rig.objects.put(submission.UploadKey(good), []byte(pdf)) // even if the PUT is made again
			return []string{good}
		}, submission.CodeUploadInvalid},
		{"expired", func(t *testing.T, rig *uploadRig, good string) []string {
			rig.now = rig.now.Add(submission.UploadClaimWindow)
			return []string{good}
		}, submission.CodeUploadInvalid},
		{"from another form", func(t *testing.T, rig *uploadRig, good string) []string {
			rig.records.records[good].FormID = "other"
			return []string{good}
		}, submission.CodeUploadInvalid},
		{"never uploaded", func(t *testing.T, rig *uploadRig, good string) []string {
			tk := rig.begin(t, "cv", "b.pdf", "application/pdf", 10)
			return []string{tk.ID}
		}, submission.CodeUploadInvalid},
		{"larger than declared (no signature checked)", func(t *testing.T, rig *uploadRig, good string) []string {
			tk := rig.begin(t, "cv", "b.pdf", "application/pdf", len(pdf))
			rig.objects.put(submission.UploadKey(tk.ID), []byte(pdf+"more"))
			return []string{tk.ID}
		}, submission.CodeUploadInvalid},
		{"smaller than declared", func(t *testing.T, rig *uploadRig, good string) []string {
			tk := rig.begin(t, "cv", "b.pdf", "application/pdf", len(pdf))
			rig.objects.put(submission.UploadKey(tk.ID), []byte(pdf[:10]))
			return []string{tk.ID}
		}, submission.CodeUploadInvalid},
		{"larger than the form allows", func(t *testing.T, rig *uploadRig, good string) []string {
			tk := rig.begin(t, "cv", "b.pdf", "application/pdf", 1000)
			rig.objects.put(submission.UploadKey(tk.ID), []byte(pdf+strings.Repeat(" ", 2000)))
			return []string{tk.ID}
		}, submission.CodeUploadInvalid},
		{"zero bytes", func(t *testing.T, rig *uploadRig, good string) []string {
			tk := rig.begin(t, "cv", "b.pdf", "application/pdf", 10)
			rig.objects.put(submission.UploadKey(tk.ID), []byte{})
			return []string{tk.ID}
		}, submission.CodeUploadInvalid},
		{"declared a PDF, is an executable", func(t *testing.T, rig *uploadRig, good string) []string {
			exe := "MZ\x90\x00\x03\x00\x00\x00"
			tk := rig.begin(t, "cv", "cv.pdf", "application/pdf", len(exe))
			rig.objects.put(submission.UploadKey(tk.ID), []byte(exe))
			return []string{tk.ID}
		}, submission.CodeFileType},
		{"more than the form's count", func(t *testing.T, rig *uploadRig, good string) []string {
			return []string{good, rig.upload(t, "cv", "b.pdf", pdf), rig.upload(t, "cv", "c.pdf", pdf)}
		}, submission.CodeTooManyFiles},
		{"more than all files may be", func(t *testing.T, rig *uploadRig, good string) []string {
			big := pdf + strings.Repeat(" ", 900)
			return []string{rig.upload(t, "a", "a.pdf", big), rig.upload(t, "b", "b.pdf", big)}
		}, submission.CodeFilesTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rig := uploadsHandler(t)
			good := rig.upload(t, "cv", "a.pdf", pdf)
			ids := c.ids(t, rig, good)
			accepted := len(rig.svc.got)
			resp := rig.postUploads(ids...)
			if resp.StatusCode != 422 {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			b := decode(t, resp)
			if len(b.Errors) == 0 || b.Errors[len(b.Errors)-1].KontaktCode != c.code {
				t.Fatalf("errors %+v, want %s", b.Errors, c.code)
			}
			if c.code == submission.CodeUploadInvalid && (b.Errors[0].Field != submission.UploadsField || b.Errors[0].Message == "" || b.Errors[0].Message == c.code) {
				t.Errorf("error %+v: want a message on %s", b.Errors[0], submission.UploadsField)
			}
			if len(rig.svc.got) != accepted {
				t.Error("a refused post reached the service")
			}
			// Nothing consumed: every claim was given back.
			for id, r := range rig.records.records {
				if r.claimedBy != "" && !(c.name == "reused" && id == good) {
					t.Errorf("upload %s still claimed after a refused post", id)
				}
			}
		})
	}
}

func TestOneBadUploadGivesTheOthersBack(t *testing.T) {
	rig := uploadsHandler(t)
	good := rig.upload(t, "cv", "a.pdf", pdf)
	if resp := rig.postUploads(good, strings.Repeat("B", submission.IDLength)); resp.StatusCode != 422 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !rig.objects.has(submission.UploadKey(good)) || rig.records.records[good].claimedBy != "" {
		t.Fatal("the good upload was consumed by a refused post")
	}
	if resp := rig.postUploads(good); resp.StatusCode != 200 {
		t.Errorf("the good upload alone: status %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestUploadsOfAPostNotAcceptedAreGivenBack(t *testing.T) {
	rig := uploadsHandler(t)
	id := rig.upload(t, "cv", "a.pdf", pdf)
	rig.svc.err = submission.ErrUnavailable
	if resp := rig.postUploads(id); resp.StatusCode != 503 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if r := rig.records.records[id]; !rig.objects.has(submission.UploadKey(id)) || r.claimedBy != "" || r.Name != "a.pdf" {
		t.Fatal("an upload was consumed by a post that was neither sent nor stored")
	}
	rig.svc.err = nil
	if resp := rig.postUploads(id); resp.StatusCode != 200 {
		t.Errorf("the retry: status %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestUploadReadFailureIs503AndConsumesNothing(t *testing.T) {
	rig := uploadsHandler(t)
	id := rig.upload(t, "cv", "a.pdf", pdf)
	rig.objects.readErr = errors.New("connection refused")
	resp := rig.postUploads(id)
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status %d %v", resp.StatusCode, resp.Headers)
	}
	if rig.records.records[id].claimedBy != "" {
		t.Error("the claim was not given back")
	}
}

func TestUploadsOnAFormWithoutFiles(t *testing.T) {
	rig := uploadsHandler(t)
	id := rig.upload(t, "cv", "a.pdf", pdf)
	rig.h.Config.Form("contact").Files = nil
	resp := rig.postUploads(id)
	if b := decode(t, resp); resp.StatusCode != 422 || b.Errors[0].KontaktCode != submission.CodeUploadInvalid {
		t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
	}
}

// An address that asks for more uploads than its limit allows gets 429
// with Retry-After, and nothing is signed or recorded.
func TestUploadRequestsAreRateLimited(t *testing.T) {
	rig := uploadsHandler(t)
	_, ipKey, _ := abuse.Keys(strings.Repeat("s", 64))
	rig.h.Guard = &abuse.Guard{IPKey: ipKey, Counter: &countertest.Counter{}, Log: rig.h.Log, Now: rig.h.Now}
	form := rig.h.Config.Form("contact")
	limit := form.Abuse.RateLimit.PerIP * form.Files.MaxFiles
	body := `{"field":"cv","name":"a.pdf","size":10,"type":"application/pdf"}`
	for i := range limit {
		if resp, _ := rig.h.Handle(context.Background(), fromIP(uploadRequest("contact", body), "198.51.100.7")); resp.StatusCode != 200 {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	before := len(rig.records.records)
	resp, _ := rig.h.Handle(context.Background(), fromIP(uploadRequest("contact", body), "198.51.100.7"))
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] == "" || decode(t, resp).Error != httpapi.CodeRateLimited {
		t.Fatalf("over the limit: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if len(rig.records.records) != before {
		t.Error("a refused upload request was recorded")
	}
}

// A retry after a lost answer names the uploads its first try holds: with
// its Idempotency-Key it is answered like the first (the service decides
// whether it is a repeat), without one the uploads are refused.
func TestRetryOfAPostWithUploads(t *testing.T) {
	rig := uploadsHandler(t)
	id := rig.upload(t, "cv", "cv.pdf", pdf)
	body := `{"message":"Hei, se vedlegget.","_uploads":"` + id + `","_idempotency_key":"k1"}`
	if resp, _ := rig.h.Handle(context.Background(), post("application/json", body)); resp.StatusCode != 200 {
		t.Fatalf("first try: %d %s", resp.StatusCode, resp.Body)
	}
	first := rig.svc.got[0].ID

	rig.svc.firstID = first
	resp, _ := rig.h.Handle(context.Background(), post("application/json", body))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, first) {
		t.Fatalf("retry with the key: %d %s, want 200 with the first id %s", resp.StatusCode, resp.Body, first)
	}
	if len(rig.svc.got) != 1 || len(rig.svc.repeats) != 1 {
		t.Fatalf("accepted %d, asked to repeat %d; want 1 and 1", len(rig.svc.got), len(rig.svc.repeats))
	}
	if r := rig.svc.repeats[0]; r.IdempotencyKey != "k1" || len(r.Files) != 1 || r.Files[0].Upload != id || r.Files[0].Data != nil {
		t.Errorf("asked to repeat %+v, want the key and the upload by id", r)
	}

	rig.svc.firstID = "" // the service finds no first try for it
	if resp := rig.postUploads(id); resp.StatusCode != 422 || !strings.Contains(resp.Body, submission.CodeUploadInvalid) {
		t.Errorf("not a repeat: %d %s, want 422 upload_invalid", resp.StatusCode, resp.Body)
	}
	rig.svc.err = submission.ErrKeyReused
	if resp, _ := rig.h.Handle(context.Background(), post("application/json", body)); resp.StatusCode != 422 || !strings.Contains(resp.Body, "idempotency_key_reused") {
		t.Errorf("key reused: %d %s", resp.StatusCode, resp.Body)
	}
	rig.svc.err = submission.ErrUnavailable
	if resp, _ := rig.h.Handle(context.Background(), post("application/json", body)); resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Errorf("markers unavailable: %d %v", resp.StatusCode, resp.Headers)
	}
}
