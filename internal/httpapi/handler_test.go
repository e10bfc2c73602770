package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

// fakeService records what reached the domain.
type fakeService struct {
	got     []*submission.Submission
	outcome submission.Outcome
	err     error
	// repeats are the posts asked about with Repeat; firstID, when set,
	// makes them repeats of that post (answered with outcome).
	repeats []*submission.Submission
	firstID string
}

// Repeat answers like the real service for a post repeating firstID.
func (f *fakeService) Repeat(_ context.Context, _ *config.Form, s *submission.Submission) (submission.Outcome, bool, error) {
	f.repeats = append(f.repeats, s)
	if f.err != nil {
		return 0, false, f.err
	}
	if f.firstID == "" {
		return 0, false, nil
	}
	s.ID = f.firstID
	return max(f.outcome, submission.Sent), true, nil
}

// Accept admits like the real service: nothing is accepted past a refusal,
// and a held post is stored only.
func (f *fakeService) Accept(ctx context.Context, _ *config.Form, s *submission.Submission, admit submission.Gate) (submission.Outcome, error) {
	if admit != nil {
		err := admit(ctx)
		if errors.Is(err, submission.ErrHold) {
			s.Held = true
			f.got = append(f.got, s)
			return submission.Stored, nil
		}
		if err != nil {
			return 0, err
		}
	}
	f.got = append(f.got, s)
	if f.err != nil {
		return 0, f.err
	}
	if f.outcome == 0 {
		return submission.Sent, nil
	}
	return f.outcome, nil
}

func testConfig(t testing.TB) *config.Config {
	t.Helper()
	env := map[string]string{
		config.EnvTable:          "t",
		config.EnvSender:         "kontakt@example.no",
		config.EnvRecipients:     "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no,http://localhost:3000",
		config.EnvLanguage:       "en",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Form("contact").RequiredFields = []string{"message"}
	return cfg
}

func newHandler(t testing.TB, svc *fakeService) (*httpapi.Handler, *bytes.Buffer) {
	var logs bytes.Buffer
	return &httpapi.Handler{
		Config:  testConfig(t),
		Service: svc,
		Log:     slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:     func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		NewID:   func() string { return "id-1" },
	}, &logs
}

func loadEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func post(contentType, body string, headers ...string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": contentType, "origin": "https://www.example.no", "accept": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			delete(h, headers[i])
			continue
		}
		h[headers[i]] = headers[i+1]
	}
	if contentType == "" {
		delete(h, "content-type")
	}
	ev := events.APIGatewayV2HTTPRequest{
		RawPath:        "/f/contact",
		Headers:        h,
		Body:           body,
		PathParameters: map[string]string{"form": "contact"},
	}
	ev.RequestContext.HTTP.Method = "POST"
	return ev
}

type errBody struct {
	OK      bool      `json:"ok"`
	Error   string    `json:"error"`
	Message string    `json:"message"`
	Status  string    `json:"status"`
	ID      string    `json:"id"`
	Errors  []problem `json:"errors"`
}

type problem struct {
	Field, Code, Message string
	KontaktCode          string `json:"kontakt_code"`
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) errBody {
	t.Helper()
	var b errBody
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, resp.Body)
	}
	return b
}

func TestSampleEvents(t *testing.T) {
	for _, tc := range []struct {
		file       string
		status     int
		accepted   bool
		location   string
		replyTo    string
		fieldCount int
	}{
		{"submit-json.json", 200, true, "", "kari@example.no", 5},
		{"submit-urlencoded.json", 303, true, "https://www.example.no/takk", "ola@example.no", 2},
		{"submit-multipart.json", 200, true, "", "per@example.no", 3},
		{"honeypot.json", 200, false, "", "", 0},
		{"preflight.json", 204, false, "", "", 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			svc := &fakeService{}
			h, _ := newHandler(t, svc)
			resp, err := h.Handle(context.Background(), loadEvent(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, tc.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, resp.Body)
			}
			if got, want := len(svc.got) == 1, tc.accepted; got != want {
				t.Fatalf("accepted = %v, want %v", got, want)
			}
			if got, want := resp.Headers["Location"], tc.location; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			if got := resp.Headers["Access-Control-Allow-Origin"]; got != "https://www.example.no" {
				t.Errorf("Access-Control-Allow-Origin = %q", got)
			}
			if !tc.accepted {
				return
			}
			s := svc.got[0]
			if got, want := s.ReplyTo, tc.replyTo; got != want {
				t.Errorf("ReplyTo = %q, want %q", got, want)
			}
			if got, want := len(s.Fields), tc.fieldCount; got != want {
				t.Errorf("fields = %d (%v), want %d", got, s.Fields, want)
			}
			for _, f := range s.Fields {
				if strings.HasPrefix(f.Name, "_") {
					t.Errorf("instruction %q kept as content", f.Name)
				}
			}
			if got, want := s.ExpiresAt.Sub(s.ReceivedAt), 30*24*time.Hour; got != want {
				t.Errorf("retention = %v, want %v", got, want)
			}
		})
	}
}

