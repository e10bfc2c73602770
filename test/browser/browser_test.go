package browser_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/i18n"
)

func nb(k i18n.Key) string { return i18n.Text(browserLanguage, k, 0) }

// A plain HTML form on the site posts across origins, the browser follows
// the 303 to the site's _next page, and the email is in the mailbox.
func TestPlainFormLandsOnNext(t *testing.T) {
	ctx, msg := sendForm(t, site+"/form.html?mode=plain&next=1", "Kari Nordmann", "kari@example.no", chromedp.ID("thanks"), "plain-next")

	wantLocation(t, ctx, site+"/thanks.html")
	if got := text(t, ctx); !strings.Contains(got, "Vi har fått meldingen din.") {
		t.Errorf("page text %q", got)
	}
	wantOnePost(t, 303)
	emails := emailsWith(t, msg)
	if len(emails) != 1 {
		t.Fatalf("%d emails with the message, want 1", len(emails))
	}
	e := emails[0]
	if strings.Join(e.Destination.To, ",") != recipient {
		t.Errorf("email To %q, want %q", e.Destination.To, recipient)
	}
	t.Run("Reply-To", func(t *testing.T) {
		testenv.SkipOnMoto(t)
		if strings.Join(e.ReplyTo, ",") != "kari@example.no" {
			t.Errorf("email Reply-To %q, want kari@example.no", e.ReplyTo)
		}
	})
}

