package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
)

type fakeSelfService struct {
	askErr, confirmErr error
	asked              int
}

func (f *fakeSelfService) Ask(context.Context, string, string, string, string) error {
	f.asked++
	return f.askErr
}
func (f *fakeSelfService) Check(context.Context, string) error { return nil }
func (f *fakeSelfService) Confirm(context.Context, string) (string, error) {
	return "ss-1", f.confirmErr
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &httpapi.ErasureHandler{
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
