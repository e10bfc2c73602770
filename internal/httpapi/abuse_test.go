package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/captchatest"
	"github.com/opt-e/kontakt/infra/harness/countertest"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
	kmetrics "github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/submission"
)

var clock = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

// abuseHandler serves the contact form with the given abuse settings (JSON
// members of the form, after its id) and a full guard.
func abuseHandler(t *testing.T, svc *fakeService, formJSON string) (*httpapi.Handler, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "forms.json")
	os.WriteFile(p, []byte(`{"forms":[{"id":"contact","required_fields":["message"]`+formJSON+`}]}`), 0o600)
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			config.EnvTable: "t", config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
			config.EnvAllowedOrigins: "https://www.example.no", config.EnvLanguage: "en", config.EnvFormsFile: p,
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	h, logs := newHandler(t, svc)
	h.Config = cfg
	h.Now = func() time.Time { return clock }
	tokenKey, ipKey, _ := abuse.Keys(strings.Repeat("s", 64))
	var metrics bytes.Buffer
	h.Guard = &abuse.Guard{
		Tokens: abuse.NewTokens(tokenKey), IPKey: ipKey, Counter: &countertest.Counter{},
		Metrics: &kmetrics.EMF{W: &metrics}, Log: h.Log, Now: h.Now,
		Captcha: &abuse.Verifier{Client: http.DefaultClient, Secrets: map[string]string{"kontakt/captcha/test": "s3cret"}, Timeout: 30 * time.Second},
	}
	return h, logs, &metrics
}

func handle(t *testing.T, h *httpapi.Handler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func fromIP(req events.APIGatewayV2HTTPRequest, ip string) events.APIGatewayV2HTTPRequest {
	req.RequestContext.HTTP.SourceIP = ip
	return req
}

func hasProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, field, code, message string) {
	t.Helper()
	if resp.StatusCode != 422 {
		t.Fatalf("status %d, want 422: %s", resp.StatusCode, resp.Body)
	}
	for _, e := range decode(t, resp).Errors {
		if field == submission.FormProblem {
			field = "" // a problem with the form as a whole names no field
		}
		if e.Field == field && e.KontaktCode == code && (message == "" || e.Message == message) && e.Message != "" {
			return
		}
	}
	t.Errorf("no %s/%s %q in %s", field, code, message, resp.Body)
}

