package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func base() map[string]string {
	return map[string]string{
		config.EnvTable:          "submissions",
		config.EnvSender:         "kontakt@example.no",
		config.EnvRecipients:     "post@example.no, salg@example.no",
		config.EnvAllowedOrigins: "https://www.example.no/",
		config.EnvRetentionDays:  "14",
	}
}

func TestSingleFormFromParameters(t *testing.T) {
	cfg, err := config.Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Form("contact")
	if f == nil {
		t.Fatal("no contact form")
	}
	if got, want := strings.Join(f.Recipients, ","), "post@example.no,salg@example.no"; got != want {
		t.Errorf("recipients = %q, want %q", got, want)
	}
	if !f.OriginAllowed("https://WWW.example.no") || f.OriginAllowed("https://www.example.no.evil.com") {
		t.Error("origin matching is wrong")
	}
	if f.RetentionDays != 14 || f.Language != "nb" || f.Sender != "kontakt@example.no" {
		t.Errorf("form = %+v", f)
	}
}

func TestFormsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "forms.json")
	os.WriteFile(path, []byte(`{"forms":[
		{"id":"contact","required_fields":["message"]},
		{"id":"quote","recipients":["salg@example.no"],"language":"en","retention_days":7,"redirect_url":"https://www.example.no/takk"}]}`), 0o600)
	e := base()
	e[config.EnvFormsFile] = "forms.json"
	e["LAMBDA_TASK_ROOT"] = dir
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Form("quote")
	if q == nil || q.Sender != "kontakt@example.no" || q.RetentionDays != 7 || q.Language != "en" || q.AllowedOrigins[0] != "https://www.example.no" {
		t.Fatalf("quote = %+v", q)
	}
	if c := cfg.Form("contact"); c.RetentionDays != 14 || len(c.Recipients) != 2 {
		t.Errorf("contact did not take the parameters' defaults: %+v", c)
	}
}

// Every bad key is named in the error, so the operator knows what to fix.
func TestBadConfigurationNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  map[string]string
		file    string
		wantKey string
	}{
		{"no table", map[string]string{config.EnvTable: ""}, "", config.EnvTable},
		{"bad retention", map[string]string{config.EnvRetentionDays: "ten"}, "", config.EnvRetentionDays},
		{"retention too long", map[string]string{config.EnvRetentionDays: "9999"}, "", "retention_days"},
		{"bad sender", map[string]string{config.EnvSender: "Kontakt <k@example.no>"}, "", "sender"},
		{"no recipients", map[string]string{config.EnvRecipients: ""}, "", "recipients"},
		{"bad recipient", map[string]string{config.EnvRecipients: "kari.nordmann@"}, "", "recipients[0]"},
		{"origin with path", map[string]string{config.EnvAllowedOrigins: "https://example.no/kontakt"}, "", "allowed_origins[0]"},
		{"no origins", map[string]string{config.EnvAllowedOrigins: ""}, "", "allowed_origins"},
		{"bad language", map[string]string{config.EnvLanguage: "sv"}, "", "language"},
		{"redirect elsewhere", map[string]string{config.EnvRedirectURL: "https://evil.example.com/"}, "", "redirect_url"},
		{"unknown key in file", nil, `{"forms":[{"id":"contact","required_feilds":["x"]}]}`, "required_feilds"},
		{"syntax error in file", nil, "{\"forms\":[\n{\"id\":}]}", "line 2"},
		{"wrong type in file", nil, `{"forms":[{"id":"contact","retention_days":"7"}]}`, "retention_days"},
		{"duplicate id", nil, `{"forms":[{"id":"a"},{"id":"a"}]}`, "forms[1].id"},
		{"bad id", nil, `{"forms":[{"id":"Kontakt skjema"}]}`, "forms[0].id"},
		{"no forms", nil, `{"forms":[]}`, "forms"},
		{"underscore required field", nil, `{"forms":[{"id":"a","required_fields":["_next"]}]}`, "required_fields[0]"},
		{"sender in file", nil, `{"sender":"x@example.no","forms":[{"id":"a"}]}`, "sender"},
		{"missing file", map[string]string{config.EnvFormsFile: "/nonexistent/forms.json"}, "", config.EnvFormsFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base()
			for k, v := range tc.change {
				e[k] = v
			}
			if tc.file != "" {
				p := filepath.Join(t.TempDir(), "forms.json")
				os.WriteFile(p, []byte(tc.file), 0o600)
				e[config.EnvFormsFile] = p
			}
			_, err := config.Load(env(e))
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %q", err, tc.wantKey)
			}
			// Start-up errors are logged: no address, not even staff's.
			for _, v := range tc.change {
				addr := strings.TrimSuffix(v[strings.Index(v, "<")+1:], ">")
				if strings.Contains(v, "@") && strings.Contains(err.Error(), addr) {
					t.Errorf("error %q quotes the address", err)
				}
			}
		})
	}
}

// Form ids are path segments (/f/{form}): 1-64 of a-z, 0-9, - and _, not
// starting with - or _.
func TestFormIDs(t *testing.T) {
	for id, ok := range map[string]bool{
		"contact": true, "a": true, "0": true, "quote-2_b": true, "a-": true,
		strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
		"": false, "-a": false, "_a": false, "Contact": false, "a b": false, "a/b": false, "kåre": false,
	} {
		file := filepath.Join(t.TempDir(), "forms.json")
		os.WriteFile(file, []byte(`{"forms":[{"id":"`+id+`"}]}`), 0o600)
		e := base()
		e[config.EnvFormsFile] = file
		_, err := config.Load(env(e))
		if (err == nil) != ok {
			t.Errorf("id %q: err = %v, want ok=%v", id, err, ok)
		}
	}
}

