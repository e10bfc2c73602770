package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/i18n"
)

// Formspree's published clients, pinned in infra/package.json, each on a
// page written as its README shows, pointed at kontakt with the client's
// own option: @formspree/ajax (FormData), @formspree/core's submitForm with
// an object (JSON) and @formspree/react's useForm (FormData).
var formspreeClients = []string{"ajax", "core-json", "react"}

// formspreePages serves /formspree.html?client=… and the clients' browser
// files from infra/node_modules; the React page is bundled once, here.
func formspreePages(mux *http.ServeMux, dir string) error {
	modules := filepath.Join(env.Root, "infra", "node_modules")
	bundle := filepath.Join(dir, "formspree-react.js")
	esbuild := exec.Command(filepath.Join(modules, ".bin", "esbuild"), filepath.Join("testdata", "formspree-react.jsx"),
		"--bundle", "--minify", "--format=iife", "--jsx=automatic", `--define:process.env.NODE_ENV="production"`,
		"--log-level=warning", "--outfile="+bundle)
	esbuild.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := esbuild.CombinedOutput(); err != nil {
		return fmt.Errorf("bundle the @formspree/react page: %w\n%s", err, out)
	}
	for path, file := range map[string]string{
		"/vendor/formspree-ajax.js":  filepath.Join(modules, "@formspree", "ajax", "dist", "global.js"),
		"/vendor/formspree-core.mjs": filepath.Join(modules, "@formspree", "core", "dist", "index.mjs"),
		"/vendor/formspree-react.js": bundle,
	} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			http.ServeFile(w, r, file)
		})
	}
	page, err := template.ParseFiles(filepath.Join("testdata", "formspree.html"), filepath.Join("testdata", "site.html"))
	if err != nil {
		return err
	}
	mux.HandleFunc("GET /formspree.html", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := page.Execute(&b, map[string]string{"Client": r.URL.Query().Get("client"), "API": api}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b.Bytes())
	})
	return nil
}

// fsResult is what a Formspree client reported to the page.
type fsResult struct {
	Kind        string               `json:"kind"`
	Next        string               `json:"next"`
	FormErrors  []fsError            `json:"formErrors"`
	FieldErrors map[string][]fsError `json:"fieldErrors"`
}

type fsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// sendWithFormspree opens the client's page on origin, fills the form,
// sends it and waits until the client reports.
func sendWithFormspree(t *testing.T, origin, client, name, email, message string) (fsResult, func(string) string) {
	t.Helper()
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(origin+"/formspree.html?client="+client), chromedp.WaitReady(chromedp.CSS(`#form[data-ready]`))))
	must(t, fill(ctx, name, email, message))
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("send"))))
	res, err := chromedp.Run(ctx, chromedp.Poll[fsResult](`window.result`))
	must(t, err)
	shown := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		must(t, err)
		return s
	}
	screenshot(t, ctx, "formspree-"+client)
	return res, shown
}

// A good submission: the client shows its success state, kontakt's answer
// carries the next the client needs, and staff get one email.
func TestFormspreeClientsSend(t *testing.T) {
	for _, client := range formspreeClients {
		t.Run(client, func(t *testing.T) {
			msg := marker(t)
			res, shown := sendWithFormspree(t, site, client, "Kari Nordmann", "kari@example.no", msg)
			if res.Kind != "success" || !strings.HasPrefix(res.Next, site+"/") {
				t.Errorf("client reported %+v, want success with next on %s", res, site)
			}
			if got := shown(`[data-fs-success][data-fs-active]`); got == "" {
				t.Error("the success state is not shown")
			}
			wantPreflightedPost(t, 200)
			emails := emailsWith(t, msg)
			if len(emails) != 1 {
				t.Fatalf("%d emails with the message, want 1", len(emails))
			}
			t.Run("Reply-To", func(t *testing.T) {
				testenv.SkipOnMoto(t)
				if got := strings.Join(emails[0].ReplyTo, ","); got != "kari@example.no" {
					t.Errorf("Reply-To %q", got)
				}
			})
		})
	}
}