func TestJSONSuccessKeepsFieldOrderAndSubject(t *testing.T) {
	svc := &fakeService{}
	h, _ := newHandler(t, svc)
	resp, _ := h.Handle(context.Background(), loadEvent(t, "submit-json.json"))
	b := decode(t, resp)
	if !b.OK || b.ID != "id-1" || b.Status != "sent" {
		t.Fatalf("body = %+v", b)
	}
	var names []string
	for _, f := range svc.got[0].Fields {
		names = append(names, f.Name)
	}
	// email stays content (the visitor typed it into the form) and is also
	// the Reply-To; _subject is an instruction.
	if got, want := strings.Join(names, ","), "name,email,phone,topic,message"; got != want {
		t.Errorf("field order = %s, want %s", got, want)
	}
	if got, want := svc.got[0].Subject, "Tilbud på nettside"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
}

func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		svc        *fakeService
		status     int
		state      string
		retryAfter string
	}{
		{"sent", &fakeService{outcome: submission.Sent}, 200, "sent", ""},
		{"stored", &fakeService{outcome: submission.Stored}, 202, "queued", ""},
		{"neither", &fakeService{err: submission.ErrUnavailable}, 503, "", httpapi.RetryAfterSeconds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.svc)
			resp, _ := h.Handle(context.Background(), post("application/json", `{"email":"a@example.no","message":"hi"}`))
			if got, want := resp.StatusCode, tc.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if got, want := resp.Headers["Retry-After"], tc.retryAfter; got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			b := decode(t, resp)
			if got, want := b.Status, tc.state; got != want {
				t.Errorf("status field = %q, want %q", got, want)
			}
			if tc.status == 503 && b.OK {
				t.Error("503 must not report the submission as accepted")
			}
		})
	}
}

func TestStoredHTMLPostRedirectsLikeSuccess(t *testing.T) {
	h, _ := newHandler(t, &fakeService{outcome: submission.Stored})
	resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=hi&_next=http%3A%2F%2Flocalhost%3A3000%2Fthanks", "accept", "text/html"))
	if resp.StatusCode != 303 || resp.Headers["Location"] != "http://localhost:3000/thanks" {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Headers["Location"])
	}
}

func TestThankYouPageIsLocalised(t *testing.T) {
	for _, tc := range []struct{ lang, want string }{
		{"nb-NO,nb;q=0.9", "Takk for meldingen"},
		{"en-GB,en;q=0.9", "Thank you for your message"},
		{"de-DE", "Thank you for your message"}, // the form's default (en here)
		{"de;q=1, nn;q=0.5", "Takk for meldingen"},
	} {
		h, _ := newHandler(t, &fakeService{})
		resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=hi", "accept", "text/html", "accept-language", tc.lang))
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, tc.want) {
			t.Errorf("%s: %d %q, want %q", tc.lang, resp.StatusCode, resp.Body, tc.want)
		}
		if !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			t.Errorf("content type %q", resp.Headers["Content-Type"])
		}
	}
}

