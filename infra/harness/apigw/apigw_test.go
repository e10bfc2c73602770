package apigw_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/apigw"
)

func TestAdapterBuildsTheEventAndWritesTheResponse(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	mux := http.NewServeMux()
	mux.Handle("/f/{form}", &apigw.Adapter{Params: []string{"form"}, Handler: func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = ev
		return events.APIGatewayV2HTTPResponse{StatusCode: 303, Headers: map[string]string{"Location": "/takk"}, Body: "ok"}, nil
	}})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		contentType, body string
		base64            bool
	}{
		{"application/x-www-form-urlencoded", "a=1&b=2", false},
		{"multipart/form-data; boundary=x", "--x--\r\n", true},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/f/contact?x=1", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Add("Accept-Language", "nb")
		req.Header.Add("Accept-Language", "en")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/takk" || string(body) != "ok" {
			t.Errorf("response %d %q %q", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if got.PathParameters["form"] != "contact" || got.RequestContext.HTTP.Method != "POST" || got.RawQueryString != "x=1" {
			t.Errorf("event = %+v", got)
		}
		if got.Headers["accept-language"] != "nb,en" {
			t.Errorf("headers not lower-cased and joined: %v", got.Headers)
		}
		if got.RequestContext.HTTP.SourceIP != "127.0.0.1" {
			t.Errorf("source ip = %q", got.RequestContext.HTTP.SourceIP)
		}
		b := got.Body
		if got.IsBase64Encoded != tc.base64 {
			t.Errorf("%s: IsBase64Encoded = %v", tc.contentType, got.IsBase64Encoded)
		}
		if got.IsBase64Encoded {
			d, _ := base64.StdEncoding.DecodeString(b)
			b = string(d)
		}
		if b != tc.body {
			t.Errorf("body = %q, want %q", b, tc.body)
		}
	}
}

func TestAdapterFunctionErrorIs500(t *testing.T) {
	h := &apigw.Adapter{Handler: func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, io.ErrUnexpectedEOF
	}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Errorf("status %d", rec.Code)
	}
}

// Mount routes exactly the given API routes to the handler, with the route
// key and path parameters API Gateway would put on the event.
func TestMount(t *testing.T) {
	var got []events.APIGatewayV2HTTPRequest
	h := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = append(got, ev)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.RouteKey}, nil
	}
	mux := http.NewServeMux()
	apigw.Mount(mux, h, time.Second, "POST /f/{form}", "GET /f/{form}/kontakt.js", "GET /files/{path+}")
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		method, path string
		status       int
		route        string
		params       map[string]string
	}{
		{"POST", "/f/contact", 200, "POST /f/{form}", map[string]string{"form": "contact"}},
		{"GET", "/f/contact/kontakt.js", 200, "GET /f/{form}/kontakt.js", map[string]string{"form": "contact"}},
		{"GET", "/files/a/b.txt", 200, "GET /files/{path+}", map[string]string{"path": "a/b.txt"}},
		{"GET", "/f/contact/other", 404, "", nil},
		{"DELETE", "/f/contact", 405, "", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got = nil
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(""))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.route == "" {
				if len(got) != 0 {
					t.Errorf("a route the API does not have reached the handler: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("handler called %d times", len(got))
			}
			ev := got[0]
			if ev.RouteKey != tc.route || ev.RequestContext.RouteKey != tc.route || string(body) != tc.route {
				t.Errorf("route key = %q / %q, want %q", ev.RouteKey, ev.RequestContext.RouteKey, tc.route)
			}
			for k, v := range tc.params {
				if ev.PathParameters[k] != v {
					t.Errorf("path parameter %s = %q, want %q", k, ev.PathParameters[k], v)
				}
			}
		})
	}
}
