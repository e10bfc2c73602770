// Package apigw turns a plain net/http request into the API Gateway HTTP API
// (payload format 2.0) event a Lambda handler receives, and the handler's
// response back into HTTP. The local stack and the browser tests serve the
// real handler through it, so what runs locally is what runs on AWS.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// LambdaHandler is the signature of an HTTP API Lambda handler.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// maxBody is API Gateway's own payload limit.
const maxBody = 10 << 20

// Adapter serves h. RouteKey is the API route (e.g. "POST /f/{form}") put
// on the event; the path parameters named in Params come from the ServeMux
// pattern that matched. Timeout plays the function's timeout: the handler
// gets a context with that deadline, as Lambda would give it.
type Adapter struct {
	Handler LambdaHandler
	// RouteKey, when set, is the event's routeKey, as API Gateway sets it.
	RouteKey string
	Params   []string
	Timeout  time.Duration
}

// Mount serves h on mux for each API route ("METHOD /path/{param}", as
// samtemplate.Routes lists a function's routes), so that locally exactly
// the template's routes reach the function, as on API Gateway.
func Mount(mux *http.ServeMux, h LambdaHandler, timeout time.Duration, routes ...string) {
	for _, route := range routes {
		var params []string
		_, path, _ := strings.Cut(route, " ")
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				params = append(params, strings.TrimSuffix(strings.Trim(seg, "{}"), "+"))
			}
		}
		// API Gateway's greedy {proxy+} is ServeMux's {proxy...}.
		pattern := strings.ReplaceAll(route, "+}", "...}")
		mux.Handle(pattern, &Adapter{Handler: h, RouteKey: route, Params: params, Timeout: timeout})
	}
}

func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := Event(r, a.Params)
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	if a.RouteKey != "" {
		ev.RouteKey, ev.RequestContext.RouteKey = a.RouteKey, a.RouteKey
	}
	ctx := r.Context()
	if a.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.Timeout)
		defer cancel()
	}
	resp, err := a.Handler(ctx, ev)
	if err != nil {
		// API Gateway answers a failed invocation with a bare 500.
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	Write(w, resp)
}

// Event builds the 2.0 event for r.
func Event(r *http.Request, params []string) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return events.APIGatewayV2HTTPRequest{}, io.ErrShortBuffer
	}
	headers := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		// API Gateway lower-cases names and joins repeated headers with commas.
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	headers["host"] = r.Host
	var cookies []string
	if c := headers["cookie"]; c != "" {
		cookies = strings.Split(c, "; ")
		delete(headers, "cookie")
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        headers,
		Cookies:        cookies,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:  "000000000000",
			APIID:      "local",
			DomainName: r.Host,
			RequestID:  strings.ToLower(rand.Text()),
			Stage:      "$default",
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  ip,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(params) > 0 {
		ev.PathParameters = make(map[string]string, len(params))
		for _, p := range params {
			ev.PathParameters[p] = r.PathValue(p)
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, v := range q {
			ev.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	if len(body) > 0 {
		// Like API Gateway, send anything that is not plainly text as base64.
		if isText(headers["content-type"]) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev, nil
}

func isText(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "application/json") ||
		strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "application/xml")
}

// Write sends resp as the HTTP response.
func Write(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}
