// Package captchatest runs a captcha provider's siteverify endpoint on
// loopback, speaking the protocol each provider documents: a form POST of
// secret, response and optional remoteip, answered with JSON success,
// error-codes and, for reCAPTCHA v3, score and action. Tests point a form's
// verify_url at it.
package captchatest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/opt-e/kontakt/internal/config"
)

// Answers the server knows. Anything else is an invalid answer.
const (
	Pass     = "pass-token"     // solved; reCAPTCHA v3 score 0.9, action "contact"
	LowScore = "low-score"      // solved, but reCAPTCHA v3 score 0.1
	Slow     = "slow-token"     // the server does not answer until the client gives up
	Broken   = "broken-token"   // the server answers 500
	Garbled  = "garbled-token"  // the server answers 200 with something that is not JSON
	Internal = "internal-token" // the provider reports internal-error
)

// Request is one verification the server received.
type Request struct {
	Secret, Response, RemoteIP string
	HasRemoteIP                bool
}

// Server is a running siteverify endpoint for one provider and secret.
type Server struct {
	URL      string
	provider string
	secret   string
	srv      *httptest.Server
	mu       sync.Mutex
	seen     map[string]bool
	requests []Request
}

// Start serves siteverify for provider, accepting secret only. It stops
// when the test ends.
func Start(t interface{ Cleanup(func()) }, provider, secret string) *Server {
	s := &Server{provider: provider, secret: secret, seen: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/siteverify"
	t.Cleanup(s.srv.Close)
	return s
}

// Requests returns the verifications received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.answer(w, "", false, "bad-request")
		return
	}
	req := Request{Secret: r.PostForm.Get("secret"), Response: r.PostForm.Get("response"), RemoteIP: r.PostForm.Get("remoteip")}
	_, req.HasRemoteIP = r.PostForm["remoteip"]
	s.mu.Lock()
	s.requests = append(s.requests, req)
	dup := s.seen[req.Response]
	s.seen[req.Response] = true
	s.mu.Unlock()

	switch {
	case req.Secret == "":
		s.answer(w, req.Response, false, "missing-input-secret")
	case req.Secret != s.secret:
		s.answer(w, req.Response, false, "invalid-input-secret")
	case req.Response == "":
		s.answer(w, req.Response, false, "missing-input-response")
	case req.Response == Slow:
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	case req.Response == Broken:
		http.Error(w, "upstream failure", http.StatusInternalServerError)
	case req.Response == Garbled:
		w.Write([]byte("<html>maintenance</html>"))
	case req.Response == Internal:
		s.answer(w, req.Response, false, "internal-error")
	case dup:
		// Every answer is single-use.
		if s.provider == config.CaptchaHCaptcha {
			s.answer(w, req.Response, false, "already-seen-response")
		} else {
			s.answer(w, req.Response, false, "timeout-or-duplicate")
		}
	case req.Response == Pass, req.Response == LowScore:
		s.answer(w, req.Response, true, "")
	default:
		s.answer(w, req.Response, false, "invalid-input-response")
	}
}

// answer writes the provider's JSON shape.
func (s *Server) answer(w http.ResponseWriter, response string, ok bool, code string) {
	body := map[string]any{"success": ok}
	codes := []string{}
	if code != "" {
		codes = append(codes, code)
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	switch s.provider {
	case config.CaptchaTurnstile:
		// Turnstile always sends error-codes, and echoes action and cdata.
		body["error-codes"] = codes
		if ok {
			body["challenge_ts"], body["hostname"], body["action"], body["cdata"] = ts, "www.example.no", "", ""
		}
	case config.CaptchaHCaptcha:
		if ok {
			body["challenge_ts"], body["hostname"], body["credit"] = ts, "www.example.no", false
		} else {
			body["error-codes"] = codes
		}
	default:
		if ok {
			body["challenge_ts"], body["hostname"] = ts, "www.example.no"
		} else {
			body["error-codes"] = codes
		}
	}
	if s.provider == config.CaptchaRecaptchaV3 && ok {
		body["action"] = "contact"
		body["score"] = 0.9
		if response == LowScore {
			body["score"] = 0.1
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	writeJSON(w, body)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b)
}
