package faultproxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A request whose handler runs after Down (net/http read it on a
// kept-alive connection that Down then closed as idle) is dropped, never
// forwarded: the service must not take a request whose answer cannot reach
// the client. The race itself cannot be arranged from outside, so the
// listening's handler is called as net/http would call it then.
func TestDownForwardsNothingAfterwards(t *testing.T) {
	var hits atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer backend.Close()
	p, err := Start(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ended := p.life
	p.Down()

	panicked := func() (v any) {
		defer func() { v = recover() }()
		ended.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=SendEmail")))
		return nil
	}()
	if panicked != http.ErrAbortHandler {
		t.Errorf("handler after Down: %v, want http.ErrAbortHandler (connection closed unanswered)", panicked)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("forwarded %d request(s) after Down", n)
	}
	if _, faulted := p.Counts(); faulted != 1 {
		t.Errorf("faulted %d, want the dropped request counted", faulted)
	}

	// After Up, the new listening forwards again.
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(p.URL(), "text/plain", strings.NewReader("Action=SendEmail"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := hits.Load(); n != 1 {
		t.Errorf("forwarded %d after Up, want 1", n)
	}
}