// A plain multipart form with a PDF: the browser posts the file with the
// fields, and the staff email carries it as an attachment.
func TestPlainFormSendsAFile(t *testing.T) {
	pdf := "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
	path := filepath.Join(t.TempDir(), "CV Kari.pdf")
	if err := os.WriteFile(path, []byte(pdf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := tab(t)
	msg := marker(t)
	open(t, ctx, site+"/form.html?mode=file&next=1")
	must(t, fill(ctx, "Kari Nordmann", "kari@example.no", msg))
	must(t, chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#cv"), []string{path})))
	send(t, ctx, chromedp.ID("thanks"))
	screenshot(t, ctx, "plain-file")
	wantOnePost(t, 303)
	emails := emailsWith(t, msg)
	if len(emails) != 1 || len(emails[0].Attachments) != 1 {
		t.Fatalf("emails %+v, want one with one attachment", emails)
	}
	a := emails[0].Attachments[0]
	if got, _ := base64.StdEncoding.DecodeString(a.Content); a.Filename != "CV Kari.pdf" || string(got) != pdf {
		t.Errorf("attachment %q: %q", a.Filename, got)
	}
}

// A fetch form sending JSON: the browser preflights, accepts kontakt's CORS
// answer, and the page shows kontakt's success message in the browser's
// language.
func TestFetchJSONForm(t *testing.T) {
	ctx, msg := sendForm(t, site+"/form.html?mode=fetch", "Ola Nordmann", "ola@example.no", chromedp.CSS(`#status[data-state]`), "fetch-sent")

	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").dataset.state`))
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if state != "sent" || status != nb(i18n.ThanksBody) {
		t.Errorf("status %s %q, want sent %q", state, status, nb(i18n.ThanksBody))
	}
	got := calls.form()
	want := []call{{"OPTIONS", "/f/" + formID, site, 204}, {"POST", "/f/" + formID, site, 200}}
	if !slices.Equal(got, want) {
		t.Errorf("API calls %+v, want preflight then POST: %+v", got, want)
	}
	wantEmails(t, msg, 1)
}

// The same forms on a site that is not allowed: the browser refuses the
// answer, the page says the message did not get through, and nothing is
// sent. A JSON fetch never gets past the preflight; kontakt.js sends a
// simple request, which kontakt refuses.
func TestForeignOriginIsBlocked(t *testing.T) {
	for _, tc := range []struct {
		mode, status string
		want         []call
	}{
		{"fetch", "Meldingen kom ikke fram.", []call{{"OPTIONS", "/f/" + formID, foreign, 403}}},
		{"script", nb(i18n.NetworkError), []call{{"POST", "/f/" + formID, foreign, 403}}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			ctx, msg := sendForm(t, foreign+"/form.html?mode="+tc.mode, "Per Hansen", "per@example.no",
				chromedp.CSS(`#status[data-state="failed"], [data-kontakt-state="error"]`), "foreign-"+tc.mode)

			if got := text(t, ctx); !strings.Contains(got, tc.status) {
				t.Errorf("page text %q, want %q", got, tc.status)
			}
			if got := calls.form(); !slices.Equal(got, tc.want) {
				t.Errorf("API calls %+v, want %+v", got, tc.want)
			}
			wantEmails(t, msg, 0)
		})
	}
}

// Throttled by API Gateway, the post gets no answer the browser may read:
// kontakt.js says the message was not sent, never that it was.
func TestThrottledPostShowsFailure(t *testing.T) {
	throttled.Store(true)
	defer throttled.Store(false)
	ctx, msg := sendForm(t, site+"/form.html?mode=script", "Kari Nordmann", "kari@example.no", chromedp.CSS(`[data-kontakt-state="error"]`), "throttled")

	if got := text(t, ctx); !strings.Contains(got, nb(i18n.NetworkError)) || strings.Contains(got, nb(i18n.ThanksBody)) {
		t.Errorf("page text %q, want only %q", got, nb(i18n.NetworkError))
	}
	wantOnePost(t, 429)
	wantEmails(t, msg, 0)
}

// fieldState is what a visitor (and a screen reader) gets for one field.
type fieldState struct {
	Invalid   bool   `json:"invalid"`
	Message   string `json:"message"`
	NextToIt  bool   `json:"nextToIt"`
	Described bool   `json:"described"`
	Visible   bool   `json:"visible"`
}

const readFields = `(() => {
  const out = {};
  for (const name of ["name", "email", "message"]) {
    const f = document.querySelector('[name="' + name + '"]');
    const ids = (f.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    const msg = ids.map(id => document.getElementById(id)).find(Boolean);
    out[name] = {
      invalid: f.getAttribute("aria-invalid") === "true",
      message: msg ? msg.textContent : "",
      nextToIt: !!msg && msg.previousElementSibling === f.closest("label"),
      described: ids.length > 0,
      visible: !!msg && msg.offsetParent !== null,
    };
  }
  return out;
})()`

// kontakt.js puts each field's message next to the field, in Norwegian
// because the browser's language is nb (the form's own language is
// English), tied to the field for screen readers; a corrected form then
// goes through and the messages go away.
func TestScriptFieldErrorsInBrowserLanguage(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	open(t, ctx, site+"/form.html?mode=script")
	must(t, fill(ctx, "Kari Nordmann", "ikke-en-adresse", ""))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="error"]`))
	screenshot(t, ctx, "script-field-errors")

	fields, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]fieldState](readFields))
	must(t, err)
	for name, want := range map[string]string{"email": nb(i18n.InvalidEmail), "message": nb(i18n.Required)} {
		f := fields[name]
		if !f.Invalid || f.Message != want || !f.NextToIt || !f.Visible {
			t.Errorf("%s: %+v, want aria-invalid and %q visible right after its label", name, f, want)
		}
	}
	if f := fields["name"]; f.Invalid || f.Described {
		t.Errorf("name was valid but is marked: %+v", f)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-kontakt-state]`)))
	if status != nb(i18n.FixFields) {
		t.Errorf("status %q, want %q", status, nb(i18n.FixFields))
	}
	// Focus goes where the visitor starts fixing: the first marked field.
	if focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.name`)); focused != "email" {
		t.Errorf("focus is on %q, want the first invalid field (email)", focused)
	}
	if got := text(t, ctx); !strings.Contains(got, nb(i18n.InvalidEmail)) {
		t.Errorf("page text %q lacks the email message", got)
	}
	wantOnePost(t, 422)

	// Corrected: sent, and every mark is gone.
	must(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`[name="email"]`), "kari@example.no"),
		chromedp.SendKeys(chromedp.CSS(`[name="message"]`), msg),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(`[data-kontakt-state="success"]`)),
	))
	screenshot(t, ctx, "script-sent")
	fields, err = chromedp.Run(ctx, chromedp.Evaluate[map[string]fieldState](readFields))
	must(t, err)
	for name, f := range fields {
		if f.Invalid || f.Described {
			t.Errorf("%s still marked after success: %+v", name, f)
		}
	}
	if got := text(t, ctx); !strings.Contains(got, nb(i18n.ThanksBody)) || strings.Contains(got, nb(i18n.Required)) {
		t.Errorf("page text %q, want only the success message", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[name="message"]`))); v != "" {
		t.Errorf("form not reset after success: message %q", v)
	}
	wantEmails(t, msg, 1)
}

