package browser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/opt-e/kontakt/infra/harness/apigw"
	"github.com/opt-e/kontakt/infra/harness/chromium"
	"github.com/opt-e/kontakt/infra/harness/httprec"
	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/logcheck"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	submithandler "github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
)

// The tests' world: kontakt's API on one loopback origin, a web developer's
// site holding the forms on another, and the same site on a third origin
// that the form does not allow.
var (
	env     *testenv.Env
	api     string // http://127.0.0.1:<port>
	site    string // http://localhost:<port>, allowed
	foreign string // http://127.0.0.1:<port>, not allowed
	calls   recorder
	chrome  context.Context
	// throttled makes the API answer POSTs as API Gateway does when its
	// throttling limits are reached.
	throttled atomic.Bool
	// lost lets a form's POST reach kontakt but loses its answer on the way
	// back (a dropped connection): the browser sees a network error. Upload
	// requests are answered.
	lost atomic.Bool
	// files is the bucket of visitors' files: the harness's S3 emulator in
	// this process on loopback (localstack.StartS3: it answers CORS for any
	// origin and checks no signature), on moto too.
	files *s3.Client
	// serverLog is what the submit handler logs (no personal data, as in
	// Lambda): a failing test prints the lines written while it ran.
	serverLog logcheck.Buffer
)

const (
	filesBucket = "kontakt-files"
	formID      = "contact"
	// secondFormID is another form, for a page with two (two.html).
	secondFormID = "newsletter"
	recipient    = "post@example.no"
	// The form's own language is English, so Norwegian texts can only come
	// from the browser's language.
	formLanguage    = "en"
	browserLanguage = "nb"
)

// TestMain starts the servers and the browser once for the package (start),
// after testenv has started the emulators (it does not with -short).
func TestMain(m *testing.M) { testenv.MainWith(m, testing.Short, &env, start) }

func integration(t *testing.T) {
	t.Helper()
	testenv.Gate(t, env, "browser test")
}

func listen() (net.Listener, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	return ln, ln.Addr().(*net.TCPAddr).Port, nil
}

func start() (stop func(), err error) {
	var stops []func()
	// Not the named result: `return nil, err` sets that to nil before the
	// deferred clean-up runs (which then panicked instead of saying why the
	// set-up failed).
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stopAll()
		}
	}()
	serve := func(ln net.Listener, h http.Handler) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		stops = append(stops, func() { srv.Close() })
	}

	apiLn, apiPort, err := listen()
	if err != nil {
		return nil, err
	}
	siteLn, sitePort, err := listen()
	if err != nil {
		return nil, err
	}
	foreignLn, foreignPort, err := listen()
	if err != nil {
		return nil, err
	}
	api = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	site = fmt.Sprintf("http://localhost:%d", sitePort) // the listener is 127.0.0.1
	foreign = fmt.Sprintf("http://127.0.0.1:%d", foreignPort)

	dir, err := os.MkdirTemp("", "kontakt-browser-")
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { os.RemoveAll(dir) })
	forms := filepath.Join(dir, "forms.json")
	// Every post comes from 127.0.0.1: the default limit of 5 a minute per
	// address would refuse the later tests.
	if err := os.WriteFile(forms, fmt.Appendf(nil, `{"forms": [{
		"id": %q, "recipients": [%q], "allowed_origins": [%q],
		"required_fields": ["name", "message"], "language": %q,
		"abuse": {"rate_limit": {"per_ip": 1000, "per_form": 1000, "window_seconds": 60}},
		"files": {"types": ["application/pdf"], "max_file_bytes": 12582912, "max_total_bytes": 26214400}}, {
		"id": %q, "recipients": [%q], "allowed_origins": [%q], "required_fields": ["name", "message"]}]}`,
		formID, recipient, site, formLanguage, secondFormID, recipient, site), 0o644); err != nil {
		return nil, err
	}
	s3srv, err := localstack.StartS3(0)
	if err != nil {
		return nil, err
	}
	stops = append(stops, s3srv.Close)
	files = s3.NewFromConfig(env.AWS, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(s3srv.URL), true })
	created, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = files.CreateBucket(created, &s3.CreateBucketInput{Bucket: aws.String(filesBucket)})
	cancel()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{config.EnvTable: env.Table, config.EnvSender: "kontakt@example.no", config.EnvFormsFile: forms, config.EnvSecretID: env.SecretID,
		config.EnvFilesBucket: filesBucket}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	clients := submithandler.NewClients(env.AWS, cfg)
	clients.S3, clients.Presign = files, s3.NewPresignClient(files)
	submit, err := submithandler.Handler(context.Background(), cfg, clients, slog.New(slog.NewJSONHandler(&serverLog, nil)), io.Discard)
	if err != nil {
		return nil, err
	}
	// The routes are the template's, so a route missing there fails here.
	tpl, err := samtemplate.Load(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	routes, err := samtemplate.Routes(tpl, "SubmitFunction")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	apigw.Mount(mux, submit.Handle, 10*time.Second, routes...)
	serve(apiLn, calls.wrap(gateway(mux)))
	pages, err := sitePages(dir)
	if err != nil {
		return nil, err
	}
	serve(siteLn, pages)
	serve(foreignLn, pages)

	ctx, stopBrowser, err := chromium.Start(context.Background(), chromium.Options{Language: browserLanguage})
	if err != nil {
		return nil, err
	}
	stops = append(stops, stopBrowser)
	chrome = ctx
	return stopAll, nil
}

