package app_test

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/captchatest"
	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
	"io"
)

// formsConfig loads forms (JSON objects) as the function would, with the
// stack's generated secret.
func formsConfig(t *testing.T, forms ...string) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "forms.json")
	if err := os.WriteFile(p, []byte(`{"forms":[`+strings.Join(forms, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		config.EnvTable: env.Table, config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no", config.EnvSecretID: env.SecretID, config.EnvFormsFile: p,
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// formPost is a JSON post to form from ip, as API Gateway delivers it.
func formPost(form, ip, body string, headers ...string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "application/json", "origin": "https://www.example.no"}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			delete(h, headers[i])
		} else {
			h[headers[i]] = headers[i+1]
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /f/{form}", RawPath: "/f/" + form, Headers: h, Body: body,
		PathParameters: map[string]string{"form": form},
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = "/f/" + form
	ev.RequestContext.HTTP.SourceIP = ip
	return ev
}

// emailsFor counts the emails of form in the SES emulator (the default
// subject starts with "[form]").
func emailsFor(t *testing.T, form string) int {
	t.Helper()
	return countEmails(t, func(e localstack.Email) bool { return strings.HasPrefix(e.Subject, "["+form+"]") })
}

// countEmails counts the emails in the SES emulator that match.
func countEmails(t *testing.T, match func(localstack.Email) bool) int {
	t.Helper()
	emails, err := env.Emails(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range emails {
		if match(e) {
			n++
		}
	}
	return n
}

// Concurrent posts over the limit against DynamoDB (dynalite): no more
// than the limit pass, per source IP and for the whole form, and only
// those that pass are emailed now. Past the address's limit a post is
// refused (429); past the form's ceiling it is held (202, stored).
func TestRateLimitUnderConcurrency(t *testing.T) {
	integration(t)
	cfg := formsConfig(t,
		`{"id":"burst-ip","abuse":{"rate_limit":{"per_ip":3,"per_form":100}}}`,
		`{"id":"burst-form","abuse":{"rate_limit":{"per_ip":3,"per_form":4}}}`)
	h := submitHandler(t, cfg, env.AWS, slog.New(slog.DiscardHandler))
	// One window for the whole test, so a minute boundary cannot split it.
	start := time.Now()
	g := h.Guard.(*abuse.Guard)
	g.Now = func() time.Time { return start }
	// A counter call that times out lets the post through (the guard fails
	// open): on a loaded machine that would pass a fourth post, so the
	// deadline here is far from anything a shared machine reaches.
	g.CounterTimeout = 30 * time.Second

	for _, tc := range []struct {
		form          string
		ip            func(i int) string
		n, want, held int
	}{
		{"burst-ip", func(int) string { return "198.51.100.20" }, 12, 3, 0},
		{"burst-form", func(i int) string { return fmt.Sprintf("198.51.100.%d", 100+i) }, 12, 4, 8},
	} {
		t.Run(tc.form, func(t *testing.T) {
			statuses := make([]int, tc.n)
			var wg sync.WaitGroup
			for i := range tc.n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := h.Handle(ctx(t), formPost(tc.form, tc.ip(i), "message=Hei+nr+"+fmt.Sprint(i)))
					if err != nil {
						t.Error(err)
					}
					statuses[i] = resp.StatusCode
					if resp.StatusCode == 429 && resp.Headers["Retry-After"] == "" {
						t.Error("429 without Retry-After")
					}
				}()
			}
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			if counts[200] != tc.want || counts[202] != tc.held || counts[429] != tc.n-tc.want-tc.held {
				t.Fatalf("statuses %v, want %d × 200, %d × 202 and the rest 429", counts, tc.want, tc.held)
			}
			if got := emailsFor(t, tc.form); got != tc.want {
				t.Errorf("%d emails, want %d", got, tc.want)
			}
			// Posts the address limit refused gave their count on the form
			// back: the ceiling counts only what was let through.
			if got := counterValue(t, fmt.Sprintf("%s%s#form#%d", dynamo.RateIDPrefix, tc.form, start.Truncate(time.Minute).Unix())); got != tc.want {
				t.Errorf("form counter = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("giving back a count that is not there creates nothing", func(t *testing.T) {
		rc := &dynamo.RateCounter{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}
		if err := rc.Undo(ctx(t), "nothing#here"); err != nil {
			t.Fatal(err)
		}
		if got := counterValue(t, dynamo.RateIDPrefix+"nothing#here"); got != -1 {
			t.Errorf("Undo created a counter holding %d", got)
		}
	})

	// The counters hold a hash, never the address, and expire.
	out, err := dynamodb.NewFromConfig(env.AWS).Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String(env.Table)})
	if err != nil {
		t.Fatal(err)
	}
	counters := 0
	for _, item := range out.Items {
		id := item[dynamo.AttrID].(*types.AttributeValueMemberS).Value
		if !strings.HasPrefix(id, dynamo.RateIDPrefix) {
			continue
		}
		counters++
		if strings.Contains(fmt.Sprint(item), "198.51.100") {
			t.Errorf("counter %s holds an IP address", id)
		}
		if _, ok := item[dynamo.TTLAttribute]; !ok {
			t.Errorf("counter %s has no %s", id, dynamo.TTLAttribute)
		}
		if _, ok := item[dynamo.AttrPending]; ok {
			t.Errorf("counter %s is in the pending index", id)
		}
	}
	if counters == 0 {
		t.Error("no counters in the table")
	}
}

// counterValue reads a rate counter's count; -1 when there is none.
func counterValue(t *testing.T, id string) int {
	t.Helper()
	out, err := dynamodb.NewFromConfig(env.AWS).GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String(env.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := out.Item[dynamo.AttrCount].(*types.AttributeValueMemberN)
	if !ok {
		return -1
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every rule blocks what it should with nothing emailed, and a normal
// submission through all of them is emailed once.
func TestEveryRuleBlocksBeforeAnyEmail(t *testing.T) {
	integration(t)
	secret := "captcha-secret-" + strings.Repeat("x", 8)
	var forms []string
	servers := map[string]*captchatest.Server{}
	for _, p := range []string{config.CaptchaTurnstile, config.CaptchaHCaptcha, config.CaptchaRecaptcha} {
		servers[p] = captchatest.Start(t, p, secret)
		if _, err := env.PutSecret(ctx(t), "kontakt/captcha/"+p, secret); err != nil {
			t.Fatal(err)
		}
		forms = append(forms, fmt.Sprintf(`{"id":"guarded-%s","required_fields":["message"],"abuse":{
			"require_origin":true,"form_token":{},"max_links":1,"blocked_phrases":["casino"],
			"field_formats":{"phone":"phone"},"rate_limit":{"per_ip":100,"per_form":100},
			"captcha":{"provider":%q,"secret":"kontakt/captcha/%s","verify_url":%q}}}`, p, p, p, servers[p].URL))
	}
	forms = append(forms, `{"id":"guarded-spam","abuse":{"blocked_phrases":["casino"],"content_action":"spam"}}`)
	h := submitHandler(t, formsConfig(t, forms...), env.AWS, slog.New(slog.DiscardHandler))
	// Generous for the servers that answer; the case whose server never
	// answers sets a short one of its own.
	g := h.Guard.(*abuse.Guard)
	g.Captcha.Timeout = 30 * time.Second
	if err := env.ClearEmails(ctx(t)); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{config.CaptchaTurnstile, config.CaptchaHCaptcha, config.CaptchaRecaptcha} {
		t.Run(p, func(t *testing.T) {
			form := "guarded-" + p
			field := abuse.CaptchaField(p)
			token := g.Tokens.Issue(form, time.Now().Add(-time.Minute))
			body := func(kv ...string) string {
				v := url.Values{"message": {"Hei"}, "_t": {token}, field: {captchatest.Pass}}
				for i := 0; i+1 < len(kv); i += 2 {
					if kv[i+1] == "" {
						v.Del(kv[i])
					} else {
						v.Set(kv[i], kv[i+1])
					}
				}
				return v.Encode()
			}
			for _, tc := range []struct {
				name   string
				req    events.APIGatewayV2HTTPRequest
				status int
			}{
				{"honeypot", formPost(form, "198.51.100.30", body("_gotcha", "x")), 200},
				{"no form token", formPost(form, "198.51.100.30", body("_t", "")), 200},
				{"too fast", formPost(form, "198.51.100.30", body("_t", g.Tokens.Issue(form, time.Now()))), 200},
				{"no origin or referer", formPost(form, "198.51.100.30", body(), "origin", ""), 403},
				{"foreign origin", formPost(form, "198.51.100.30", body(), "origin", "https://evil.example.com"), 403},
				{"links", formPost(form, "198.51.100.30", body("message", "https://a.example https://b.example")), 422},
				{"blocked phrase", formPost(form, "198.51.100.30", body("message", "Best CASINO")), 422},
				{"phone format", formPost(form, "198.51.100.30", body("phone", "ring meg")), 422},
				{"captcha missing", formPost(form, "198.51.100.30", body(field, "")), 422},
				{"captcha wrong", formPost(form, "198.51.100.30", body(field, "wrong")), 422},
				{"captcha verify timeout", formPost(form, "198.51.100.30", body(field, captchatest.Slow)), 503},
			} {
				g.Captcha.Timeout = 30 * time.Second
				if tc.name == "captcha verify timeout" {
					g.Captcha.Timeout = 10 * time.Millisecond
				}
				resp, err := h.Handle(ctx(t), tc.req)
				if err != nil || resp.StatusCode != tc.status {
					t.Errorf("%s: %d %v, want %d: %s", tc.name, resp.StatusCode, err, tc.status, resp.Body)
				}
			}
			if n := emailsFor(t, form); n != 0 {
				t.Fatalf("%d emails for blocked posts", n)
			}
			resp, err := h.Handle(ctx(t), formPost(form, "198.51.100.30", body("phone", "+47 22 33 44 55")))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("normal submission: %d %v %s", resp.StatusCode, err, resp.Body)
			}
			if n := emailsFor(t, form); n != 1 {
				t.Errorf("%d emails, want 1", n)
			}
			if reqs := servers[p].Requests(); len(reqs) == 0 || reqs[len(reqs)-1].Secret != secret {
				t.Errorf("the verify server did not get the secret from Secrets Manager: %+v", reqs)
			}
		})
	}
	t.Run("content as spam", func(t *testing.T) {
		resp, _ := h.Handle(ctx(t), formPost("guarded-spam", "198.51.100.31", "message=casino"))
		if resp.StatusCode != 200 || emailsFor(t, "guarded-spam") != 0 {
			t.Errorf("status %d, emails %d; want a success answer and no email", resp.StatusCode, emailsFor(t, "guarded-spam"))
		}
	})
}

// The secrets are read at start-up: a missing one stops the function with
// the key named.
func TestSubmitNeedsItsSecrets(t *testing.T) {
	integration(t)
	for _, tc := range []struct {
		name, key string
		cfg       func() *config.Config
	}{
		{"no secret id", config.EnvSecretID, func() *config.Config {
			c := formsConfig(t, `{"id":"contact"}`)
			c.SecretID = ""
			return c
		}},
		{"no such secret", config.EnvSecretID, func() *config.Config {
			c := formsConfig(t, `{"id":"contact"}`)
			c.SecretID = "KontaktSecret-missing"
			return c
		}},
		{"no captcha secret", "forms[1].abuse.captcha.secret", func() *config.Config {
			return formsConfig(t, `{"id":"a"}`, `{"id":"b","abuse":{"captcha":{"provider":"turnstile","secret":"kontakt/captcha/never-stored"}}}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg()
			_, err := submit.Handler(ctx(t), cfg, submit.NewClients(env.AWS, cfg), slog.New(slog.DiscardHandler), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("err = %v, want one naming %s", err, tc.key)
			}
		})
	}
}

// Six addresses at their limit (5 a minute each, the defaults) fill the
// form's ceiling (30): a seventh visitor is not locked out. Their message
// is stored and answered 202 (held), the metric that raises the alarm is
// written, and the next redrive run emails it. A flooding address is still
// refused at its own limit.
func TestSixSourcesDoNotLockTheForm(t *testing.T) {
	integration(t)
	s := newStack(t)
	form := s.submit.Config.Form("contact")
	form.Abuse.RateLimit = config.RateLimit{PerIP: config.DefaultRatePerIP, PerForm: config.DefaultRatePerForm, WindowSeconds: config.DefaultRateWindowSeconds}
	start := time.Now()
	g := s.submit.Guard.(*abuse.Guard)
	g.Now = func() time.Time { return start } // one window
	var metricLines strings.Builder
	g.Metrics = &metrics.EMF{W: io.MultiWriter(s.logs, &metricLines), Function: "kontakt-test-Submit"}

	var sent []string
	n := 0
	post := func(source int) answer {
		n++
		ev := s.visitor(t, n)
		ev.RequestContext.HTTP.SourceIP = fmt.Sprintf("198.51.100.%d", 40+source)
		s.logs.Secret(ev.RequestContext.HTTP.SourceIP)
		return s.post(t, ctx(t), ev)
	}
	for source := range 6 {
		for range config.DefaultRatePerIP {
			a := post(source)
			if a.status != 200 {
				t.Fatalf("post %d from source %d: %+v, want 200", n, source, a)
			}
			sent = append(sent, a.ID)
		}
	}
	if a := post(0); a.status != 429 || a.retry == "" {
		t.Errorf("a sixth post from the first source: %+v, want 429 with Retry-After", a)
	}
	seventh := post(6)
	if seventh.status != 202 || !seventh.OK || seventh.Status != "queued" || seventh.ID == "" {
		t.Fatalf("the seventh visitor: %+v, want 202 queued", seventh)
	}
	if c := s.copyOf(t, seventh.ID); c == nil || c.Status != dynamo.StatusPending || c.Reason != dynamo.ReasonHeld {
		t.Fatalf("the seventh visitor's copy: %+v, want pending, held", c)
	}
	assertEmailedOnce(t, sent) // not the held one, yet
	if got := strings.Count(metricLines.String(), `"`+abuse.MetricHeld+`":1`); got != 1 || !strings.Contains(metricLines.String(), `"FunctionName":"kontakt-test-Submit"`) {
		t.Errorf("%d %s data points under the function: %s", got, abuse.MetricHeld, metricLines.String())
	}

	rep := s.redriveSends(t, 1)
	if rep.Released != 1 || rep.Held != 1 {
		t.Errorf("redrive %+v, want the held copy released", rep)
	}
	if c := s.copyOf(t, seventh.ID); c == nil || c.Status != dynamo.StatusSent || c.Reason != "" {
		t.Errorf("released copy: %+v, want sent", c)
	}
	assertEmailedOnce(t, append(sent, seventh.ID))
}
