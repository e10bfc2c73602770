package abuse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/captchatest"
	"github.com/opt-e/kontakt/infra/harness/countertest"
	"github.com/opt-e/kontakt/infra/harness/emf"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	kmetrics "github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/submission"
)

var now = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

// form returns a validated form, changed by edit before validation.
func form(t *testing.T, edit string) *config.Form {
	t.Helper()
	c, err := config.Parse([]byte(`{"forms":[{"id":"contact","recipients":["post@example.no"],"allowed_origins":["https://www.example.no"]` + edit + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Table, c.Sender = "t", "kontakt@example.no"
	cfg, err := config.Load(func(k string) (string, bool) {
		return map[string]string{config.EnvTable: "t", config.EnvSender: "kontakt@example.no", config.EnvFormsFile: writeTemp(t, c)}[k], true
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Form("contact")
}

func writeTemp(t *testing.T, c *config.Config) string {
	t.Helper()
	b, _ := json.Marshal(c)
	p := t.TempDir() + "/forms.json"
	if err := writeFile(p, b); err != nil {
		t.Fatal(err)
	}
	return p
}

func fields(kv ...string) []submission.Field {
	var out []submission.Field
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, submission.Field{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func names(fs []submission.Field) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, ",")
}

func guard() (*abuse.Guard, *bytes.Buffer) {
	var metrics bytes.Buffer
	tokenKey, ipKey, _ := abuse.Keys(strings.Repeat("k", 64))
	return &abuse.Guard{
		Tokens: abuse.NewTokens(tokenKey), IPKey: ipKey,
		Metrics: &kmetrics.EMF{W: &metrics, Function: "kontakt-Submit", Now: func() time.Time { return now }},
		Now:     func() time.Time { return now },
	}, &metrics
}

func TestHoneypots(t *testing.T) {
	for _, tc := range []struct {
		name, edit string
		fields     []submission.Field
		spam       bool
	}{
		{"default _gotcha filled", "", fields("message", "hi", "_gotcha", "x"), true},
		{"default _gotcha empty", "", fields("message", "hi", "_gotcha", " "), false},
		{"FormSubmit _honey", "", fields("message", "hi", "_honey", "x"), true},
		{"_honeypot", "", fields("message", "hi", "_honeypot", "x"), true},
		{"Web3Forms botcheck", "", fields("message", "hi", "botcheck", "on"), true},
		{"empty botcheck is no content", "", fields("message", "hi", "botcheck", ""), false},
		{"configured name", `,"abuse":{"honeypot":"website"}`, fields("message", "hi", "website", "http://x"), true},
		{"configured name empty", `,"abuse":{"honeypot":"website"}`, fields("message", "hi", "website", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, metrics := guard()
			sc := g.Screen(form(t, tc.edit), tc.fields)
			if got := sc.Spam == abuse.RuleHoneypot; got != tc.spam {
				t.Fatalf("spam = %q, want honeypot %v", sc.Spam, tc.spam)
			}
			if got := names(sc.Fields); got != "message" {
				t.Errorf("fields left = %s, want only message (honeypots are never content)", got)
			}
			if got := strings.Contains(metrics.String(), `"rule":"honeypot"`); got != tc.spam {
				t.Errorf("metric written = %v, want %v: %s", got, tc.spam, metrics)
			}
		})
	}
}

// The metric line is CloudWatch EMF: one JSON object naming its metric,
// dimensions and namespace, and nothing a visitor sent.
func TestMetricLineIsEMF(t *testing.T) {
	g, metrics := guard()
	g.Screen(form(t, ""), fields("name", "Kari Nordmann", "message", "hei", "_gotcha", "http://spam.example.com"))
	line := strings.TrimSuffix(metrics.String(), "\n")
	if strings.Contains(line, "\n") {
		t.Fatalf("more than one line: %s", line)
	}
	var m struct {
		Form    string `json:"form"`
		Rule    string `json:"rule"`
		Blocked int    `json:"Blocked"`
	}
	md, err := emf.Decode(line, &m)
	if err != nil {
		t.Fatal(err)
	}
	d := md.CloudWatchMetrics
	if md.Timestamp != now.UnixMilli() || len(d) != 1 || d[0].Namespace != "kontakt" ||
		len(d[0].Dimensions) != 1 || strings.Join(d[0].Dimensions[0], ",") != "form,rule" ||
		len(d[0].Metrics) != 1 || d[0].Metrics[0].Name != "Blocked" || d[0].Metrics[0].Unit != "Count" {
		t.Errorf("not an EMF document: %s", line)
	}
	if m.Form != "contact" || m.Rule != "honeypot" || m.Blocked != 1 {
		t.Errorf("values: %s", line)
	}
	for _, pii := range []string{"Kari", "spam.example.com", "hei"} {
		if strings.Contains(line, pii) {
			t.Errorf("metric line holds %q", pii)
		}
	}
}

func TestControlFieldsAreNeverContent(t *testing.T) {
	g, _ := guard()
	sc := g.Screen(form(t, ""), fields("message", "hi", "cf-turnstile-response", "a", "h-captcha-response", "b", "g-recaptcha-response", "c", "_t", "d"))
	if got := names(sc.Fields); got != "message" {
		t.Errorf("fields = %s", got)
	}
	if sc.CaptchaResponse != "" {
		t.Errorf("a form without captcha kept answer %q", sc.CaptchaResponse)
	}
}

func TestFormToken(t *testing.T) {
	g, _ := guard()
	f := form(t, `,"abuse":{"form_token":{}}`)
	issue := func(age time.Duration) string { return g.Tokens.Issue("contact", now.Add(-age)) }
	other := abuse.NewTokens([]byte("another key"))
	for _, tc := range []struct {
		name    string
		token   string
		spam    abuse.Rule
		expired bool
	}{
		{"valid", issue(10 * time.Second), "", false},
		{"at the minimum", issue(3 * time.Second), "", false},
		{"missing", "", abuse.RuleTokenMissing, false},
		{"too fast", issue(time.Second), abuse.RuleTokenTooFast, false},
		{"other form's token", g.Tokens.Issue("quote", now.Add(-time.Minute)), abuse.RuleTokenInvalid, false},
		{"other key", other.Issue("contact", now.Add(-time.Minute)), abuse.RuleTokenInvalid, false},
		{"tampered time", strings.Replace(issue(10*time.Second), "1", "2", 1), abuse.RuleTokenInvalid, false},
		{"garbage", "hello", abuse.RuleTokenInvalid, false},
		{"from the future", issue(-time.Hour), abuse.RuleTokenInvalid, false},
		{"expired", issue(25 * time.Hour), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := g.Screen(f, fields("message", "hi", abuse.TokenField, tc.token))
			if sc.Spam != tc.spam {
				t.Errorf("spam = %q, want %q", sc.Spam, tc.spam)
			}
			gotExpired := len(sc.Problems) == 1 && sc.Problems[0].Code == abuse.CodeFormExpired
			if gotExpired != tc.expired {
				t.Errorf("problems = %+v, want expired %v", sc.Problems, tc.expired)
			}
			if names(sc.Fields) != "message" {
				t.Errorf("_t kept as a field")
			}
		})
	}
	t.Run("off by default", func(t *testing.T) {
		if sc := g.Screen(form(t, ""), fields("message", "hi")); sc.Spam != "" || len(sc.Problems) > 0 {
			t.Errorf("a form without form_token wants a token: %+v", sc)
		}
	})
	t.Run("no keys fails closed", func(t *testing.T) {
		var none *abuse.Guard
		if sc := none.Screen(f, fields("message", "hi", "_t", issue(time.Minute))); sc.Spam == "" {
			t.Error("a token was accepted without a key to check it")
		}
	})
}

func TestKeys(t *testing.T) {
	if _, _, err := abuse.Keys("short"); err == nil {
		t.Error("a short secret was accepted")
	}
	a, b, err := abuse.Keys(strings.Repeat("x", 64))
	if err != nil || bytes.Equal(a, b) || len(a) != 32 {
		t.Errorf("keys %x %x %v", a, b, err)
	}
}

func TestContentRules(t *testing.T) {
	rules := `"max_links":1,"blocked_phrases":["SEO  services","Crypto"],"field_formats":{"phone":"phone","orgnr":"^[0-9]{9}$","count":"digits"}`
	for _, tc := range []struct {
		name   string
		fields []submission.Field
		codes  string // field:code, ...
		rule   abuse.Rule
	}{
		{"clean", fields("message", "Hei, ring meg på https://www.example.no", "phone", "+47 22 33 44 55", "orgnr", "123456789", "count", "3"), "", ""},
		{"empty formatted fields are left to required_fields", fields("message", "hi", "phone", " "), "", ""},
		{"two links", fields("message", "see https://a.example and www.b.example"), "_form:too_many_links", abuse.RuleLinks},
		{"links across fields and bbcode", fields("name", "[url=x]y[/url]", "message", "<a href=x>"), "_form:too_many_links", abuse.RuleLinks},
		{"links in _next do not count", fields("message", "https://a.example", "_next", "https://www.example.no/takk"), "", ""},
		{"phrase with other case and spacing", fields("message", "We sell seo\n services"), "message:blocked_content", abuse.RulePhrase},
		{"phrase in subject", fields("_subject", "CRYPTO offer", "message", "x"), "_subject:blocked_content", abuse.RulePhrase},
		{"phone with letters", fields("message", "x", "phone", "call me"), "phone:invalid_phone", abuse.RuleFormat},
		{"phone too short", fields("message", "x", "phone", "+1"), "phone:invalid_phone", abuse.RuleFormat},
		{"pattern", fields("message", "x", "orgnr", "12345"), "orgnr:invalid_format", abuse.RuleFormat},
		{"digits", fields("message", "x", "count", "3a"), "count:invalid_format", abuse.RuleFormat},
		{"all at once", fields("message", "crypto https://a https://b", "phone", "x"), "message:blocked_content,_form:too_many_links,phone:invalid_phone", abuse.RulePhrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, metrics := guard()
			sc := g.Screen(form(t, `,"abuse":{`+rules+`}`), tc.fields)
			var got []string
			for _, p := range sc.Problems {
				got = append(got, p.Field+":"+p.Code)
			}
			if strings.Join(got, ",") != tc.codes {
				t.Errorf("problems = %v, want %s", got, tc.codes)
			}
			if sc.Spam != "" {
				t.Errorf("reject form treated it as spam %q", sc.Spam)
			}
			if tc.rule != "" && !strings.Contains(metrics.String(), `"rule":"`+string(tc.rule)+`"`) {
				t.Errorf("no %s metric: %s", tc.rule, metrics)
			}
			// As spam instead of a 422, when the form says so.
			sc = g.Screen(form(t, `,"abuse":{`+rules+`,"content_action":"spam"}`), tc.fields)
			if sc.Spam != tc.rule || len(sc.Problems) > 0 {
				t.Errorf("spam form: spam %q problems %v, want %q", sc.Spam, sc.Problems, tc.rule)
			}
		})
	}
	t.Run("link limit message carries the limit", func(t *testing.T) {
		g, _ := guard()
		sc := g.Screen(form(t, `,"abuse":{"max_links":0}`), fields("message", "www.example.com"))
		if len(sc.Problems) != 1 || sc.Problems[0].Limit != 0 || sc.Problems[0].Code != abuse.CodeTooManyLinks {
			t.Errorf("problems %+v", sc.Problems)
		}
	})
}

// counter is the in-memory abuse.Counter with what these tests watch: how
// many calls, each with a deadline, and how many at once.
type counter struct {
	countertest.Counter
	mu    sync.Mutex
	calls int
	// meet, when set, makes each Hit wait until another Hit is in flight
	// too (or its context ends: calls made one after the other then see
	// only one at a time); most records how many ever were at once.
	meet           bool
	inFlight, most int
	both           chan struct{} // closed once two were in flight
}

func (c *counter) Hit(ctx context.Context, key string, limit int, expires time.Time) (bool, error) {
	if c.meet {
		c.mu.Lock()
		if c.both == nil {
			c.both = make(chan struct{})
		}
		c.inFlight++
		c.most = max(c.most, c.inFlight)
		if c.inFlight == 2 {
			close(c.both)
		}
		both := c.both
		c.mu.Unlock()
		select {
		case <-both:
		case <-ctx.Done():
		}
		defer func() { c.mu.Lock(); c.inFlight--; c.mu.Unlock() }()
	}
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return false, errors.New("no deadline")
	}
	return c.Counter.Hit(ctx, key, limit, expires)
}

// Direct uploads are counted per address apart from posts: per_ip times the
// form's files per message, in the same window; then 429.
func TestUploadRateLimit(t *testing.T) {
	f := form(t, `,"retention_days":30,"files":{"types":["application/pdf"],"max_files":2},"abuse":{"rate_limit":{"per_ip":2,"per_form":100,"window_seconds":60}}`)
	g, _ := guard()
	c := &counter{}
	g.Counter = c
	for i := range 4 {
		if err := g.AdmitUpload(context.Background(), f, "198.51.100.7"); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	var r *abuse.Refusal
	if err := g.AdmitUpload(context.Background(), f, "198.51.100.7"); !errors.As(err, &r) || r.Rule != abuse.RuleRateUpload || r.Kind != abuse.Limited {
		t.Fatalf("fifth upload: %v, want refused by %s", err, abuse.RuleRateUpload)
	}
	if err := g.AdmitUpload(context.Background(), f, "203.0.113.9"); err != nil {
		t.Errorf("another address: %v", err)
	}
	// Posts from the address that used its uploads up still go through.
	if err := g.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7"); err != nil {
		t.Errorf("a post after the uploads: %v", err)
	}
	for _, k := range c.Keys() {
		if strings.Contains(k, "198.51") {
			t.Errorf("counter key %q holds the IP", k)
		}
	}
	var none *abuse.Guard
	if err := none.AdmitUpload(context.Background(), f, "198.51.100.7"); err != nil {
		t.Errorf("nil guard: %v", err)
	}
}

func TestRateLimits(t *testing.T) {
	f := form(t, `,"abuse":{"rate_limit":{"per_ip":2,"per_form":3,"window_seconds":60}}`)
	g, metrics := guard()
	c := &counter{}
	g.Counter = c
	admit := func(ip string) error { return g.Admit(context.Background(), f, &abuse.Screened{}, ip) }
	for i, tc := range []struct {
		ip   string
		rule abuse.Rule
	}{
		{"198.51.100.7", ""},
		{"198.51.100.7", ""},
		{"198.51.100.7", abuse.RuleRateIP},
		{"2001:db8:1:2::1", ""},
		{"2001:db8:1:2:ffff::9", abuse.RuleRateForm}, // same /64, second post; the form is full: held
		{"2001:db8:1:2:ffff::9", abuse.RuleRateIP},
	} {
		err := admit(tc.ip)
		var r *abuse.Refusal
		switch {
		case tc.rule == abuse.RuleRateForm:
			if !errors.Is(err, submission.ErrHold) || errors.As(err, &r) {
				t.Fatalf("post %d over the form's ceiling: %v, want it held, not refused", i, err)
			}
		case tc.rule == "" && err != nil:
			t.Fatalf("post %d: %v", i, err)
		case tc.rule != "" && (!errors.As(err, &r) || r.Rule != tc.rule || r.Kind != abuse.Limited):
			t.Fatalf("post %d: %v, want %s", i, err, tc.rule)
		case tc.rule != "" && r.RetryAfter != 30*time.Second:
			// now is 30 s into a 60 s window.
			t.Errorf("post %d: Retry-After %v, want 30s", i, r.RetryAfter)
		}
	}
	for _, k := range c.Keys() {
		for _, ip := range []string{"198.51.100.7", "2001:db8", "198-51"} {
			if strings.Contains(k, ip) {
				t.Errorf("counter key %q holds the IP", k)
			}
		}
		if !strings.HasPrefix(k, "contact#") || !strings.HasSuffix(k, fmt.Sprintf("#%d", now.Truncate(time.Minute).Unix())) {
			t.Errorf("counter key %q: want the form and the window start", k)
		}
	}
	// HashIP (the erasure page's source counters) hashes as the guard does.
	if want := "contact#ip#" + abuse.HashIP(g.IPKey, "198.51.100.7") + "#"; !slices.ContainsFunc(c.Keys(), func(k string) bool { return strings.HasPrefix(k, want) }) {
		t.Errorf("counter keys %q, want one beginning %q", c.Keys(), want)
	}
	if abuse.HashIP(g.IPKey, "2001:db8:1:2::1") != abuse.HashIP(g.IPKey, "2001:db8:1:2:ffff::9") {
		t.Error("HashIP tells two addresses of one /64 apart")
	}
	if !strings.Contains(metrics.String(), `"rule":"rate_limit_ip"`) || strings.Contains(metrics.String(), `"rule":"rate_limit_form"`) {
		t.Errorf("metrics: %s", metrics)
	}
	// The held post is counted under the function's name, for the alarm.
	if n := strings.Count(metrics.String(), `"`+abuse.MetricHeld+`":1`); n != 1 || !strings.Contains(metrics.String(), `"FunctionName":"kontakt-Submit"`) {
		t.Errorf("%d %s lines under the function: %s", n, abuse.MetricHeld, metrics)
	}

	t.Run("a flooding address does not use the form's ceiling up", func(t *testing.T) {
		f := form(t, `,"abuse":{"rate_limit":{"per_ip":1,"per_form":3,"window_seconds":60}}`)
		g, _ := guard()
		c := &counter{}
		g.Counter = c
		for i := range 5 {
			if err := g.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7"); (err == nil) != (i == 0) {
				t.Fatalf("flood post %d: %v", i, err)
			}
		}
		for _, ip := range []string{"198.51.100.8", "198.51.100.9"} {
			if err := g.Admit(context.Background(), f, &abuse.Screened{}, ip); err != nil {
				t.Fatalf("post from %s after the flood: %v", ip, err)
			}
		}
		if err := g.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.10"); !errors.Is(err, submission.ErrHold) {
			t.Fatalf("fourth address = %v, want held at the form's ceiling", err)
		}
	})
	t.Run("both limits in one round trip", func(t *testing.T) {
		g, _ := guard()
		c := &counter{meet: true}
		g.Counter = c
		if err := g.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
		if c.most != 2 || c.calls != 2 {
			t.Errorf("%d counter calls, at most %d at once; want 2 at once", c.calls, c.most)
		}
	})
	t.Run("a counter that fails lets posts through", func(t *testing.T) {
		g, metrics := guard()
		g.Counter = &counter{Counter: countertest.Counter{Err: errors.New("connection refused")}}
		if err := g.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7"); err != nil {
			t.Fatalf("refused: %v", err)
		}
		if !strings.Contains(metrics.String(), `"rule":"rate_limit_unavailable"`) {
			t.Errorf("not counted: %s", metrics)
		}
	})
	t.Run("another salt, another key", func(t *testing.T) {
		a, b := &counter{}, &counter{}
		g1, _ := guard()
		g1.Counter = a
		g2, _ := guard()
		g2.Counter, g2.IPKey = b, []byte("other salt")
		g1.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7")
		g2.Admit(context.Background(), f, &abuse.Screened{}, "198.51.100.7")
		if a.Keys()[0] == b.Keys()[0] {
			t.Error("the IP hash does not depend on the salt")
		}
	})
}