// A bot caught by any rule gets exactly what a person gets, and nothing is
// sent or stored.
func TestSpamIsAnsweredLikeSuccess(t *testing.T) {
	ok, _, _ := abuseHandler(t, &fakeService{}, "")
	want := handle(t, ok, post("application/json", `{"message":"hi"}`))
	for _, tc := range []struct{ name, form, body string }{
		{"honeypot", "", `{"message":"hi","_gotcha":"x"}`},
		{"FormSubmit _honey", "", `{"message":"hi","_honey":"x"}`},
		{"Web3Forms botcheck", "", `{"message":"hi","botcheck":"on"}`},
		{"configured honeypot", `,"abuse":{"honeypot":"fax"}`, `{"message":"hi","fax":"123"}`},
		{"missing form token", `,"abuse":{"form_token":{}}`, `{"message":"hi"}`},
		{"content as spam", `,"abuse":{"max_links":0,"content_action":"spam"}`, `{"message":"www.example.com"}`},
		{"honeypot beats field errors", "", `{"email":"not an address","_gotcha":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{}
			h, logs, metrics := abuseHandler(t, svc, tc.form)
			got := handle(t, h, post("application/json", tc.body))
			if got.StatusCode != want.StatusCode || got.Body != want.Body {
				t.Errorf("spam answer %d %s, success %d %s", got.StatusCode, got.Body, want.StatusCode, want.Body)
			}
			if len(svc.got) != 0 {
				t.Error("spam reached the service")
			}
			if !strings.Contains(metrics.String(), `"Blocked":1`) {
				t.Errorf("not counted: %q", metrics)
			}
			if !strings.Contains(logs.String(), `"outcome":"spam"`) {
				t.Errorf("log: %s", logs)
			}
		})
	}
}

// A plain HTML post caught as spam is redirected where a person's would be.
func TestSpamRedirectsLikeSuccess(t *testing.T) {
	h, _, _ := abuseHandler(t, &fakeService{}, "")
	for _, body := range []string{"message=hi", "message=hi&_gotcha=x"} {
		r := handle(t, h, post("application/x-www-form-urlencoded", body+"&_redirect=https%3A%2F%2Fwww.example.no%2Ftakk", "accept", "text/html"))
		if r.StatusCode != 303 || r.Headers["Location"] != "https://www.example.no/takk" {
			t.Errorf("%s: %d %q", body, r.StatusCode, r.Headers["Location"])
		}
	}
	r := handle(t, h, post("application/x-www-form-urlencoded", "_gotcha=x&_next=https%3A%2F%2Fevil.example.com%2F", "accept", "text/html"))
	if r.Headers["Location"] != "" {
		t.Errorf("spam redirected to a foreign site: %q", r.Headers["Location"])
	}
}

func TestFormTokenRoute(t *testing.T) {
	get := func(origin string) events.APIGatewayV2HTTPRequest {
		req := post("", "", "origin", origin, "accept", "")
		req.RawPath = "/f/contact/token"
		req.RouteKey = "GET /f/{form}/token"
		req.RequestContext.HTTP.Method = "GET"
		return req
	}
	svc := &fakeService{}
	h, _, _ := abuseHandler(t, svc, `,"abuse":{"form_token":{"min_seconds":5,"max_age_seconds":3600}}`)
	resp := handle(t, h, get("https://www.example.no"))
	var body struct {
		OK        bool
		Token     string
		Field     string
		ExpiresIn int `json:"expires_in"`
	}
	json.Unmarshal([]byte(resp.Body), &body)
	if resp.StatusCode != 200 || !body.OK || body.Token == "" || body.Field != "_t" || body.ExpiresIn != 3600 {
		t.Fatalf("token answer %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.no" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %v", resp.Headers)
	}

	submit := func(at time.Time) events.APIGatewayV2HTTPResponse {
		h.Guard.(*abuse.Guard).Now = func() time.Time { return at }
		return handle(t, h, post("application/json", `{"message":"hi","_t":"`+body.Token+`"}`, "accept-language", "nb"))
	}
	if r := submit(clock.Add(2 * time.Second)); r.StatusCode != 200 || len(svc.got) != 0 {
		t.Fatalf("posted 2 s after issue: %d, accepted %d; want a spam answer", r.StatusCode, len(svc.got))
	}
	if r := submit(clock.Add(2 * time.Hour)); len(svc.got) != 0 {
		t.Fatalf("expired token accepted")
	} else {
		hasProblem(t, r, "_form", abuse.CodeFormExpired, "Skjemaet er utløpt. Last inn siden på nytt og send igjen.")
	}
	if r := submit(clock.Add(time.Minute)); r.StatusCode != 200 || len(svc.got) != 1 {
		t.Fatalf("posted a minute after issue: %d %s", r.StatusCode, r.Body)
	}
	for _, f := range svc.got[0].Fields {
		if f.Name == "_t" {
			t.Error("the token was kept as content")
		}
	}

	t.Run("refusals", func(t *testing.T) {
		bad := get("https://evil.example.com")
		if r := handle(t, h, bad); r.StatusCode != 403 || decode(t, r).Error != httpapi.CodeOriginNotAllowed {
			t.Errorf("foreign origin: %d %s", r.StatusCode, r.Body)
		}
		postToken := get("https://www.example.no")
		postToken.RequestContext.HTTP.Method = "POST"
		if r := handle(t, h, postToken); r.StatusCode != 405 || r.Headers["Allow"] != "GET" {
			t.Errorf("POST: %d %v", r.StatusCode, r.Headers)
		}
		off, _, _ := abuseHandler(t, &fakeService{}, "")
		if r := handle(t, off, get("https://www.example.no")); r.StatusCode != 404 || decode(t, r).Error != httpapi.CodeFormTokenOff {
			t.Errorf("tokens off: %d %s", r.StatusCode, r.Body)
		}
		// Without a route parameter the form id comes from the path.
		noParam := get("https://www.example.no")
		noParam.PathParameters = nil
		if r := handle(t, h, noParam); r.StatusCode != 200 {
			t.Errorf("catch-all route: %d %s", r.StatusCode, r.Body)
		}
	})
}

func TestRequireOrigin(t *testing.T) {
	bare := post("application/json", `{"message":"hi"}`, "origin", "")
	for _, tc := range []struct {
		name, form string
		req        events.APIGatewayV2HTTPRequest
		status     int
		code       string
	}{
		{"neither header, default", "", bare, 200, ""},
		{"neither header, required", `,"abuse":{"require_origin":true}`, bare, 403, httpapi.CodeOriginRequired},
		{"referer on an allowed origin, required", `,"abuse":{"require_origin":true}`, post("application/json", `{"message":"hi"}`, "origin", "", "referer", "https://www.example.no/kontakt"), 200, ""},
		{"origin not allowed", "", post("application/json", `{"message":"hi"}`, "origin", "https://evil.example.com"), 403, httpapi.CodeOriginNotAllowed},
		{"referer not allowed", "", post("application/json", `{"message":"hi"}`, "origin", "", "referer", "https://evil.example.com/kontakt"), 403, httpapi.CodeRefererNotAllowed},
		{"referer not a URL", "", post("application/json", `{"message":"hi"}`, "origin", "", "referer", "kontakt"), 403, httpapi.CodeRefererNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{}
			h, _, _ := abuseHandler(t, svc, tc.form)
			r := handle(t, h, tc.req)
			if r.StatusCode != tc.status || (tc.status == 200) != (len(svc.got) == 1) {
				t.Fatalf("status %d, accepted %d: %s", r.StatusCode, len(svc.got), r.Body)
			}
			if tc.status == 403 {
				b := decode(t, r)
				if b.Message == "" || b.Error != tc.code {
					t.Errorf("want error %q with a message: %s", tc.code, r.Body)
				}
			}
		})
	}
}

func TestContentRulesThroughTheHandler(t *testing.T) {
	svc := &fakeService{}
	h, _, _ := abuseHandler(t, svc, `,"abuse":{"max_links":1,"blocked_phrases":["seo services"],"field_formats":{"phone":"phone"}}`)
	r := handle(t, h, post("application/json", `{"name":"We offer SEO services","phone":"ring meg","message":"https://a.example https://b.example"}`, "accept-language", "nb"))
	hasProblem(t, r, "name", abuse.CodeBlocked, "Feltet inneholder tekst som ikke tas imot her.")
	hasProblem(t, r, "phone", abuse.CodeInvalidPhone, "Skriv telefonnummeret med sifre, mellomrom og eventuelt +.")
	hasProblem(t, r, "_form", abuse.CodeTooManyLinks, "Meldingen har for mange lenker (høyst 1).")
	if strings.Contains(r.Body, "seo services") {
		t.Error("the answer reveals the blocked phrase")
	}
	// With a field error too, both come in one answer.
	r = handle(t, h, post("application/json", `{"phone":"x"}`, "accept-language", "en"))
	hasProblem(t, r, "phone", abuse.CodeInvalidPhone, "Write the phone number with digits, spaces and an optional +.")
	hasProblem(t, r, "message", "required", "")
	if r := handle(t, h, post("application/json", `{"phone":"+47 22 33 44 55","message":"Hei, se https://www.example.no"}`)); r.StatusCode != 200 {
		t.Errorf("a normal message: %d %s", r.StatusCode, r.Body)
	}
	if len(svc.got) != 1 {
		t.Errorf("accepted %d, want only the normal message", len(svc.got))
	}
}

func TestFieldAliases(t *testing.T) {
	html := func(body string) events.APIGatewayV2HTTPRequest {
		return post("application/x-www-form-urlencoded", body, "accept", "text/html")
	}
	t.Run("Formspark _redirect", func(t *testing.T) {
		h, _, _ := abuseHandler(t, &fakeService{}, "")
		r := handle(t, h, html("message=hi&_redirect=https%3A%2F%2Fwww.example.no%2Ftakk"))
		if r.StatusCode != 303 || r.Headers["Location"] != "https://www.example.no/takk" {
			t.Errorf("%d %v", r.StatusCode, r.Headers)
		}
		r = handle(t, h, html("message=hi&_redirect=https%3A%2F%2Fevil.example.com%2F"))
		if r.StatusCode != 422 {
			t.Errorf("foreign _redirect: %d", r.StatusCode)
		}
	})
	body := "message=hi&subject=Tilbud&replyto=kari%40example.no&redirect=https%3A%2F%2Fwww.example.no%2Ftakk"
	t.Run("Web3Forms names on a form that opts in", func(t *testing.T) {
		svc := &fakeService{}
		h, _, _ := abuseHandler(t, svc, `,"web3forms_fields":true`)
		r := handle(t, h, html(body))
		if r.StatusCode != 303 || r.Headers["Location"] != "https://www.example.no/takk" {
			t.Fatalf("%d %v %s", r.StatusCode, r.Headers, r.Body)
		}
		s := svc.got[0]
		if s.Subject != "Tilbud" || s.ReplyTo != "kari@example.no" || len(s.Fields) != 1 {
			t.Errorf("subject %q reply-to %q fields %v", s.Subject, s.ReplyTo, s.Fields)
		}
	})
	t.Run("the same names are content elsewhere", func(t *testing.T) {
		svc := &fakeService{}
		h, _, _ := abuseHandler(t, svc, "")
		handle(t, h, html(body))
		s := svc.got[0]
		if s.Subject != "" || s.ReplyTo != "" || names(s.Fields) != "message,subject,replyto,redirect" {
			t.Errorf("subject %q reply-to %q fields %v", s.Subject, s.ReplyTo, s.Fields)
		}
	})
}

func names(fs []submission.Field) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, ",")
}

// The limit counts the source IP API Gateway saw; X-Forwarded-For is the
// client's word and changes nothing.
func TestRateLimitThroughTheHandler(t *testing.T) {
	svc := &fakeService{}
	h, logs, _ := abuseHandler(t, svc, `,"abuse":{"rate_limit":{"per_ip":2,"per_form":3}}`)
	send := func(ip, forwarded string) events.APIGatewayV2HTTPResponse {
		return handle(t, h, fromIP(post("application/json", `{"message":"hi"}`, "x-forwarded-for", forwarded, "accept-language", "nb"), ip))
	}
	for i, xff := range []string{"203.0.113.1", "203.0.113.2"} {
		if r := send("198.51.100.7", xff); r.StatusCode != 200 {
			t.Fatalf("post %d: %d", i, r.StatusCode)
		}
	}
	r := send("198.51.100.7", "203.0.113.3")
	if r.StatusCode != 429 || r.Headers["Retry-After"] != "30" {
		t.Fatalf("third post: %d Retry-After %q, want 429 after 30 s", r.StatusCode, r.Headers["Retry-After"])
	}
	if b := decode(t, r); b.OK || b.Message != "Det er sendt mange meldinger på kort tid. Vent litt og prøv igjen." {
		t.Errorf("body %s", r.Body)
	}
	if r := send("198.51.100.8", ""); r.StatusCode != 200 {
		t.Fatalf("another address: %d", r.StatusCode)
	}
	// Over the form's ceiling a new address is not refused: its post is
	// held (stored, emailed later) and answered 202.
	r = send("198.51.100.9", "")
	if b := decode(t, r); r.StatusCode != 202 || b.Status != "queued" || !b.OK {
		t.Fatalf("over the form's ceiling: %d %s, want 202 queued", r.StatusCode, r.Body)
	}
	if len(svc.got) != 4 || !svc.got[3].Held || svc.got[2].Held {
		t.Errorf("accepted %d, want 4 with only the last held", len(svc.got))
	}
	for _, ip := range []string{"198.51.100", "203.0.113"} {
		if strings.Contains(logs.String(), ip) {
			t.Errorf("logs hold an IP address")
		}
	}
}

// Captcha through the handler, for every provider: solved is sent; wrong or
// missing is a 422 on the widget's field; a verify server that does not
// answer in time is a 503 with Retry-After and nothing is sent.
func TestCaptchaThroughTheHandler(t *testing.T) {
	for provider, field := range map[string]string{
		config.CaptchaTurnstile:   "cf-turnstile-response",
		config.CaptchaHCaptcha:    "h-captcha-response",
		config.CaptchaRecaptcha:   "g-recaptcha-response",
		config.CaptchaRecaptchaV3: "g-recaptcha-response",
	} {
		t.Run(provider, func(t *testing.T) {
			srv := captchatest.Start(t, provider, "s3cret")
			svc := &fakeService{}
			h, _, metrics := abuseHandler(t, svc, `,"abuse":{"captcha":{"provider":"`+provider+`","secret":"kontakt/captcha/test","verify_url":"`+srv.URL+`"}}`)
			send := func(answer string) events.APIGatewayV2HTTPResponse {
				return handle(t, h, post("application/x-www-form-urlencoded", "message=hi&"+field+"="+answer, "accept-language", "en"))
			}
			if r := send(captchatest.Pass); r.StatusCode != 200 || len(svc.got) != 1 {
				t.Fatalf("solved: %d %s", r.StatusCode, r.Body)
			}
			if got := names(svc.got[0].Fields); got != "message" {
				t.Errorf("content %s: the captcha answer is not content", got)
			}
			hasProblem(t, send("wrong"), field, abuse.CodeCaptchaFailed, "We could not confirm that you are not a robot. Please try again.")
			hasProblem(t, send(""), field, abuse.CodeCaptchaRequired, "Please confirm that you are not a robot.")
			h.Guard.(*abuse.Guard).Captcha.Timeout = 10 * time.Millisecond // the slow server never answers
			r := send(captchatest.Slow)
			if r.StatusCode != 503 || r.Headers["Retry-After"] == "" {
				t.Fatalf("verify server timed out: %d %v", r.StatusCode, r.Headers)
			}
			if b := decode(t, r); b.OK || b.Message != "We could not check your message right now, so it was not sent. Please try again shortly." {
				t.Errorf("timeout body %s", r.Body)
			}
			if len(svc.got) != 1 {
				t.Errorf("accepted %d, want only the solved one", len(svc.got))
			}
			if !strings.Contains(metrics.String(), `"rule":"captcha_unavailable"`) {
				t.Errorf("metrics %s", metrics)
			}
		})
	}
}
