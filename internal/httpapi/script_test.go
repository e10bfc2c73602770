package httpapi_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/i18n"
)

func getScript(form string, params bool, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/f/" + form + "/" + httpapi.ScriptFile, Headers: headers}
	if params {
		ev.PathParameters = map[string]string{"form": form}
	}
	ev.RequestContext.HTTP.Method = "GET"
	return ev
}

// The script is served per form, with the form's language and the
// script's own texts in both languages filled in, cacheable.
func TestScript(t *testing.T) {
	h, logs := newHandler(t, &fakeService{})
	for _, params := range []bool{true, false} { // a route parameter, or a catch-all route
		resp, err := h.Handle(context.Background(), getScript("contact", params, nil))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("params=%v: %d %v %q", params, resp.StatusCode, err, resp.Body)
		}
		for k, want := range map[string]string{
			"Content-Type":           "text/javascript; charset=utf-8",
			"Cache-Control":          httpapi.ScriptCacheControl,
			"X-Content-Type-Options": "nosniff",
		} {
			if got := resp.Headers[k]; got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if !regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`).MatchString(resp.Headers["ETag"]) {
			t.Errorf("ETag = %q", resp.Headers["ETag"])
		}
		if _, ok := resp.Headers["Access-Control-Allow-Origin"]; ok {
			t.Error("a <script src> needs no CORS header")
		}
		if len(resp.Body) > 8<<10 {
			t.Errorf("script is %d bytes; it should stay a few KB", len(resp.Body))
		}
		cfg := scriptConfig(t, resp.Body)
		if cfg.Language != "en" { // testConfig's default language
			t.Errorf("language = %q, want the form's (en)", cfg.Language)
		}
		for _, lang := range []string{"nb", "en"} {
			want := map[string]string{
				"sending": i18n.Text(lang, i18n.Sending, 0),
				"network": i18n.Text(lang, i18n.NetworkError, 0),
				"failed":  i18n.Text(lang, i18n.Unavailable, 0),
			}
			for k, v := range want {
				if got := cfg.Texts[lang][k]; got != v {
					t.Errorf("texts.%s.%s = %q, want %q", lang, k, got, v)
				}
			}
		}
	}
	if !strings.Contains(logs.String(), `"outcome":"script"`) {
		t.Errorf("log has no script outcome: %s", logs)
	}
}

// scriptConfig reads the settings the server filled into the script's
// last line: `})(<json>);`.
func scriptConfig(t *testing.T, body string) (cfg struct {
	Language string                       `json:"language"`
	Texts    map[string]map[string]string `json:"texts"`
}) {
	t.Helper()
	m := regexp.MustCompile(`\}\)\((\{.*\})\);\s*$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("script does not end with its settings: ...%s", body[max(0, len(body)-200):])
	}
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("settings %s: %v", m[1], err)
	}
	return cfg
}

func TestScriptNotModified(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	first, _ := h.Handle(context.Background(), getScript("contact", true, nil))
	etag := first.Headers["ETag"]
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		resp, _ := h.Handle(context.Background(), getScript("contact", true, map[string]string{"if-none-match": inm}))
		if resp.StatusCode != 304 || resp.Body != "" {
			t.Errorf("If-None-Match %s: %d %q, want 304 and no body", inm, resp.StatusCode, resp.Body)
		}
		if resp.Headers["ETag"] != etag || resp.Headers["Cache-Control"] != httpapi.ScriptCacheControl {
			t.Errorf("304 headers %v", resp.Headers)
		}
	}
	resp, _ := h.Handle(context.Background(), getScript("contact", true, map[string]string{"if-none-match": `"other"`}))
	if resp.StatusCode != 200 {
		t.Errorf("stale ETag: %d, want 200", resp.StatusCode)
	}
}

func TestScriptErrors(t *testing.T) {
	h, _ := newHandler(t, &fakeService{})
	getForm := getScript("contact", true, nil)
	getForm.RawPath = "/f/contact"
	postScript := getScript("contact", true, nil)
	postScript.RequestContext.HTTP.Method = "POST"
	for _, tc := range []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{"unknown form", getScript("nope", true, nil), 404},
		{"unknown form, catch-all", getScript("nope", false, nil), 404},
		{"GET on the form itself", getForm, 405},
		{"POST to the script", postScript, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := h.Handle(context.Background(), tc.req)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if strings.HasPrefix(resp.Headers["Content-Type"], "text/javascript") {
				t.Error("an error answer is served as a script")
			}
			if tc.req.RequestContext.HTTP.Method == "POST" && resp.Headers["Allow"] != "GET" {
				t.Errorf("Allow = %q, want GET", resp.Headers["Allow"])
			}
		})
	}
}