func captchaForm(t *testing.T, provider, url, extra string) *config.Form {
	return form(t, `,"abuse":{"captcha":{"provider":"`+provider+`","secret":"kontakt/captcha/test","verify_url":"`+url+`"`+extra+`}}`)
}

func captchaGuard(secret string) *abuse.Guard {
	g, _ := guard()
	// Far longer than a loopback answer takes even under -race on a loaded
	// machine; only the server that never answers (captchatest.Slow) meets
	// it, and the tests give that case a short one of its own.
	g.Captcha = &abuse.Verifier{Client: http.DefaultClient, Secrets: map[string]string{"kontakt/captcha/test": secret}, Timeout: 30 * time.Second}
	return g
}

// Every provider: a solved captcha passes; a wrong, reused or missing one
// is a 422 the visitor can fix; a verify server that times out, fails or
// garbles its answer refuses the post (fail closed); a rejected secret too.
func TestCaptchaProviders(t *testing.T) {
	providers := map[string]string{
		config.CaptchaTurnstile:   "cf-turnstile-response",
		config.CaptchaHCaptcha:    "h-captcha-response",
		config.CaptchaRecaptcha:   "g-recaptcha-response",
		config.CaptchaRecaptchaV3: "g-recaptcha-response",
	}
	for provider, field := range providers {
		t.Run(provider, func(t *testing.T) {
			srv := captchatest.Start(t, provider, "s3cret")
			f := captchaForm(t, provider, srv.URL, "")
			g := captchaGuard("s3cret")
			admit := func(answer string) error {
				sc := g.Screen(f, fields("message", "hi", field, answer))
				return g.Admit(context.Background(), f, sc, "198.51.100.7")
			}
			if err := admit(captchatest.Pass); err != nil {
				t.Fatalf("solved captcha refused: %v", err)
			}
			for _, tc := range []struct {
				answer string
				kind   abuse.Kind
				code   string
			}{
				{captchatest.Pass, abuse.Invalid, abuse.CodeCaptchaFailed}, // used twice
				{"wrong", abuse.Invalid, abuse.CodeCaptchaFailed},
				{"", abuse.Invalid, abuse.CodeCaptchaRequired},
				{captchatest.Slow, abuse.Unavailable, ""},
				{captchatest.Broken, abuse.Unavailable, ""},
				{captchatest.Garbled, abuse.Unavailable, ""},
				{captchatest.Internal, abuse.Unavailable, ""},
			} {
				g.Captcha.Timeout = 30 * time.Second
				if tc.answer == captchatest.Slow {
					g.Captcha.Timeout = 10 * time.Millisecond // it never answers
				}
				err := admit(tc.answer)
				var r *abuse.Refusal
				if !errors.As(err, &r) || r.Kind != tc.kind || r.Problem.Code != tc.code {
					t.Errorf("%q: %+v, want %v %s", tc.answer, r, tc.kind, tc.code)
					continue
				}
				if tc.kind == abuse.Invalid && r.Problem.Field != field {
					t.Errorf("%q: problem on %q, want %q", tc.answer, r.Problem.Field, field)
				}
				if tc.kind == abuse.Unavailable && r.RetryAfter <= 0 {
					t.Errorf("%q: no Retry-After", tc.answer)
				}
			}
			g = captchaGuard("wrong secret")
			var r *abuse.Refusal
			if err := admit("another"); !errors.As(err, &r) || r.Kind != abuse.Unavailable {
				t.Errorf("rejected secret: %v, want unavailable", err)
			}
			for _, req := range srv.Requests() {
				if req.HasRemoteIP {
					t.Errorf("the visitor's IP was sent to the provider without send_ip")
				}
			}
		})
	}
}

