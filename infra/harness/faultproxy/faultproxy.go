// Package faultproxy is a small HTTP proxy for tests, on loopback only, that
// stands between the code under test and an AWS-API emulator and injects
// the faults production meets: throttling answers in each service's own
// error shape, refused connections and slow responses. The code under test
// reaches it like any endpoint, through AWS_ENDPOINT_URL_<SERVICE>.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Answer is a canned response given instead of forwarding.
type Answer struct {
	Status      int
	ContentType string
	Body        string
}

// Error answers exactly as the services send them, so that the SDK parses
// them into the same error codes as in production.
var (
	// SESThrottling is SES's query-protocol (v1 API) answer when the sending
	// rate is exceeded.
	SESThrottling = Answer{Status: 400, ContentType: "text/xml", Body: sesError("Throttling", "Maximum sending rate exceeded.")}
	// SESMessageRejected is SES's answer for an unverified sender: a
	// permanent error.
	SESMessageRejected = Answer{Status: 400, ContentType: "text/xml", Body: sesError("MessageRejected",
		"Email address is not verified. The following identities failed the check in region EU-NORTH-1: kontakt@example.no")}
	// DynamoDBThrottling and DynamoDBThroughputExceeded are DynamoDB's JSON
	// 1.0 answers when requests exceed the table's capacity.
	DynamoDBThrottling = Answer{Status: 400, ContentType: "application/x-amz-json-1.0",
		Body: `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`}
	DynamoDBThroughputExceeded = Answer{Status: 400, ContentType: "application/x-amz-json-1.0",
		Body: `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}`}
)

func sesError(code, msg string) string {
	return `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error><RequestId>8e1d2c3b-0000-4000-8000-000000000001</RequestId></ErrorResponse>`
}

// Fault is what the proxy does to requests. The zero Fault forwards all.
type Fault struct {
	// Answer, when set, is sent instead of forwarding.
	Answer *Answer
	// Delay holds each request this long first. A request whose client gives
	// up meanwhile is never forwarded: like a service too slow to take it.
	Delay time.Duration
	// Every applies the fault to every Every-th request only (0 or 1: all),
	// for a service that fails some of the time.
	Every int
}

// Proxy forwards to one target and injects the current Fault.
type Proxy struct {
	target *url.URL
	addr   string
	rp     *httputil.ReverseProxy

	mu    sync.Mutex
	fault Fault
	seq   int
	srv   *http.Server
	ln    net.Listener
	// life is the listening that Start or Up began and Down or Close ends.
	life *life

	forwarded, faulted atomic.Int64
}

// Start listens on a free 127.0.0.1 port and forwards to target, which must
// be on loopback too.
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad target %q", target)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return nil, fmt.Errorf("%w: %s", ErrNotLoopback, u.Host)
	}
	p := &Proxy{target: u}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Keep the Host the client signed (SigV4 covers it).
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			// The emulator itself is gone: as close to "refused" as a proxy
			// that accepted the connection can get.
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	return p, nil
}

func (p *Proxy) serve(ln net.Listener) {
	l := &life{p: p}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	p.srv, p.ln, p.life = srv, ln, l
	go srv.Serve(ln)
}

// life serves the requests of one listening, from Start or Up until Down.
type life struct {
	p     *Proxy
	ended atomic.Bool
}

// ServeHTTP forwards (or faults) a request, unless Down has ended this
// listening: net/http can read a request on a kept-alive connection, have
// Down close that connection as idle, and still run the handler. Forwarded
// then, the service would take a request whose answer cannot reach the
// client, who would send it again: a duplicate the fault did not intend.
// Such a request is dropped unanswered instead, as a service that is down
// would drop it.
func (l *life) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.ended.Load() {
		l.p.faulted.Add(1)
		panic(http.ErrAbortHandler) // close the connection, no answer, no log
	}
	l.p.handle(w, r)
}

// URL is the proxy's address, for AWS_ENDPOINT_URL_<SERVICE>.
func (p *Proxy) URL() string { return "http://" + p.addr }

// Set replaces the fault; Set(Fault{}) forwards everything again.
func (p *Proxy) Set(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.seq = f, 0
}

// Down stops listening: new connections are refused by the operating
// system, as when a service is unreachable, and kept-alive ones are closed
// once idle. Requests whose handling began still get their answer (one
// held by a Fault.Delay is forwarded when the delay ends), and a request
// whose handling had not begun is never forwarded (see life): cutting one
// after the service accepted it would leave the client not knowing whether
// it went through, which is another fault (see Close).
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	p.life.ended.Store(true)
	// Idle keep-alive connections are closed before Down returns (turning
	// keep-alives off closes them at once), or the client's next request
	// could ride one to a service that is meant to be down (seen under a
	// loaded make test); requests in flight still finish (Shutdown).
	p.ln.Close()
	srv := p.srv
	srv.SetKeepAlivesEnabled(false)
	go srv.Shutdown(context.Background())
	p.srv, p.ln = nil, nil
}

// Up listens again on the same address after Down.
func (p *Proxy) Up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close stops the proxy for good, dropping every connection at once,
// requests in flight included.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		p.life.ended.Store(true)
		p.srv.Close()
		p.srv, p.ln = nil, nil
	}
}

// Counts reports how many requests were forwarded and how many were given
// a fault (answered, held until the client left, or dropped after Down).
func (p *Proxy) Counts() (forwarded, faulted int64) {
	return p.forwarded.Load(), p.faulted.Load()
}

func (p *Proxy) pick() (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f.Answer == nil && f.Delay == 0 {
		return f, false
	}
	p.seq++
	if f.Every > 1 && p.seq%f.Every != 0 {
		return f, false
	}
	return f, true
}

// handle applies the current fault, then forwards.
func (p *Proxy) handle(w http.ResponseWriter, r *http.Request) {
	f, hit := p.pick()
	if hit && f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			p.faulted.Add(1)
			return
		}
	}
	if hit && f.Answer != nil {
		p.faulted.Add(1)
		w.Header().Set("Content-Type", f.Answer.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Answer.Body)))
		w.Header().Set("X-Amzn-Requestid", "8e1d2c3b-0000-4000-8000-000000000001")
		// DynamoDB signs every body with its CRC32, and the SDK checks it.
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(f.Answer.Body))), 10))
		w.WriteHeader(f.Answer.Status)
		w.Write([]byte(f.Answer.Body))
		return
	}
	if hit {
		p.faulted.Add(1)
	}
	p.forwarded.Add(1)
	p.rp.ServeHTTP(w, r)
}

// ErrNotLoopback is returned for targets off this machine.
var ErrNotLoopback = errors.New("faultproxy: target is not on loopback")