// sitePages serves a web developer's pages: /form.html?mode=plain|fetch|script
// (with next=1 a hidden _next to /thanks.html), the thank-you page, and the
// pages written for Formspree's clients (formspreePages); dir is for what
// is built once. The form pages share the site's frame (testdata/site.html).
func sitePages(dir string) (http.Handler, error) {
	form, err := template.ParseFiles(filepath.Join("testdata", "form.html"), filepath.Join("testdata", "site.html"))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form.html", func(w http.ResponseWriter, r *http.Request) {
		origin := "http://" + r.Host
		data := map[string]string{
			"Mode":   r.URL.Query().Get("mode"),
			"Action": api + "/f/" + formID,
			"Script": api + "/f/" + formID + "/" + httpapi.ScriptFile,
		}
		if r.URL.Query().Get("next") == "1" {
			data["Next"] = origin + "/thanks.html"
		}
		// key=1: a fixed key written into the page, as old advice had it.
		data["StaticKey"] = r.URL.Query().Get("key")
		// files=1: a file input.
		data["Files"] = r.URL.Query().Get("files")
		var b bytes.Buffer
		if err := form.Execute(&b, data); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b.Bytes())
	})
	two, err := template.ParseFiles(filepath.Join("testdata", "two.html"), filepath.Join("testdata", "site.html"))
	if err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /two.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		type form struct{ Name, ID string }
		two.Execute(w, map[string]any{"API": api, "Script": httpapi.ScriptFile,
			"Forms": []form{{"first", formID}, {"second", secondFormID}}})
	})
	mux.HandleFunc("GET /thanks.html", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("testdata", "thanks.html"))
	})
	if err := formspreePages(mux, dir); err != nil {
		return nil, err
	}
	return mux, nil
}

// gateway plays API Gateway's own answer to throttled requests: 429 with
// its JSON message and none of the function's headers (no CORS headers: the
// API has no CORS configuration, the function answers CORS itself).
func gateway(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lost.Load() && r.Method == http.MethodPost && !strings.HasSuffix(r.URL.Path, "/uploads") {
			h.ServeHTTP(httptest.NewRecorder(), r)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if throttled.Load() && r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message":"Too Many Requests"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// call is one request that reached the API, as the browser sent it.
type call struct {
	Method, Path, Origin string
	Status               int
}

type recorder struct {
	mu    sync.Mutex
	calls []call
	// keys are the _idempotency_key fields of urlencoded POSTs, in order.
	keys []string
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			q, _ := url.ParseQuery(string(b))
			rec.mu.Lock()
			rec.keys = append(rec.keys, q.Get("_idempotency_key"))
			rec.mu.Unlock()
		}
		sw := httprec.NewStatus(w)
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.calls = append(rec.calls, call{r.Method, r.URL.Path, r.Header.Get("Origin"), sw.Code})
	})
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls, rec.keys = nil, nil
}

// sentKeys returns the idempotency keys the POSTs carried so far.
func (rec *recorder) sentKeys() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.keys...)
}