// An empty required field and a bad address: the client shows each field's
// message, in the browser's language, with Formspree's codes; nothing is
// sent.
func TestFormspreeClientsFieldErrors(t *testing.T) {
	for _, client := range formspreeClients {
		t.Run(client, func(t *testing.T) {
			res, shown := sendWithFormspree(t, site, client, "Kari Nordmann", "ikke-en-adresse", "")
			want := map[string][]fsError{
				"email":   {{"TYPE_EMAIL", nb(i18n.InvalidEmail)}},
				"message": {{"REQUIRED_FIELD_EMPTY", nb(i18n.Required)}},
			}
			if res.Kind != "error" || len(res.FieldErrors) != len(want) || len(res.FormErrors) != 0 {
				t.Fatalf("client reported %+v, want the two field errors", res)
			}
			for field, errs := range want {
				if !slices.Equal(res.FieldErrors[field], errs) {
					t.Errorf("%s: %+v, want %+v", field, res.FieldErrors[field], errs)
				}
				if got := shown(`[data-fs-error="` + field + `"]`); got != errs[0].Message {
					t.Errorf("%s shows %q, want %q", field, got, errs[0].Message)
				}
			}
			wantPreflightedPost(t, 422)
		})
	}
}

// From a site the form does not allow, the preflight is refused: the
// client reports a failure and nothing is posted or sent.
func TestFormspreeClientsForeignOrigin(t *testing.T) {
	for _, client := range formspreeClients {
		t.Run(client, func(t *testing.T) {
			msg := marker(t)
			res, _ := sendWithFormspree(t, foreign, client, "Per Hansen", "per@example.no", msg)
			if res.Kind != "error" || len(res.FormErrors) != 1 {
				t.Errorf("client reported %+v, want one form error", res)
			}
			if got, want := calls.form(), []call{{"OPTIONS", "/f/" + formID, foreign, 403}}; !slices.Equal(got, want) {
				t.Errorf("API calls %+v, want only the refused preflight %+v", got, want)
			}
			wantEmails(t, msg, 0)
		})
	}
}

// @formspree/core's submitForm from Node (no browser, no CORS): JSON and
// FormData posts are sent and read as successes, field errors and an
// unknown form come back with Formspree's codes.
func TestFormspreeCoreFromNode(t *testing.T) {
	integration(t)
	msg := marker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	core := filepath.Join(env.Root, "infra", "node_modules", "@formspree", "core", "dist", "index.mjs")
	out, err := exec.CommandContext(ctx, "node", filepath.Join("testdata", "formspree-node.mjs"), api, core, msg).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]fsResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, name := range []string{"json", "formData"} {
		// Without Origin or Referer, next is the form's own site.
		if r := got[name]; r.Kind != "success" || r.Next != site+"/" {
			t.Errorf("%s: %+v, want success with next %s/", name, r, site)
		}
	}
	invalid := got["invalid"]
	if !slices.Equal(invalid.FieldErrors["email"], []fsError{{"TYPE_EMAIL", "Enter a valid email address."}}) ||
		!slices.Equal(invalid.FieldErrors["message"], []fsError{{"REQUIRED_FIELD_MISSING", "This field is required."}}) {
		t.Errorf("invalid: %+v", invalid)
	}
	if r := got["unknownForm"]; r.Kind != "error" || len(r.FormErrors) != 1 || r.FormErrors[0].Code != "FORM_NOT_FOUND" || r.FormErrors[0].Message == "" {
		t.Errorf("unknown form: %+v", r)
	}
	for _, kind := range []string{"(JSON)", "(FormData)"} {
		if n := len(emailsWith(t, msg+" "+kind)); n != 1 {
			t.Errorf("%d emails for the %s post, want 1", n, strings.Trim(kind, "()"))
		}
	}
}

// wantPreflightedPost checks that the browser posted once from the site,
// after a preflight kontakt allowed (the browser keeps an allowed preflight
// for Access-Control-Max-Age, so a later test may see none).
func wantPreflightedPost(t *testing.T, status int) {
	t.Helper()
	var posts []call
	for _, c := range calls.form() {
		if c.Method == "OPTIONS" {
			if c != (call{"OPTIONS", "/f/" + formID, site, 204}) {
				t.Errorf("preflight %+v", c)
			}
			continue
		}
		posts = append(posts, c)
	}
	if want := (call{"POST", "/f/" + formID, site, status}); len(posts) != 1 || posts[0] != want {
		t.Errorf("posts %+v, want only %+v", posts, want)
	}
}
