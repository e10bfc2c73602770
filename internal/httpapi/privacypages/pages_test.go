package privacypages_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/httpapi/privacypages"
)

type fakeSelfService struct {
	askErr, confirmErr error
	asked              int
	purposes           []string
	links              []string
	purpose            string // what Check and Confirm find
}

func (f *fakeSelfService) AskFor(_ context.Context, purpose, _, _, _, link string) error {
	f.asked++
	f.purposes = append(f.purposes, purpose)
	f.links = append(f.links, link)
	return f.askErr
}
func (f *fakeSelfService) Check(context.Context, string) (string, error) {
	if f.purpose == "" {
		return erasure.PurposeErasure, nil
	}
	return f.purpose, nil
}
func (f *fakeSelfService) Confirm(context.Context, string) (erasure.Confirmation, error) {
	p := f.purpose
	if p == "" {
		p = erasure.PurposeErasure
	}
	return erasure.Confirmation{RequestID: "ss-1", Purpose: p}, f.confirmErr
}

// The erasure pages' error paths a visitor can reach, each with a clear
// answer and nothing asked of the domain when the request is bad.
func TestErasurePageErrors(t *testing.T) {
	down := errors.New("dynamodb unreachable")
	for _, tc := range []struct {
		name, method, path, contentType, body string
		svc                                   *fakeSelfService
		status                                int
		asked                                 int
		header                                string
	}{
		{"other method", "DELETE", "/erasure", "", "", &fakeSelfService{}, 405, 0, "Allow"},
		{"not an address", "POST", "/erasure", "application/x-www-form-urlencoded", "email=kari", &fakeSelfService{}, 422, 0, ""},
		{"two addresses", "POST", "/erasure", "application/x-www-form-urlencoded", "email=a%40example.no%2Cb%40example.no", &fakeSelfService{}, 422, 0, ""},
		{"body too large", "POST", "/erasure", "application/x-www-form-urlencoded", "email=" + strings.Repeat("a", 5000), &fakeSelfService{}, 413, 0, ""},
		{"unsupported body", "POST", "/erasure", "text/plain", "kari@example.no", &fakeSelfService{}, 415, 0, ""},
		{"ask fails", "POST", "/erasure", "application/x-www-form-urlencoded", "email=kari%40example.no", &fakeSelfService{askErr: down}, 503, 1, "Retry-After"},
		{"confirm fails", "POST", "/erasure/confirm", "application/x-www-form-urlencoded", "token=x", &fakeSelfService{confirmErr: down}, 503, 0, "Retry-After"},
		{"unknown action", "POST", "/privacy", "application/x-www-form-urlencoded", "action=publish&email=kari%40example.no", &fakeSelfService{}, 400, 0, ""},
		{"access: not an address", "POST", "/privacy", "application/x-www-form-urlencoded", "action=access&email=kari", &fakeSelfService{}, 422, 0, ""},
		{"access fails", "POST", "/privacy/confirm", "application/x-www-form-urlencoded", "token=x", &fakeSelfService{confirmErr: down, purpose: erasure.PurposeAccess}, 503, 0, "Retry-After"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &privacypages.Handler{
				Config:  &config.Privacy{PrivacyContact: "personvern@example.no", TokenLifetime: 24 * time.Hour, Language: "nb"},
				Service: tc.svc, Log: slog.New(slog.DiscardHandler),
			}
			ev := events.APIGatewayV2HTTPRequest{RawPath: tc.path, Body: tc.body,
				Headers: map[string]string{"content-type": tc.contentType, "accept": "text/html"}}
			ev.RequestContext.HTTP.Method = tc.method
			resp, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.svc.asked != tc.asked {
				t.Errorf("Ask called %d times, want %d", tc.svc.asked, tc.asked)
			}
			if tc.header != "" && resp.Headers[tc.header] == "" {
				t.Errorf("no %s header", tc.header)
			}
			if !strings.Contains(resp.Body, "Datatilsynet") || !strings.Contains(resp.Body, "personvern@example.no") {
				t.Errorf("error page does not name the privacy contact and Datatilsynet: %s", resp.Body)
			}
		})
	}
}

