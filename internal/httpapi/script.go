package httpapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/i18n"
)

// ScriptFile is the last path segment of the embeddable script's route,
// GET /f/{form}/kontakt.js.
const ScriptFile = "kontakt.js"

// ScriptCacheControl lets browsers and CDNs keep the script for an hour: a
// changed form language reaches visitors within that hour, and the ETag
// makes the check after it cheap.
const ScriptCacheControl = "public, max-age=3600"

//go:embed kontakt.js
var scriptFile string

// scriptSource is kontakt.js without indentation and whole-line comments:
// a third smaller on the wire (API Gateway does not compress), still
// readable. The file has no multi-line strings, so this changes no
// behaviour; the browser tests run what is served. Made on the first
// request for the script rather than in every cold start.
var scriptSource = sync.OnceValue(func() string {
	var b strings.Builder
	for line := range strings.Lines(scriptFile) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return b.String()
})

// scriptConfig is the literal in kontakt.js that the form's settings
// replace.
const scriptConfig = `/*config*/{ "language": "nb", "texts": { "nb": {}, "en": {} } }`

// script serves the embeddable script with the form's default language and
// the script's own texts in both languages; it picks one in the browser, as
// the server does from Accept-Language.
func (r *request) script() events.APIGatewayV2HTTPResponse {
	if r.method != "GET" {
		return r.methodNotAllowed("GET")
	}
	r.outcome = "script"
	type texts struct {
		Sending string `json:"sending"`
		Network string `json:"network"`
		Failed  string `json:"failed"`
	}
	cfg := struct {
		Language string           `json:"language"`
		Texts    map[string]texts `json:"texts"`
	}{Language: r.form.Language, Texts: map[string]texts{}}
	for _, lang := range []string{"nb", "en"} {
		cfg.Texts[lang] = texts{
			Sending: i18n.Text(lang, i18n.Sending, 0),
			Network: i18n.Text(lang, i18n.NetworkError, 0),
			Failed:  i18n.Text(lang, i18n.Unavailable, 0),
		}
	}
	b, _ := json.Marshal(cfg) // plain strings: cannot fail
	body := strings.Replace(scriptSource(), scriptConfig, string(b), 1)
	sum := sha256.Sum256([]byte(body))
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := map[string]string{
		"Content-Type":           "text/javascript; charset=utf-8",
		"Cache-Control":          ScriptCacheControl,
		"ETag":                   etag,
		"X-Content-Type-Options": "nosniff",
		// Pages that isolate themselves (Cross-Origin-Embedder-Policy) may
		// still load it from the API's origin.
		"Cross-Origin-Resource-Policy": "cross-origin",
	}
	if etagMatches(r.header("if-none-match"), etag) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 304, Headers: h}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: h, Body: body}
}

func etagMatches(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