// Every bad input a visitor or a bot can send gets a clear answer and
// nothing reaches the domain.
func TestBadInput(t *testing.T) {
	many := strings.Repeat("f=x&", 5000)
	huge := `{"message":"` + strings.Repeat("a", 1<<20) + `"}`
	long := `{"message":"` + strings.Repeat("a", config.DefaultMaxFieldLength+1) + `"}`
	get := post("application/json", `{}`)
	get.RequestContext.HTTP.Method = "GET"
	unknown := post("application/json", `{"message":"hi"}`)
	unknown.PathParameters["form"] = "nope"
	preflightBad := post("", "", "origin", "https://evil.example.com")
	preflightBad.RequestContext.HTTP.Method = "OPTIONS"
	badB64 := post("application/json", "!!!")
	badB64.IsBase64Encoded = true

	for _, tc := range []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		field  string // field named in a 422, if any
		code   string // kontakt's: the problem's in a 422, else the error's
		// formspree is the Formspree code of the 422's problem or of the
		// single form-level item.
		formspree string
	}{
		{"malformed json", post("application/json", `{"message": "hi"`), 400, "", httpapi.CodeMalformedJSON, ""},
		{"json array", post("application/json", `["hi"]`), 400, "", httpapi.CodeMalformedJSON, ""},
		{"json nested object", post("application/json", `{"message":{"a":1}}`), 400, "", httpapi.CodeNestedValue, ""},
		{"json trailing data", post("application/json", `{"message":"hi"} {}`), 400, "", httpapi.CodeMalformedJSON, ""},
		{"wrong content type", post("text/plain", "message=hi"), 415, "", httpapi.CodeContentType, ""},
		{"no content type", post("", "message=hi"), 415, "", httpapi.CodeContentType, ""},
		{"other charset", post("application/x-www-form-urlencoded; charset=iso-8859-1", "message=hi"), 415, "", httpapi.CodeCharset, ""},
		{"multipart file", post("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nx\r\n--b--\r\n"), 415, "", httpapi.CodeFileUpload, "NO_FILE_UPLOADS"},
		{"multipart broken", post("multipart/form-data; boundary=b", "--b\r\nbroken"), 400, "", httpapi.CodeMalformedBody, ""},
		{"multipart no boundary", post("multipart/form-data", "x"), 400, "", httpapi.CodeMalformedBody, ""},
		{"body over limit", post("application/json", huge), 413, "", httpapi.CodeTooLarge, ""},
		{"base64 body over limit", func() events.APIGatewayV2HTTPRequest {
			r := post("application/json", base64.StdEncoding.EncodeToString([]byte(huge)))
			r.IsBase64Encoded = true
			return r
		}(), 413, "", httpapi.CodeTooLarge, ""},
		{"broken base64", badB64, 400, "", httpapi.CodeMalformedBody, ""},
		{"thousands of fields", post("application/x-www-form-urlencoded", many+"message=hi"), 422, submission.FormProblem, submission.CodeTooManyFields, ""},
		{"field over length", post("application/json", long), 422, "message", submission.CodeTooLong, ""},
		{"invalid utf-8 json", post("application/json", "{\"message\":\"\xff\xfe\"}"), 400, "", httpapi.CodeMalformedJSON, ""},
		{"invalid utf-8 urlencoded", post("application/x-www-form-urlencoded", "message=%ff%fe"), 422, "message", submission.CodeInvalidChars, "TYPE_TEXT"},
		{"broken percent escape", post("application/x-www-form-urlencoded", "message=%zz"), 400, "", httpapi.CodeMalformedBody, ""},
		{"nul byte", post("application/json", `{"message":"a\u0000b"}`), 422, "message", submission.CodeInvalidChars, "TYPE_TEXT"},
		{"nul byte in name", post("application/json", `{"mess\u0000age":"x","message":"hi"}`), 422, submission.FormProblem, submission.CodeBadName, ""},
		{"crlf in reply address", post("application/json", `{"message":"hi","email":"a@example.no\r\nBcc: b@example.com"}`), 422, "email", submission.CodeInvalidEmail, "TYPE_EMAIL"},
		{"crlf in _replyto", post("application/json", `{"message":"hi","_replyto":"a@example.no\r\nBcc: b@example.com"}`), 422, "_replyto", submission.CodeInvalidChars, "TYPE_TEXT"},
		{"two reply addresses", post("application/json", `{"message":"hi","email":"a@example.no, b@example.com"}`), 422, "email", submission.CodeOneAddress, "TYPE_EMAIL"},
		{"name with comma and address", post("application/json", `{"message":"hi","email":"\"Kari, <b@example.com>\" <a@example.no>, c@example.com"}`), 422, "email", submission.CodeOneAddress, "TYPE_EMAIL"},
		{"not an address", post("application/json", `{"message":"hi","email":"kari"}`), 422, "email", submission.CodeInvalidEmail, "TYPE_EMAIL"},
		{"required missing", post("application/json", `{"name":"Kari"}`), 422, "message", submission.CodeRequired, "REQUIRED_FIELD_MISSING"},
		{"required blank", post("application/json", `{"message":"   "}`), 422, "message", submission.CodeRequired, "REQUIRED_FIELD_EMPTY"},
		{"_next foreign origin", post("application/json", `{"message":"hi","_next":"https://evil.example.com/"}`), 422, "_next", submission.CodeBadRedirect, ""},
		{"_next javascript", post("application/json", `{"message":"hi","_next":"javascript:alert(1)"}`), 422, "_next", submission.CodeBadRedirect, ""},
		{"_next protocol relative", post("application/json", `{"message":"hi","_next":"//evil.example.com/"}`), 422, "_next", submission.CodeBadRedirect, ""},
		{"_next lookalike host", post("application/json", `{"message":"hi","_next":"https://www.example.no.evil.com/"}`), 422, "_next", submission.CodeBadRedirect, ""},
		{"_next with userinfo", post("application/json", `{"message":"hi","_next":"https://www.example.no@evil.com/"}`), 422, "_next", submission.CodeBadRedirect, ""},
		{"origin not allowed", post("application/json", `{"message":"hi"}`, "origin", "https://evil.example.com"), 403, "", httpapi.CodeOriginNotAllowed, "BLOCKED"},
		{"origin null", post("application/json", `{"message":"hi"}`, "origin", "null"), 403, "", httpapi.CodeOriginNotAllowed, "BLOCKED"},
		{"referer not allowed", post("application/json", `{"message":"hi"}`, "origin", "", "referer", "https://evil.example.com/form"), 403, "", httpapi.CodeRefererNotAllowed, "BLOCKED"},
		{"unknown form", unknown, 404, "", httpapi.CodeUnknownForm, "FORM_NOT_FOUND"},
		{"GET", get, 405, "", httpapi.CodeMethodNotAllowed, ""},
		{"preflight from disallowed origin", preflightBad, 403, "", httpapi.CodeOriginNotAllowed, "BLOCKED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{}
			h, _ := newHandler(t, svc)
			resp, err := h.Handle(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, tc.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, resp.Body)
			}
			if len(svc.got) != 0 {
				t.Fatal("a refused request reached the service")
			}
			b := decode(t, resp)
			if b.OK || b.Message == "" || b.Error == "" {
				t.Errorf("error body lacks a clear message: %s", resp.Body)
			}
			if tc.status == 405 && resp.Headers["Allow"] != "POST, OPTIONS" {
				t.Errorf("405 without Allow: %v", resp.Headers)
			}
			if tc.status == 403 && resp.Headers["Access-Control-Allow-Origin"] != "" {
				t.Errorf("403 carries CORS header %q", resp.Headers["Access-Control-Allow-Origin"])
			}
			if tc.status != 422 {
				if len(b.Errors) != 1 || b.Error != tc.code || b.Errors[0] != (problem{KontaktCode: tc.code, Code: tc.formspree, Message: b.Message}) {
					t.Errorf("want error %q and one item with Formspree code %q and the message: %s", tc.code, tc.formspree, resp.Body)
				}
				return
			}
			if b.Error != httpapi.CodeValidation {
				t.Errorf("error = %q, want %q", b.Error, httpapi.CodeValidation)
			}
			field := tc.field
			if field == submission.FormProblem {
				field = "" // a problem with the form as a whole names no field
			}
			for _, e := range b.Errors {
				if e.Field == field && e.KontaktCode == tc.code && e.Code == tc.formspree && e.Message != "" {
					return
				}
			}
			t.Errorf("no %s/%s/%q problem in %s", tc.field, tc.code, tc.formspree, resp.Body)
		})
	}
}