// all are the POSTs made since the last reset (preflights and scripts
// left out).
func (rec *recorder) all() []call {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []call
	for _, c := range rec.calls {
		if c.Method == "POST" {
			out = append(out, c)
		}
	}
	return out
}

// form returns the calls to the form endpoint itself (not the script).
func (rec *recorder) form() []call {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []call
	for _, c := range rec.calls {
		if c.Path == "/f/"+formID {
			out = append(out, c)
		}
	}
	return out
}

// tab opens a new tab in the shared browser, bounded by a deadline.
func tab(t *testing.T) context.Context {
	t.Helper()
	integration(t)
	calls.reset()
	from := serverLog.Len()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kontakt's log while the test ran:\n%s", serverLog.Bytes(from))
		}
	})
	tabCtx, cancel := chromedp.NewContext(chrome)
	t.Cleanup(cancel)
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, 30*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// marker makes a message that only this test sends, so its email can be
// found (or found missing) in the shared SES mailbox.
func marker(t *testing.T) string {
	return "Hei fra " + t.Name() + " " + strings.ToLower(rand.Text()[:8])
}

// callCtx bounds one call of a test to the emulators.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// emailsWith returns the emails whose text holds s.
func emailsWith(t *testing.T, s string) []localstack.Email {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all, err := env.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []localstack.Email
	for _, e := range all {
		if strings.Contains(e.Body.Text, s) {
			out = append(out, e)
		}
	}
	return out
}

// fill types a visitor's answers into the form.
func fill(ctx context.Context, name, email, message string) error {
	var steps []chromedp.Action[chromedp.Void]
	for _, f := range [][2]string{{"name", name}, {"email", email}, {"message", message}} {
		if f[1] != "" {
			steps = append(steps, chromedp.SendKeys(chromedp.CSS(`[name="`+f[0]+`"]`), f[1]))
		}
	}
	return chromedp.Do(ctx, steps...)
}

// screenshot saves the page as the visitor sees it, into the test's
// folder (or KONTAKT_SCREENSHOTS to keep them), and returns the path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	dir := os.Getenv("KONTAKT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// text is what the visitor reads on the page.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the page did not get there in time: %v", err)
		}
		t.Fatal(err)
	}
}

// open loads a page of the site and waits for its form; on a page with
// kontakt.js, until the script has taken the form over.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	ready := chromedp.WaitReady(chromedp.CSS(`#form`))
	if strings.Contains(url, "mode=script") {
		ready = chromedp.WaitReady(chromedp.CSS(`form[data-kontakt-ready]`))
	}
	must(t, chromedp.Do(ctx, chromedp.Navigate(url), ready))
}

// wantEmails checks how many emails hold the test's message.
func wantEmails(t *testing.T, msg string, want int) {
	t.Helper()
	if n := len(emailsWith(t, msg)); n != want {
		t.Errorf("%d emails with the message, want %d", n, want)
	}
}

// wantLocation checks where the browser ended up.
func wantLocation(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != want {
		t.Errorf("landed on %s, want %s", loc, want)
	}
}

// send presses the form's button and waits until what must follow is
// visible.
func send[S chromedp.Selectable](t *testing.T, ctx context.Context, until S) {
	t.Helper()
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("send")), chromedp.WaitVisible(until)))
}

// sendForm is a visitor's post: it opens page in a new tab, fills the form
// as name and email with a fresh marker as the message, sends it, waits
// until what must follow is visible and keeps a screenshot named shot. It
// returns the tab and the marker.
func sendForm[S chromedp.Selectable](t *testing.T, page, name, email string, until S, shot string) (context.Context, string) {
	t.Helper()
	ctx := tab(t)
	msg := marker(t)
	open(t, ctx, page)
	must(t, fill(ctx, name, email, msg))
	send(t, ctx, until)
	screenshot(t, ctx, shot)
	return ctx, msg
}

// wantOnePost checks that the browser made exactly one request to the form,
// a POST from the site, and what kontakt answered it.
func wantOnePost(t *testing.T, status int) {
	t.Helper()
	if got, want := calls.form(), (call{"POST", "/f/" + formID, site, status}); len(got) != 1 || got[0] != want {
		t.Errorf("API calls %+v, want only %+v", got, want)
	}
}