// The privacy page offers both requests; each form asks for its own
// purpose, access links go to /privacy/confirm, and the page links the
// policy with its version beside the privacy contact and Datatilsynet.
func TestPrivacyPage(t *testing.T) {
	svc := &fakeSelfService{}
	h := &privacypages.Handler{
		Config: &config.Privacy{PrivacyContact: "personvern@example.no", TokenLifetime: 24 * time.Hour, Language: "nb",
			PublicURL: "https://skjema.example.no", PolicyURL: "https://www.example.no/personvern", PolicyVersion: "2026-03"},
		Service: svc, Log: slog.New(slog.DiscardHandler),
	}
	req := func(method, path, body string) events.APIGatewayV2HTTPResponse {
		path, token, _ := strings.Cut(path, "?token=")
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, Body: body, QueryStringParameters: map[string]string{"token": token},
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html", "accept-language": "en"}}
		ev.RequestContext.HTTP.Method = method
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	page := req("GET", "/privacy", "")
	for _, want := range []string{`value="access"`, `value="erasure"`, `action="privacy"`, `href="https://www.example.no/personvern"`, "version 2026-03", "Datatilsynet", "personvern@example.no"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("privacy page lacks %s: %s", want, page.Body)
		}
	}
	if old := req("GET", "/erasure", ""); !strings.Contains(old.Body, `action="erasure"`) || !strings.Contains(old.Body, `id="email"`) {
		t.Errorf("the erasure page changed its form: %s", old.Body)
	}
	a := req("POST", "/privacy", "action=access&email=kari%40example.no")
	e := req("POST", "/erasure", "email=kari%40example.no")
	if a.StatusCode != 202 || e.StatusCode != 202 {
		t.Fatalf("asks: %d %d", a.StatusCode, e.StatusCode)
	}
	if got := strings.Join(svc.purposes, ","); got != "access,erasure" {
		t.Errorf("purposes asked = %s", got)
	}
	if svc.links[0] != "https://skjema.example.no/privacy/confirm" || svc.links[1] != "https://skjema.example.no/erasure/confirm" {
		t.Errorf("links = %q", svc.links)
	}
	svc.purpose = erasure.PurposeAccess
	if c := req("GET", "/privacy/confirm?token=x", ""); c.StatusCode != 200 || !strings.Contains(c.Body, "Send me the copy") {
		t.Errorf("access confirm page: %d %s", c.StatusCode, c.Body)
	}
	if c := req("POST", "/privacy/confirm", "token=x"); c.StatusCode != 200 || !strings.Contains(c.Body, "The copy has been sent") {
		t.Errorf("access confirmed: %d %s", c.StatusCode, c.Body)
	}
}

type tokenService struct{ checkErr error }

func (s tokenService) AskFor(context.Context, string, string, string, string, string) error {
	return nil
}
func (s tokenService) Check(context.Context, string) (string, error) { return "", s.checkErr }
func (s tokenService) Confirm(context.Context, string) (erasure.Confirmation, error) {
	return erasure.Confirmation{}, s.checkErr
}

// The erasure pages answer through the same mapping: codes in JSON, and in
// HTML the reason, the way back and the privacy contact.
func TestErasureErrorsThroughTheSameMapping(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{erasure.ErrTokenInvalid, 400, httpapi.CodeTokenInvalid},
		{erasure.ErrTokenExpired, 410, httpapi.CodeTokenExpired},
		{erasure.ErrTokenUsed, 410, httpapi.CodeTokenUsed},
	} {
		h := &privacypages.Handler{
			Config:  &config.Privacy{PrivacyContact: "personvern@example.no", TokenLifetime: 24 * time.Hour, Language: "nb"},
			Service: tokenService{tc.err}, Log: slog.New(slog.DiscardHandler),
		}
		for _, accept := range []string{"application/json", "text/html"} {
			ev := events.APIGatewayV2HTTPRequest{RawPath: "/erasure/confirm", QueryStringParameters: map[string]string{"token": "t"},
				Headers: map[string]string{"accept": accept}}
			ev.RequestContext.HTTP.Method = "GET"
			resp, _ := h.Handle(context.Background(), ev)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: status %d, want %d", tc.code, accept, resp.StatusCode, tc.status)
				continue
			}
			if accept == "application/json" {
				var b struct {
					Error, Message string
					Errors         []struct{ Message string }
				}
				if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
					t.Fatalf("body is not JSON: %v: %q", err, resp.Body)
				}
				if b.Error != tc.code || len(b.Errors) != 1 || b.Errors[0].Message != b.Message {
					t.Errorf("%s: %s", tc.code, resp.Body)
				}
				continue
			}
			for _, want := range []string{"Lenken kan ikke brukes", `href="../erasure"`, "personvern@example.no", "Datatilsynet"} {
				if !strings.Contains(resp.Body, want) {
					t.Errorf("%s page lacks %q: %s", tc.code, want, resp.Body)
				}
			}
		}
	}
}