func TestRecipientFieldsAreOnlyContent(t *testing.T) {
	svc := &fakeService{}
	h, _ := newHandler(t, svc)
	resp, _ := h.Handle(context.Background(), post("application/json",
		`{"message":"hi","to":"x@evil.example.com","recipient":"y@evil.example.com","_cc":"z@evil.example.com","_bcc":"w@evil.example.com"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var names []string
	for _, f := range svc.got[0].Fields {
		names = append(names, f.Name)
	}
	if got, want := strings.Join(names, ","), "message,to,recipient"; got != want {
		t.Errorf("content fields = %s, want %s (_cc/_bcc are dropped)", got, want)
	}
}

func TestValidationMessagesAreLocalised(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	resp, _ := h.Handle(context.Background(), post("application/json", `{"email":"kari"}`, "accept-language", "nb"))
	b := decode(t, resp)
	want := map[string]string{"email": "Skriv inn en gyldig e-postadresse.", "message": "Dette feltet må fylles ut."}
	for _, e := range b.Errors {
		if want[e.Field] != e.Message {
			t.Errorf("%s: %q, want %q", e.Field, e.Message, want[e.Field])
		}
		delete(want, e.Field)
	}
	if len(want) != 0 {
		t.Errorf("missing problems %v in %s", want, resp.Body)
	}
}

func TestHTMLErrorPageListsFieldsEscaped(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "%3Cb%3Ex=%00",
		"accept", "text/html", "referer", "https://www.example.no/kontakt"))
	if resp.StatusCode != 422 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if strings.Contains(resp.Body, "<b>x") || !strings.Contains(resp.Body, "&lt;b&gt;x") {
		t.Errorf("field name not escaped: %s", resp.Body)
	}
	if !strings.Contains(resp.Body, `href="https://www.example.no/kontakt"`) {
		t.Errorf("no way back to the form: %s", resp.Body)
	}
}

func TestPreflightAllowedOrigin(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	req := post("", "", "origin", "http://localhost:3000", "access-control-request-method", "POST")
	req.RequestContext.HTTP.Method = "OPTIONS"
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != 204 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "http://localhost:3000",
		"Access-Control-Allow-Methods": "POST, OPTIONS",
	} {
		if got := resp.Headers[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(resp.Headers["Access-Control-Allow-Headers"], "content-type") {
		t.Errorf("Allow-Headers = %q", resp.Headers["Access-Control-Allow-Headers"])
	}
}

func TestLogsCarryNoPersonalData(t *testing.T) {
	for _, svc := range []*fakeService{{}, {outcome: submission.Stored}, {err: submission.ErrUnavailable}} {
		h, logs := newHandler(t, svc)
		h.Handle(context.Background(), post("application/json", `{"name":"Kari Nordmann","email":"kari@example.no","message":"Hemmelig melding"}`, "referer", "https://www.example.no/x"))
		h.Handle(context.Background(), post("application/json", `{"name":"Kari Nordmann","email":"kari"}`))
		out := logs.String()
		if out == "" {
			t.Fatal("nothing logged")
		}
		for _, pii := range []string{"Kari", "kari@example.no", "Hemmelig"} {
			if strings.Contains(out, pii) {
				t.Errorf("log contains %q: %s", pii, out)
			}
		}
	}
}

func TestConsent(t *testing.T) {
	consentForm := func(h *httpapi.Handler, required bool) {
		f := h.Config.Form("contact")
		f.ConsentField = "consent"
		f.ConsentRequired = required
		f.ConsentOnlyFields = []string{"phone", "email"}
		f.PolicyVersion = "2026-01"
	}
	t.Run("missing consent on a form that requires it is 422", func(t *testing.T) {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		consentForm(h, true)
		resp, _ := h.Handle(context.Background(), post("application/json", `{"message":"hi","phone":"123"}`, "accept-language", "nb"))
		if resp.StatusCode != 422 || len(svc.got) != 0 {
			t.Fatalf("status %d, accepted %d", resp.StatusCode, len(svc.got))
		}
		b := decode(t, resp)
		if len(b.Errors) != 1 || b.Errors[0].Field != "consent" || b.Errors[0].KontaktCode != submission.CodeConsent || b.Errors[0].Code != "REQUIRED_FIELD_MISSING" || b.Errors[0].Message != "Du må samtykke for å sende skjemaet." {
			t.Errorf("errors = %+v", b.Errors)
		}
	})
	t.Run("consent-only fields are dropped without consent", func(t *testing.T) {
		for _, body := range []string{
			`{"message":"hi","phone":"123","email":"kari@example.no"}`,
			`{"message":"hi","phone":"123","email":"kari@example.no","consent":""}`,
			`{"message":"hi","phone":"123","email":"kari@example.no","consent":"false"}`,
		} {
			svc := &fakeService{}
			h, _ := newHandler(t, svc)
			consentForm(h, false)
			resp, _ := h.Handle(context.Background(), post("application/json", body))
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d: %s", body, resp.StatusCode, resp.Body)
			}
			s := svc.got[0]
			if len(s.Fields) != 1 || s.Fields[0].Name != "message" || s.ReplyTo != "" {
				t.Errorf("%s: kept %+v, reply-to %q", body, s.Fields, s.ReplyTo)
			}
			if len(s.Consents) != 1 || s.Consents[0].Given || s.Consents[0].PolicyVersion != "2026-01" || s.Consents[0].Purpose != "optional_details" {
				t.Errorf("%s: consent evidence %+v", body, s.Consents)
			}
		}
	})
	t.Run("evidence with consent", func(t *testing.T) {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		consentForm(h, true)
		resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=hi&phone=123&consent=on"))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		s := svc.got[0]
		c := s.ConsentFor("optional_details")
		if c == nil || !c.Given || c.Field != "consent" || c.Value != "on" || c.PolicyVersion != "2026-01" || !c.At.Equal(s.ReceivedAt) {
			t.Fatalf("evidence = %+v", c)
		}
		if len(s.Fields) != 2 {
			t.Errorf("fields = %+v, want message and phone (consent is evidence, not content)", s.Fields)
		}
	})
}

// One log line per request; an accepted submission's carries its id (the
// service logs nothing more on success), a refused or honeypot one none.
func TestOneLogLinePerRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantID     string
		outcome    string
	}{
		{"accepted", `{"email":"kari@example.no","message":"hi"}`, "id-1", "sent"},
		{"honeypot", `{"message":"hi","_gotcha":"bot"}`, "", "spam"},
		{"invalid", `{"email":"kari"}`, "", "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := newHandler(t, &fakeService{})
			h.Handle(context.Background(), post("application/json", tc.body))
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines: %s", len(lines), logs.String())
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatal(err)
			}
			id, hasID := line["submission_id"]
			if tc.wantID == "" && hasID || tc.wantID != "" && id != tc.wantID || line["outcome"] != tc.outcome {
				t.Errorf("log line %s; want submission_id %q, outcome %q", lines[0], tc.wantID, tc.outcome)
			}
		})
	}
}

// A form that names its privacy policy links it, with its version, from
// the built-in thank-you page.
func TestThanksPageLinksThePolicy(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	f := h.Config.Form("contact")
	f.PrivacyPolicyURL, f.PolicyVersion = "https://www.example.no/personvern", "2026-03"
	resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=hi", "accept", "text/html", "accept-language", "en"))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<a href="https://www.example.no/personvern">Our privacy policy</a> (version 2026-03)`) {
		t.Errorf("thank-you page: %d %s", resp.StatusCode, resp.Body)
	}
}

// An address SES cannot send to is refused at once, in the visitor's
// language, rather than answered 202 and given up later; an
// internationalised domain is accepted and sent on in punycode.
func TestAddressesSESCannotSendTo(t *testing.T) {
	for _, tc := range []struct {
		email, lang, code, message string
	}{
		{"kåre@example.no", "nb", submission.CodeEmailNotASCII, "Vi kan ikke sende svar til en adresse med æ, ø, å eller andre spesialtegn foran @. Bruk en annen e-postadresse."},
		{"kåre@example.no", "en", submission.CodeEmailNotASCII, "We cannot reply to an address with letters such as æ, ø or å before the @. Please use another email address."},
		{strings.Repeat("k", 65) + "@example.no", "nb", submission.CodeEmailTooLong, "E-postadressen er for lang (høyst 64 tegn foran @ og 254 i alt)."},
		{strings.Repeat("k", 65) + "@example.no", "en", submission.CodeEmailTooLong, "The email address is too long (at most 64 characters before the @ and 254 in all)."},
		{"kari\u200b@example.no", "en", submission.CodeInvalidChars, "The field contains characters that are not allowed."},
	} {
		svc := &fakeService{}
		h, _ := newHandler(t, svc)
		body, _ := json.Marshal(map[string]string{"message": "Hei", "email": tc.email})
		resp, _ := h.Handle(context.Background(), post("application/json", string(body), "accept-language", tc.lang))
		if resp.StatusCode != 422 || len(svc.got) != 0 {
			t.Fatalf("%q: status %d, %d sent; want 422 and nothing sent", tc.email, resp.StatusCode, len(svc.got))
		}
		b := decode(t, resp)
		if len(b.Errors) != 1 || b.Errors[0].Field != "email" || b.Errors[0].KontaktCode != tc.code || b.Errors[0].Message != tc.message {
			t.Errorf("%q (%s): errors %+v, want %s: %q", tc.email, tc.lang, b.Errors, tc.code, tc.message)
		}
	}
	svc := &fakeService{}
	h, _ := newHandler(t, svc)
	resp, _ := h.Handle(context.Background(), post("application/json", `{"message":"Hei","email":"kari@bølgen.no"}`))
	if resp.StatusCode != 200 || len(svc.got) != 1 || svc.got[0].ReplyTo != "kari@xn--blgen-vua.no" {
		t.Fatalf("kari@bølgen.no: status %d, sent %+v", resp.StatusCode, svc.got)
	}
}