// A bot's script fills the honeypot and submits: the page shows the normal
// success, and nothing is sent.
func TestHoneypotFilledByScript(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	open(t, ctx, site+"/form.html?mode=script")
	must(t, fill(ctx, "Spam Bot", "bot@example.com", msg))
	must(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[name="_gotcha"]').value = "https://spam.example"; document.getElementById("form").requestSubmit()`),
		chromedp.WaitVisible(chromedp.CSS(`[data-kontakt-state="success"]`)),
	))
	screenshot(t, ctx, "honeypot")

	if got := text(t, ctx); !strings.Contains(got, nb(i18n.ThanksBody)) {
		t.Errorf("page text %q, want the success message", got)
	}
	wantOnePost(t, 200)
	wantEmails(t, msg, 0)
}

// With kontakt.js and a _next, the enhanced form ends where the plain one
// would: on the site's thank-you page.
func TestScriptFollowsNext(t *testing.T) {
	ctx, msg := sendForm(t, site+"/form.html?mode=script&next=1", "Kari Nordmann", "kari@example.no", chromedp.ID("thanks"), "script-next")
	wantLocation(t, ctx, site+"/thanks.html")
	wantOnePost(t, 200)
	wantEmails(t, msg, 1)
}

// Without JavaScript the same page is a plain post: kontakt's own
// thank-you page, in the browser's language, and the email.
func TestScriptPageWorksWithoutJavaScript(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	must(t, err)
	// Not open: with JavaScript off, kontakt.js never marks the form ready.
	must(t, chromedp.Do(ctx, chromedp.Navigate(site+"/form.html?mode=script")))
	must(t, fill(ctx, "Kari Nordmann", "kari@example.no", msg))
	// The form page has a main h1 too: the thank-you page's is the one seen
	// once the form's button is gone.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("send")), chromedp.WaitNotPresent(chromedp.ID("send")), chromedp.WaitVisible(chromedp.CSS(`main h1`))))
	screenshot(t, ctx, "no-javascript")

	wantLocation(t, ctx, api+"/f/"+formID)
	got := text(t, ctx)
	if !strings.Contains(got, nb(i18n.ThanksTitle)) || !strings.Contains(got, nb(i18n.ThanksBody)) {
		t.Errorf("page text %q, want the Norwegian thank-you page", got)
	}
	if !strings.Contains(got, nb(i18n.Back)) {
		t.Errorf("page text %q has no way back to the form", got)
	}
	wantEmails(t, msg, 1)
}

// clearState forgets the status kontakt.js showed, so the next wait is for
// the next answer.
const clearState = `document.querySelectorAll("[data-kontakt-state]").forEach(e => e.removeAttribute("data-kontakt-state"))`

// kontakt.js sends one random key per message: pressed again after a lost
// answer, the same message goes with the same key and staff get one email;
// once it was accepted, or once the visitor changed it, a new key.
func TestScriptKeyPerMessage(t *testing.T) {
	ctx := tab(t)
	msg := marker(t)
	open(t, ctx, site+"/form.html?mode=script")
	must(t, fill(ctx, "Kari Nordmann", "kari@example.no", msg))
	lost.Store(true)
	t.Cleanup(func() { lost.Store(false) }) // should send fail the test
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="error"]`))
	lost.Store(false)
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](clearState)))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"]`))
	keys := calls.sentKeys()
	if len(keys) != 2 || len(keys[0]) < 32 || keys[0] != keys[1] {
		t.Fatalf("keys %q, want one random key for the message and its retry", keys)
	}
	wantEmails(t, msg, 1)

	// The same words again, after they were accepted: a new message.
	must(t, fill(ctx, "Kari Nordmann", "kari@example.no", msg))
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](clearState)))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"]`))
	// Refused (no message), then corrected: the content changed.
	must(t, fill(ctx, "Ola Nordmann", "ola@example.no", ""))
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](clearState)))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="error"]`))
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[name="message"]`), msg+" igjen"), chromedp.Evaluate[chromedp.Void](clearState)))
	send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"]`))
	keys = calls.sentKeys()
	if len(keys) != 5 || keys[2] == keys[0] || keys[3] == keys[2] || keys[4] == keys[3] {
		t.Errorf("keys %q, want a new key after the success and after the change", keys)
	}
	wantEmails(t, msg, 3) // the first once, the repeat, the corrected one
}

