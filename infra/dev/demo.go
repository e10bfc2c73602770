package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"path/filepath"

	"github.com/opt-e/kontakt/internal/config"
)

//go:embed demo.html
var demoSource string

var demoPage = template.Must(template.New("demo").Parse(demoSource))

// demo serves the demo page for the first configured form: the form
// itself (enhanced by kontakt.js, or with ?js=0 as a plain post), the
// snippet a web developer copies, and the mail viewer's address.
type demo struct {
	api, mail, formsFile string
	forms                func() *config.Config
}

func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form := d.forms().Forms[0]
	// The page's own origin, as the browser will send it with the post.
	origin := "http://" + r.Host
	var b bytes.Buffer
	err := demoPage.Execute(&b, map[string]any{
		"API":           d.api,
		"Mail":          d.mail,
		"Form":          form.ID,
		"FormsFile":     d.formsFile,
		"Origin":        origin,
		"OriginAllowed": form.OriginAllowed(origin),
		"Script":        r.URL.Query().Get("js") != "0",
		"FormspreeAjax": formspreeAjaxPath,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// formspreeAjaxPath is where the demo page loads @formspree/ajax from.
const formspreeAjaxPath = "/vendor/formspree-ajax.js"

// formspreeAjax serves @formspree/ajax's browser bundle from infra's
// node_modules (pinned in infra/package.json), so that the demo page shows
// Formspree's own script working against kontakt without a CDN.
func formspreeAjax(infraDir string) http.Handler {
	file := filepath.Join(infraDir, "node_modules", "@formspree", "ajax", "dist", "global.js")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, file)
	})
}