// Hosts are compared as browsers resolve them: in their ASCII (punycode)
// form. An operator may write an internationalised origin either way; the
// browser's Origin header is always ASCII.
func TestOriginsCompareAsBrowsersResolve(t *testing.T) {
	e := base()
	e[config.EnvAllowedOrigins] = "https://www.Bølgen.no, https://www.firma.no, http://[::1]:3000"
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Form("contact")
	if got, want := strings.Join(f.AllowedOrigins, ","), "https://www.xn--blgen-vua.no,https://www.firma.no,http://[::1]:3000"; got != want {
		t.Errorf("allowed origins = %q, want %q", got, want)
	}
	for origin, want := range map[string]bool{
		"https://www.xn--blgen-vua.no": true,
		"https://www.bølgen.no":        true,
		"HTTPS://WWW.XN--BLGEN-VUA.NO": true,
		"https://www.firma.no":         true,
		"https://WWW.FIRMA.NO/":        true,
		"http://[::1]:3000":            true,
		"https://www.fİrma.no":         false, // İ: Go lower-cases it to i, browsers map it to i̇
		"https://www.fir\u200bma.no":   false, // invisible
		"https://www.firma.no:443":     false,
		"http://www.firma.no":          false,
		"www.firma.no":                 false,
		"https://":                     false,
	} {
		if got := f.OriginAllowed(origin); got != want {
			t.Errorf("OriginAllowed(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestOriginThatDoesNotConvertIsRefused(t *testing.T) {
	for _, o := range []string{"https://www.bøl\u200bgen.no", "https://bølgen..no", "https://bølgen_x.no"} {
		e := base()
		e[config.EnvAllowedOrigins] = o
		_, err := config.Load(env(e))
		var ce *config.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Key, "allowed_origins") {
			t.Errorf("%q: err %v, want an allowed_origins error", o, err)
		}
	}
}

// SES sends one message to at most 50 recipients: a form with more could
// never be emailed, so it is a configuration error, found by make validate
// before deploying.
func TestAtMostFiftyRecipients(t *testing.T) {
	dir := t.TempDir()
	write := func(n int) string {
		rs := make([]string, n)
		for i := range rs {
			rs[i] = fmt.Sprintf("%q", fmt.Sprintf("staff%d@example.no", i))
		}
		path := filepath.Join(dir, fmt.Sprintf("forms-%d.json", n))
		os.WriteFile(path, []byte(`{"forms":[{"id":"contact","allowed_origins":["https://www.example.no"],"recipients":[`+strings.Join(rs, ",")+`]}]}`), 0o600)
		return path
	}
	if _, err := config.ParseFile(write(50)); err != nil {
		t.Fatalf("50 recipients: %v", err)
	}
	_, err := config.ParseFile(write(51))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "forms[0].recipients (or KONTAKT_RECIPIENTS)" || !strings.Contains(ce.Reason, "at most 50") {
		t.Fatalf("51 recipients: %v", err)
	}
	e := base()
	e[config.EnvRecipients] = strings.Repeat("post@example.no,", 51)
	if _, err := config.Load(env(e)); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "at most 50") {
		t.Errorf("51 recipients in the parameter: %v", err)
	}
}

// SES sends to and from 7-bit ASCII addresses only.
func TestConfiguredAddressesAreASCII(t *testing.T) {
	for k, v := range map[string]string{config.EnvRecipients: "post@bølgen.no", config.EnvSender: "kontakt@bølgen.no"} {
		e := base()
		e[k] = v
		_, err := config.Load(env(e))
		var ce *config.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "punycode") || strings.Contains(ce.Error(), v) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	e := base()
	e[config.EnvRecipients] = "post@xn--blgen-vua.no"
	if _, err := config.Load(env(e)); err != nil {
		t.Errorf("punycode recipient: %v", err)
	}
}

// The single-consent keys keep working as one consent with the purpose
// optional_details; consents by purpose take their version from the form
// unless they name their own.
func TestConsentRules(t *testing.T) {
	p := filepath.Join(t.TempDir(), "forms.json")
	os.WriteFile(p, []byte(`{"forms":[
		{"id":"old","policy_version":"2026-01","consent_field":"consent","consent_required":true,"consent_only_fields":["phone"]},
		{"id":"new","policy_version":"2026-03","privacy_policy_url":"https://www.example.no/personvern","consents":[
			{"purpose":"optional_details","field":"details_ok","fields":["phone","company"]},
			{"purpose":"marketing","field":"marketing","policy_version":"2026-02"}]}]}`), 0o600)
	e := base()
	e[config.EnvFormsFile] = p
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	old := cfg.Form("old").ConsentRules()
	if len(old) != 1 || old[0].Purpose != config.PurposeOptionalDetails || old[0].Field != "consent" || !old[0].Required ||
		len(old[0].Fields) != 1 || old[0].PolicyVersion != "2026-01" {
		t.Errorf("single-consent keys map to %+v", old)
	}
	rules := cfg.Form("new").ConsentRules()
	if len(rules) != 2 || rules[0].PolicyVersion != "2026-03" || rules[1].PolicyVersion != "2026-02" || rules[1].Purpose != config.PurposeMarketing {
		t.Errorf("consents = %+v", rules)
	}
	if cfg.Form("contact") != nil || len(cfg.Form("new").ConsentRules()) != 2 {
		t.Error("forms file not used")
	}
}
