package httpapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/httpapi"
)

// formspreeSuccess reads an answer as @formspree/core does, which takes it
// for a success only when it has a string next and neither error nor
// errors; ok and success say so to other clients, and redirect tells
// kontakt.js whether to follow next. Any other answer fails t.
func formspreeSuccess(t *testing.T, resp events.APIGatewayV2HTTPResponse) (next string, redirect bool) {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	next, isString := b["next"].(string)
	redirect, isBool := b["redirect"].(bool)
	if resp.StatusCode != 200 || b["ok"] != true || b["success"] != true || !isString || !isBool || b["error"] != nil || b["errors"] != nil {
		t.Fatalf("not a success every client reads as one: %d %s", resp.StatusCode, resp.Body)
	}
	return next, redirect
}

// Next is where the post or the form asked to go, or else the page or site
// posted from; kontakt.js follows it only when redirect says it was asked for.
func TestSuccessCarriesNext(t *testing.T) {
	for _, tc := range []struct {
		name, body, redirectURL string
		headers                 []string
		next                    string
		redirect                bool
	}{
		{"the post's _next", `{"message":"hi","_next":"https://www.example.no/takk"}`, "", nil, "https://www.example.no/takk", true},
		{"the post's _next over the form's page", `{"message":"hi","_next":"https://www.example.no/takk"}`, "https://www.example.no/form-takk", nil, "https://www.example.no/takk", true},
		{"the form's page", `{"message":"hi"}`, "https://www.example.no/form-takk", nil, "https://www.example.no/form-takk", true},
		{"the page posted from", `{"message":"hi"}`, "", []string{"referer", "https://www.example.no/kontakt?x=1"}, "https://www.example.no/kontakt?x=1", false},
		{"the site posted from", `{"message":"hi"}`, "", []string{"origin", "http://localhost:3000"}, "http://localhost:3000/", false},
		{"no origin at all: the form's first site", `{"message":"hi"}`, "", []string{"origin", ""}, "https://www.example.no/", false},
		{"a foreign Referer is never next", `{"message":"hi"}`, "", []string{"referer", "https://evil.example.com/x"}, "https://www.example.no/", false},
		{"honeypot looks the same", `{"message":"hi","_gotcha":"x"}`, "", nil, "https://www.example.no/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, &fakeService{})
			h.Config.Form("contact").RedirectURL = tc.redirectURL
			resp, _ := h.Handle(context.Background(), post("application/json", tc.body, tc.headers...))
			if next, redirect := formspreeSuccess(t, resp); next != tc.next || redirect != tc.redirect {
				t.Errorf("next %q redirect %v, want %q %v: %s", next, redirect, tc.next, tc.redirect, resp.Body)
			}
		})
	}
}

// Every error answer is one a Formspree client shows in the visitor's
// language: errors has items with messages, error is a code.
func TestErrorsCarryFormspreeCodes(t *testing.T) {
	empty := []problem{{Code: "EMPTY", KontaktCode: "empty", Message: "Skjemaet er tomt. Fyll ut feltene og send igjen."}}
	for _, tc := range []struct {
		name, form, body string
		headers          []string
		status           int
		error            string
		want             []problem
	}{
		{"empty post", "", `{}`, nil, 422, httpapi.CodeValidation, empty},
		{"only instructions", "", `{"_subject":"Hei","_cc":"a@example.no"}`, nil, 422, httpapi.CodeValidation, empty},
		{"only blanks", "", "name=+&message=", []string{"content-type", "application/x-www-form-urlencoded"}, 422, httpapi.CodeValidation, empty},
		{"required and bad address", "message", `{"email":"kari","message":""}`, nil, 422, httpapi.CodeValidation, []problem{
			{Field: "email", Code: "TYPE_EMAIL", KontaktCode: "invalid_email", Message: "Skriv inn en gyldig e-postadresse."},
			{Field: "message", Code: "REQUIRED_FIELD_EMPTY", KontaktCode: "required", Message: "Dette feltet må fylles ut."},
		}},
		{"required missing", "message", `{"name":"Kari"}`, nil, 422, httpapi.CodeValidation, []problem{
			{Field: "message", Code: "REQUIRED_FIELD_MISSING", KontaktCode: "required", Message: "Dette feltet må fylles ut."},
		}},
		{"blocked origin", "", `{"message":"hi"}`, []string{"origin", "https://evil.example.com"}, 403, httpapi.CodeOriginNotAllowed, []problem{
			{Code: "BLOCKED", KontaktCode: "origin_not_allowed", Message: "Dette nettstedet har ikke lov til å sende til skjemaet."},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, &fakeService{})
			h.Config.Form("contact").RequiredFields = strings.Fields(tc.form)
			headers := append([]string{"accept-language", "nb"}, tc.headers...)
			ct := "application/json"
			if len(tc.headers) > 1 && tc.headers[0] == "content-type" {
				ct = tc.headers[1]
			}
			resp, _ := h.Handle(context.Background(), post(ct, tc.body, headers...))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &raw); err != nil {
				t.Fatal(err)
			}
			if raw["success"] != false || raw["ok"] != false || raw["error"] != tc.error {
				t.Errorf("want success and ok false, error %q: %s", tc.error, resp.Body)
			}
			b := decode(t, resp)
			if len(b.Errors) != len(tc.want) {
				t.Fatalf("errors %+v, want %+v", b.Errors, tc.want)
			}
			for i, want := range tc.want {
				if b.Errors[i] != want {
					t.Errorf("errors[%d] = %+v, want %+v", i, b.Errors[i], want)
				}
			}
		})
	}
}

