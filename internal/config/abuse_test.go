package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
)

func loadForms(t *testing.T, forms string) (*config.Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "forms.json")
	if err := os.WriteFile(p, []byte(`{"forms":[`+forms+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := base()
	e[config.EnvFormsFile] = p
	return config.Load(env(e))
}

func TestAbuseDefaults(t *testing.T) {
	cfg, err := loadForms(t, `{"id":"contact"}`)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Form("contact").Abuse
	if a.Honeypot != "_gotcha" || a.FormToken != nil || a.Captcha != nil || a.RequireOrigin || a.MaxLinks != nil ||
		a.ContentAction != "reject" || a.RateLimit != (config.RateLimit{PerIP: 5, PerForm: 30, WindowSeconds: 60}) {
		t.Errorf("defaults = %+v", a)
	}
	cfg, err = loadForms(t, `{"id":"contact","abuse":{"form_token":{},"captcha":{"provider":"recaptcha-v3","secret":"kontakt/captcha/google"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	a = cfg.Form("contact").Abuse
	if *a.FormToken != (config.FormToken{MinSeconds: 3, MaxAgeSeconds: 86400}) || a.Captcha.MinScore != 0.5 {
		t.Errorf("token %+v, captcha %+v", a.FormToken, a.Captcha)
	}
	if _, err := loadForms(t, `{"id":"contact","abuse":{"captcha":{"provider":"turnstile","secret":"arn:aws:secretsmanager:eu-north-1:123456789012:secret:kontakt/captcha/cf-AbCdEf","verify_url":"http://127.0.0.1:9/v"}}}`); err != nil {
		t.Errorf("an ARN under the prefix and a loopback verify URL: %v", err)
	}
}

// A bad abuse key stops start-up and is named, like every other key.
func TestBadAbuseConfigurationNamesTheKey(t *testing.T) {
	for _, tc := range []struct{ name, form, key string }{
		{"misspelt rule", `"abuse":{"max_link":2}`, "max_link"},
		{"honeypot with space", `"abuse":{"honeypot":"my field"}`, "forms[0].abuse.honeypot"},
		{"honeypot is a used field", `"required_fields":["message"],"abuse":{"honeypot":"message"}`, "forms[0].abuse.honeypot"},
		{"honeypot is the reply address", `"abuse":{"honeypot":"email"}`, "forms[0].abuse.honeypot"},
		{"token too slow to matter", `"abuse":{"form_token":{"min_seconds":7200}}`, "forms[0].abuse.form_token.min_seconds"},
		{"token max age", `"abuse":{"form_token":{"max_age_seconds":10}}`, "forms[0].abuse.form_token.max_age_seconds"},
		{"unknown provider", `"abuse":{"captcha":{"provider":"friendly","secret":"kontakt/captcha/x"}}`, "forms[0].abuse.captcha.provider"},
		{"plain secret", `"abuse":{"captcha":{"provider":"turnstile","secret":"0x4AAAAAAA"}}`, "forms[0].abuse.captcha.secret"},
		{"secret elsewhere", `"abuse":{"captcha":{"provider":"turnstile","secret":"prod/db-password"}}`, "forms[0].abuse.captcha.secret"},
		{"secret ARN elsewhere", `"abuse":{"captcha":{"provider":"turnstile","secret":"arn:aws:secretsmanager:eu-north-1:1:secret:db-AbCdEf"}}`, "forms[0].abuse.captcha.secret"},
		{"plain http verify URL", `"abuse":{"captcha":{"provider":"hcaptcha","secret":"kontakt/captcha/h","verify_url":"http://verify.example.com/"}}`, "forms[0].abuse.captcha.verify_url"},
		{"score above 1", `"abuse":{"captcha":{"provider":"recaptcha-v3","secret":"kontakt/captcha/g","min_score":5}}`, "forms[0].abuse.captcha.min_score"},
		{"score on v2", `"abuse":{"captcha":{"provider":"recaptcha","secret":"kontakt/captcha/g","min_score":0.5}}`, "forms[0].abuse.captcha.min_score"},
		{"per_ip zero-ish", `"abuse":{"rate_limit":{"per_ip":-1}}`, "forms[0].abuse.rate_limit.per_ip"},
		{"ceiling below per_ip", `"abuse":{"rate_limit":{"per_ip":10,"per_form":5}}`, "forms[0].abuse.rate_limit.per_form"},
		{"window too long", `"abuse":{"rate_limit":{"window_seconds":100000}}`, "forms[0].abuse.rate_limit.window_seconds"},
		{"negative links", `"abuse":{"max_links":-1}`, "forms[0].abuse.max_links"},
		{"empty phrase", `"abuse":{"blocked_phrases":["ok"," "]}`, "forms[0].abuse.blocked_phrases[1]"},
		{"unknown format", `"abuse":{"field_formats":{"phone":"telephone"}}`, "forms[0].abuse.field_formats.phone"},
		{"broken pattern", `"abuse":{"field_formats":{"orgnr":"^[0-9"}}`, "forms[0].abuse.field_formats.orgnr"},
		{"format on an instruction", `"abuse":{"field_formats":{"_subject":"digits"}}`, "forms[0].abuse.field_formats._subject"},
		{"content action", `"abuse":{"content_action":"drop"}`, "forms[0].abuse.content_action"},
		{"require_origin as text", `"abuse":{"require_origin":"yes"}`, "require_origin"},
		{"web3forms as text", `"web3forms_fields":"yes"`, "web3forms_fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadForms(t, `{"id":"contact",`+tc.form+`}`)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %q", err, tc.key)
			}
		})
	}
}

func TestSecretIDIsRead(t *testing.T) {
	e := base()
	e[config.EnvSecretID] = "arn:aws:secretsmanager:eu-north-1:1:secret:KontaktSecret-AbCdEf"
	cfg, err := config.Load(env(e))
	if err != nil || cfg.SecretID != e[config.EnvSecretID] {
		t.Fatalf("SecretID = %q, %v", cfg.SecretID, err)
	}
}
