package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
)

func TestDemoPage(t *testing.T) {
	cfg, err := config.Parse([]byte(`{"forms":[{"id":"kontakt-oss","allowed_origins":["http://127.0.0.1:3000"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{api: "http://127.0.0.1:3000", mail: "http://127.0.0.1:8005", formsFile: "infra/dev/forms.json", forms: func() *config.Config { return cfg }}
	get := func(host, query string) string {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/"+query, nil)
		r.Host = host
		d.ServeHTTP(w, r)
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("GET /%s: %d %s", query, w.Code, w.Header().Get("Content-Type"))
		}
		return w.Body.String()
	}
	const (
		script  = `<script src="http://127.0.0.1:3000/f/kontakt-oss/kontakt.js" defer></script>`
		action  = `action="http://127.0.0.1:3000/f/kontakt-oss" method="post"`
		snippet = `&lt;script src="http://127.0.0.1:3000/f/kontakt-oss/kontakt.js" defer&gt;&lt;/script&gt;`
		warning = `role="alert"`
	)

	page := get("127.0.0.1:3000", "")
	for _, want := range []string{script, action, snippet, `href="http://127.0.0.1:8005"`, `href="/?js=0"`} {
		if !strings.Contains(page, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
	if strings.Contains(page, warning) {
		t.Error("warns although the page's origin is allowed")
	}

	// The third form: Formspree's own script, pointed at kontakt.
	for _, want := range []string{`<form class="demo" id="formspree" aria-labelledby="formspree-h" novalidate>`, `<script src="/vendor/formspree-ajax.js" defer></script>`,
		`formspree("initForm", { formElement: "#formspree", formId: "kontakt-oss", origin: "http://127.0.0.1:3000" });`} {
		if !strings.Contains(page, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}

	plain := get("127.0.0.1:3000", "?js=0")
	if strings.Contains(plain, "<script") || !strings.Contains(plain, action) || !strings.Contains(plain, snippet) {
		t.Error("?js=0 should be the same form and snippet with no script")
	}
	if strings.Contains(plain, `id="formspree"`) {
		t.Error("?js=0 shows the @formspree/ajax form, which cannot work without JavaScript")
	}

	if other := get("localhost:3000", ""); !strings.Contains(other, warning) || !strings.Contains(other, "http://localhost:3000") {
		t.Error("no warning for a page origin the form does not allow")
	}
}

// The demo page's copy of @formspree/ajax comes from infra's node_modules.
func TestFormspreeAjaxServedFromNodeModules(t *testing.T) {
	infra := t.TempDir()
	dir := filepath.Join(infra, "node_modules", "@formspree", "ajax", "dist")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "global.js"), []byte("window.formspree=1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	formspreeAjax(infra).ServeHTTP(w, httptest.NewRequest("GET", formspreeAjaxPath, nil))
	if w.Code != 200 || w.Body.String() != "window.formspree=1;" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("%d %s %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