// A rate limit and our own failure each say when to try again, through
// the same mapping.
func TestRetryAfterAnswers(t *testing.T) {
	h, _, _ := abuseHandler(t, &fakeService{}, `,"abuse":{"rate_limit":{"per_ip":1,"window_seconds":60}}`)
	req := post("application/json", `{"message":"hi"}`, "accept-language", "en")
	handle(t, h, req)
	resp := handle(t, h, req)
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("second post: %d %v", resp.StatusCode, resp.Headers)
	}
	b := decode(t, resp)
	if b.Error != httpapi.CodeRateLimited || len(b.Errors) != 1 || b.Errors[0].KontaktCode != httpapi.CodeRateLimited || !strings.Contains(b.Errors[0].Message, "wait") {
		t.Errorf("body %s", resp.Body)
	}
}

// What gets JSON and what gets a page. Whoever asked for JSON never gets
// a page.
func TestJSONOrPage(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		headers                 []string
		json                    bool
	}{
		{"Accept JSON", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "application/json"}, true},
		{"axios' Accept", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "application/json, text/plain, */*"}, true},
		{"JSON over HTML by weight", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "text/html;q=0.5, application/json"}, true},
		{"JSON listed beside HTML", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "text/html, application/json"}, true},
		{"jQuery", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "*/*", "x-requested-with", "XMLHttpRequest"}, true},
		{"jQuery asking for HTML", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "text/html", "x-requested-with", "XMLHttpRequest"}, true},
		{"JSON body, any answer", "application/json", `{"message":"hi"}`, []string{"accept", "*/*"}, true},
		{"JSON body, no Accept", "application/json; charset=utf-8", `{"message":"hi"}`, []string{"accept", ""}, true},
		{"JSON body preferring HTML", "application/json", `{"message":"hi"}`, []string{"accept", "text/html,application/xhtml+xml,*/*;q=0.8"}, false},
		{"browser form post", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{"form post, any answer", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "*/*"}, false},
		{"JSON refused by weight", "application/x-www-form-urlencoded", "message=hi", []string{"accept", "application/json;q=0, text/html"}, false},
	} {
		for _, body := range []string{tc.body, "broken=%zz"} {
			h, _ := newHandler(t, &fakeService{})
			ct := tc.contentType
			if body != tc.body {
				ct = "application/x-www-form-urlencoded"
				if tc.contentType == "application/json" || strings.HasPrefix(tc.contentType, "application/json;") {
					ct, body = tc.contentType, `{"message":`
				}
			}
			resp, _ := h.Handle(context.Background(), post(ct, body, tc.headers...))
			gotJSON := strings.HasPrefix(resp.Headers["Content-Type"], "application/json")
			if gotJSON != tc.json || (!gotJSON && resp.StatusCode != 400 && resp.StatusCode != 200) {
				t.Errorf("%s (%s): status %d, %s; want JSON %v", tc.name, body, resp.StatusCode, resp.Headers["Content-Type"], tc.json)
			}
		}
	}
}

// The preflight lets Formspree's clients send their headers, from allowed
// origins only.
func TestPreflightAllowsFormspreeHeaders(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	for _, origin := range []string{"http://localhost:3000", "https://evil.example.com"} {
		req := post("", "", "origin", origin, "access-control-request-method", "POST",
			"access-control-request-headers", "content-type,formspree-client,formspree-session-data")
		req.RequestContext.HTTP.Method = "OPTIONS"
		resp, _ := h.Handle(context.Background(), req)
		allowed := strings.Split(resp.Headers["Access-Control-Allow-Headers"], ", ")
		if origin == "https://evil.example.com" {
			if resp.StatusCode != 403 || len(resp.Headers["Access-Control-Allow-Headers"]) != 0 || resp.Headers["Access-Control-Allow-Origin"] != "" {
				t.Errorf("foreign origin: %d %v", resp.StatusCode, resp.Headers)
			}
			continue
		}
		for _, want := range []string{"formspree-client", "formspree-session-data", "content-type", "accept"} {
			if !slices.Contains(allowed, want) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
			}
		}
	}
}