func TestCaptchaDetails(t *testing.T) {
	t.Run("reCAPTCHA v3 score threshold and action", func(t *testing.T) {
		srv := captchatest.Start(t, config.CaptchaRecaptchaV3, "s")
		g := captchaGuard("s")
		for _, tc := range []struct {
			extra, answer string
			ok            bool
		}{
			{"", captchatest.Pass, true},
			{"", captchatest.LowScore, false},
			{`,"min_score":0.05`, captchatest.LowScore + "2", false}, // unknown answer
			{`,"action":"contact"`, captchatest.Pass + "a", false},
			{`,"action":"login"`, captchatest.Pass, false},
		} {
			f := captchaForm(t, config.CaptchaRecaptchaV3, srv.URL, tc.extra)
			ok, err := g.Captcha.Verify(context.Background(), f.Abuse.Captcha, tc.answer, "")
			if err != nil || ok != tc.ok {
				t.Errorf("%s %s: %v %v, want %v", tc.extra, tc.answer, ok, err, tc.ok)
			}
		}
	})
	t.Run("remoteip only with send_ip", func(t *testing.T) {
		srv := captchatest.Start(t, config.CaptchaTurnstile, "s")
		g := captchaGuard("s")
		f := captchaForm(t, config.CaptchaTurnstile, srv.URL, `,"send_ip":true`)
		sc := g.Screen(f, fields("cf-turnstile-response", captchatest.Pass))
		if err := g.Admit(context.Background(), f, sc, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
		if r := srv.Requests(); len(r) != 1 || r[0].RemoteIP != "198.51.100.7" || r[0].Secret != "s" || r[0].Response != captchatest.Pass {
			t.Errorf("requests %+v", r)
		}
	})
	t.Run("compatibility field", func(t *testing.T) {
		srv := captchatest.Start(t, config.CaptchaHCaptcha, "s")
		g := captchaGuard("s")
		f := captchaForm(t, config.CaptchaHCaptcha, srv.URL, "")
		sc := g.Screen(f, fields("g-recaptcha-response", captchatest.Pass))
		if err := g.Admit(context.Background(), f, sc, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no verifier fails closed", func(t *testing.T) {
		g, _ := guard()
		f := captchaForm(t, config.CaptchaTurnstile, "https://example.com/v", "")
		var r *abuse.Refusal
		if err := g.Admit(context.Background(), f, &abuse.Screened{CaptchaResponse: "x"}, ""); !errors.As(err, &r) || r.Kind != abuse.Unavailable {
			t.Errorf("%v", err)
		}
	})
	t.Run("default verify URLs are the providers' own", func(t *testing.T) {
		for p, want := range map[string]string{
			config.CaptchaTurnstile:   "https://challenges.cloudflare.com/turnstile/v0/siteverify",
			config.CaptchaHCaptcha:    "https://api.hcaptcha.com/siteverify",
			config.CaptchaRecaptcha:   "https://www.google.com/recaptcha/api/siteverify",
			config.CaptchaRecaptchaV3: "https://www.google.com/recaptcha/api/siteverify",
		} {
			if got := abuse.VerifyURL(&config.Captcha{Provider: p}); got != want {
				t.Errorf("%s: %s", p, got)
			}
		}
	})
}

// The per-IP limit is checked before the captcha (a flooding address costs
// no provider call), and the form's ceiling after it (bots failing
// captchas cannot use it up).
func TestAdmitOrder(t *testing.T) {
	srv := captchatest.Start(t, config.CaptchaTurnstile, "s")
	f := captchaForm(t, config.CaptchaTurnstile, srv.URL, `},"rate_limit":{"per_ip":1,"per_form":1`)
	g := captchaGuard("s")
	c := &counter{}
	g.Counter = c
	sc := &abuse.Screened{CaptchaResponse: "wrong"}
	if err := g.Admit(context.Background(), f, sc, "198.51.100.7"); err == nil {
		t.Fatal("wrong captcha admitted")
	}
	if err := g.Admit(context.Background(), f, &abuse.Screened{CaptchaResponse: captchatest.Pass}, "198.51.100.8"); err != nil {
		t.Fatalf("the form's ceiling was used up by a failed captcha: %v", err)
	}
	if err := g.Admit(context.Background(), f, sc, "198.51.100.7"); err == nil || len(srv.Requests()) != 2 {
		t.Fatalf("second post from a limited address: %v; provider calls %d, want 2", err, len(srv.Requests()))
	}
}

// With a captcha too, a solved post over the form's ceiling is held, not
// refused.
func TestCaptchaPostOverTheCeilingIsHeld(t *testing.T) {
	srv := captchatest.Start(t, config.CaptchaTurnstile, "s")
	f := captchaForm(t, config.CaptchaTurnstile, srv.URL, `},"rate_limit":{"per_ip":1,"per_form":1`)
	g := captchaGuard("s")
	c := &counter{}
	c.Set(fmt.Sprintf("contact#form#%d", now.Truncate(time.Minute).Unix()), 1)
	g.Counter = c
	if err := g.Admit(context.Background(), f, &abuse.Screened{CaptchaResponse: captchatest.Pass}, "198.51.100.9"); !errors.Is(err, submission.ErrHold) {
		t.Fatalf("post over the ceiling with a captcha: %v, want held", err)
	}
}

// The source key is the rate limits' keyed hash: the same for one /64,
// never the address, and another with another key.
func TestSourceKey(t *testing.T) {
	g, _ := guard()
	a, b := g.SourceKey("2001:db8:1:2::1"), g.SourceKey("2001:db8:1:2:ffff::9")
	if a != b || strings.Contains(a, "2001") || len(a) != 32 {
		t.Errorf("keys %q %q", a, b)
	}
	if g.SourceKey("198.51.100.7") == g.SourceKey("198.51.100.8") {
		t.Error("two addresses, one key")
	}
	var none *abuse.Guard
	if k := none.SourceKey("198.51.100.7"); k == "" || k == g.SourceKey("198.51.100.7") {
		t.Errorf("nil guard key %q", k)
	}
}