// A page that writes a fixed key into the form (the old advice): with
// kontakt.js every visitor's message still gets its own key and arrives;
// without it, the second visitor is told their message was not sent, never
// that it was.
func TestFixedKeyInThePage(t *testing.T) {
	var msgs []string
	for i := range 2 {
		ctx := tab(t)
		msg := marker(t) + fmt.Sprint(i)
		msgs = append(msgs, msg)
		open(t, ctx, site+"/form.html?mode=script&key=1")
		must(t, fill(ctx, "Besøkende", fmt.Sprintf("besok%d@example.no", i), msg))
		send(t, ctx, chromedp.CSS(`[data-kontakt-state="success"]`))
		if k := calls.sentKeys(); len(k) != 1 || k[0] == "same-for-every-visitor" {
			t.Errorf("visitor %d sent key %q", i, k)
		}
	}
	for _, m := range msgs {
		wantEmails(t, m, 1)
	}

	t.Run("plain", func(t *testing.T) {
		for i, want := range []string{nb(i18n.ThanksBody), nb(i18n.KeyReused)} {
			ctx := tab(t)
			msg := marker(t) + fmt.Sprint(i)
			open(t, ctx, site+"/form.html?mode=plain&key=1")
			must(t, fill(ctx, "Besøkende", fmt.Sprintf("plain%d@example.no", i), msg))
			send(t, ctx, chromedp.CSS(`main > p`)) // kontakt's page, not the form's
			if got := text(t, ctx); !strings.Contains(got, want) {
				t.Errorf("visitor %d reads %q, want %q", i, got, want)
			}
			wantEmails(t, msg, 1-i)
		}
	})
}

// A page with two forms loads each form's script: the messages of both
// forms' fields get ids no other element has, and each field is described
// by the message next to it in its own form (before, each copy of the
// script numbered from 1, and the second form's fields pointed at the
// first form's messages).
func TestTwoFormsWithTheirOwnScripts(t *testing.T) {
	ctx := tab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(site+"/two.html"),
		chromedp.WaitReady(chromedp.CSS(`#first[data-kontakt-ready]`)), chromedp.WaitReady(chromedp.CSS(`#second[data-kontakt-ready]`))))
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("send-first")), chromedp.WaitVisible(chromedp.CSS(`#first [data-kontakt-state="error"]`)),
		chromedp.Click(chromedp.ID("send-second")), chromedp.WaitVisible(chromedp.CSS(`#second [data-kontakt-state="error"]`))))
	screenshot(t, ctx, "two-forms-errors")
	type check struct {
		Duplicates []string `json:"duplicates"`
		Described  int      `json:"described"`
		Elsewhere  []string `json:"elsewhere"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[check](`(() => {
  const seen = {}, duplicates = [], elsewhere = [];
  for (const el of document.querySelectorAll("[id]")) {
    if (seen[el.id]) duplicates.push(el.id);
    seen[el.id] = true;
  }
  let described = 0;
  for (const f of document.querySelectorAll("[aria-describedby]")) {
    for (const id of f.getAttribute("aria-describedby").split(/\s+/).filter(Boolean)) {
      const msg = document.getElementById(id);
      if (msg && msg.closest("form") === f.closest("form")) described++;
      else elsewhere.push(f.closest("form").id + " " + f.name + " → " + id);
    }
  }
  return {duplicates, described, elsewhere};
})()`))
	must(t, err)
	if len(got.Duplicates) > 0 || len(got.Elsewhere) > 0 || got.Described != 4 {
		t.Errorf("duplicate ids %v; fields described from another form %v; %d described in their own (want name and message in each, 4)",
			got.Duplicates, got.Elsewhere, got.Described)
	}
	// Each form posted to its own endpoint, once.
	rec := calls.all()
	if len(rec) != 2 || rec[0].Path != "/f/"+formID || rec[1].Path != "/f/"+secondFormID || rec[0].Status != 422 || rec[1].Status != 422 {
		t.Errorf("API calls %+v, want one 422 post to each form", rec)
	}
}
