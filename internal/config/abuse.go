package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// EnvSecretID names the Secrets Manager secret (name or ARN) the template
// generates: the key of form-age tokens and the salt of hashed source IPs
// are derived from it. The submit function refuses to start without it.
const EnvSecretID = "KONTAKT_SECRET_ID"

// CaptchaSecretPrefix is where captcha secrets must live in Secrets
// Manager: the submit function's IAM policy may read secrets under this
// name prefix only (and its own generated secret).
const CaptchaSecretPrefix = "kontakt/captcha/"

// Captcha providers.
const (
	CaptchaTurnstile   = "turnstile"
	CaptchaHCaptcha    = "hcaptcha"
	CaptchaRecaptcha   = "recaptcha"    // reCAPTCHA v2 (checkbox or invisible)
	CaptchaRecaptchaV3 = "recaptcha-v3" // reCAPTCHA v3: a score, no challenge
)

// Content actions: what happens to a submission that breaks a content rule.
const (
	ContentReject = "reject" // a localised 422 naming the field
	ContentSpam   = "spam"   // answered like a success, nothing sent or stored
)

// Defaults of the abuse rules.
const (
	DefaultHoneypot            = "_gotcha"
	DefaultTokenMinSeconds     = 3
	DefaultTokenMaxAgeSeconds  = 24 * 60 * 60
	DefaultRatePerIP           = 5
	DefaultRatePerForm         = 30
	DefaultRateWindowSeconds   = 60
	DefaultRecaptchaV3MinScore = 0.5
)

// Abuse is a form's protection against spam and floods. Everything is
// checked before anything is sent or stored; see docs/operators.md, "Abuse protection".
//
// The rules are declared in the order a post meets them: the origin, with
// the form's allowed origins as the request comes in; then those that need
// no network (abuse.Guard.Screen); then those that cost a call
// (abuse.Guard.Admit).
type Abuse struct {
	// RequireOrigin refuses posts that carry neither Origin nor Referer.
	// Off by default: some browsers send neither on a plain HTML post.
	RequireOrigin bool `json:"require_origin,omitempty"`

	// Honeypot is the name of the hidden field a person leaves empty. The
	// names in HoneypotAliases are honeypots on every form as well.
	Honeypot string `json:"honeypot,omitempty"`
	// FormToken, when present, requires a signed token from
	// GET /f/{form}/token in the _t field.
	FormToken *FormToken `json:"form_token,omitempty"`
	// Content rules. MaxLinks is nil for no limit (0 allows no link at all).
	MaxLinks       *int              `json:"max_links,omitempty"`
	BlockedPhrases []string          `json:"blocked_phrases,omitempty"`
	FieldFormats   map[string]string `json:"field_formats,omitempty"`
	// ContentAction is ContentReject (default) or ContentSpam.
	ContentAction string `json:"content_action,omitempty"`

	RateLimit RateLimit `json:"rate_limit"`
	// Captcha, when present, requires a solved captcha.
	Captcha *Captcha `json:"captcha,omitempty"`

	formats []Format
	phrases []string
}

// HoneypotAliases are honeypot names other services use; a filled one marks
// a bot on every form.
var HoneypotAliases = []string{DefaultHoneypot, "_honey", "_honeypot", "botcheck"}

// FormToken configures the form-age token.
type FormToken struct {
	// MinSeconds is the least time between issue and post; faster is a bot.
	MinSeconds int `json:"min_seconds,omitempty"`
	// MaxAgeSeconds is how long a token is valid. An older one is refused
	// with a request to reload the page, never dropped silently: the visitor
	// may simply have left the page open.
	MaxAgeSeconds int `json:"max_age_seconds,omitempty"`
}

// Captcha configures captcha verification.
type Captcha struct {
	Provider string `json:"provider"`
	// Secret is the Secrets Manager name or ARN holding the provider's
	// secret key, under CaptchaSecretPrefix.
	Secret string `json:"secret"`
	// VerifyURL replaces the provider's siteverify URL (a proxy, or tests).
	VerifyURL string `json:"verify_url,omitempty"`
	// MinScore is the least reCAPTCHA v3 score accepted (0-1).
	MinScore float64 `json:"min_score,omitempty"`
	// Action, when set, must match the reCAPTCHA v3 action.
	Action string `json:"action,omitempty"`
	// SendIP sends the visitor's IP address to the provider (remoteip).
	// Off by default: it is personal data passed to a third party.
	SendIP bool `json:"send_ip,omitempty"`
}

// CaptchaSecrets lists the captcha secrets the forms name, each once, in
// the forms' order: what the submit function reads at start-up.
func (c *Config) CaptchaSecrets() []string {
	var ids []string
	for _, f := range c.Forms {
		if cp := f.Abuse.Captcha; cp != nil && !slices.Contains(ids, cp.Secret) {
			ids = append(ids, cp.Secret)
		}
	}
	return ids
}

// RateLimit bounds accepted posts in fixed windows: per source IP, and for
// the whole form.
type RateLimit struct {
	PerIP         int `json:"per_ip,omitempty"`
	PerForm       int `json:"per_form,omitempty"`
	WindowSeconds int `json:"window_seconds,omitempty"`
}

// Format is a compiled field format.
type Format struct {
	Field string
	// Name is "phone", "digits" or "pattern".
	Name string
	Re   *regexp.Regexp
}

// Formats returns the compiled field formats, in field name order.
func (a *Abuse) Formats() []Format { return a.formats }

// Phrases returns the blocked phrases normalised for matching (lower case,
// single spaces).
func (a *Abuse) Phrases() []string { return a.phrases }

// IsHoneypot reports whether name is one of the form's honeypot fields.
func (a *Abuse) IsHoneypot(name string) bool {
	if name == a.Honeypot {
		return true
	}
	for _, h := range HoneypotAliases {
		if name == h {
			return true
		}
	}
	return false
}

// namedFormats are the formats operators can name instead of a pattern.
// They are compiled when a form first names one, not at start-up: the
// phone pattern's counted repetition alone took half a millisecond of
// every cold start.
var namedFormats = map[string]func() *regexp.Regexp{
	// Digits, spaces and a plus, with at least three digits.
	"phone":  sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\+? *(?:[0-9] *){3,20}$`) }),
	"digits": sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+$`) }),
}

// NormalizePhrase lower-cases s and folds runs of white space, so that a
// blocked phrase matches however it is spaced or capitalised.
func NormalizePhrase(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// orDefault sets *p to d when the file left it out (zero).
func orDefault[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}

func applyAbuseDefaults(a *Abuse) {
	orDefault(&a.Honeypot, DefaultHoneypot)
	if t := a.FormToken; t != nil {
		orDefault(&t.MinSeconds, DefaultTokenMinSeconds)
		orDefault(&t.MaxAgeSeconds, DefaultTokenMaxAgeSeconds)
	}
	if c := a.Captcha; c != nil && c.Provider == CaptchaRecaptchaV3 {
		orDefault(&c.MinScore, DefaultRecaptchaV3MinScore)
	}
	orDefault(&a.RateLimit.PerIP, DefaultRatePerIP)
	orDefault(&a.RateLimit.PerForm, DefaultRatePerForm)
	orDefault(&a.RateLimit.WindowSeconds, DefaultRateWindowSeconds)
	orDefault(&a.ContentAction, ContentReject)
}

// reservedNames are instructions a honeypot must not take over.
var reservedNames = []string{"_replyto", "email", "_subject", "_next", "_redirect", "_t"}

func (a *Abuse) validate(f *Form, key func(string) string) error {
	k := func(s string) string { return key("abuse." + s) }
	if err := checkFieldName(a.Honeypot); err != nil {
		return &Error{Key: k("honeypot"), Reason: err.Error()}
	}
	names := append(append([]string{}, reservedNames...), f.RequiredFields...)
	for _, c := range f.ConsentRules() {
		names = append(names, c.Field)
	}
	for _, r := range names {
		if a.Honeypot == r {
			return &Error{Key: k("honeypot"), Reason: fmt.Sprintf("%q is a field the form uses; a honeypot must be a field people leave empty", r)}
		}
	}
	if t := a.FormToken; t != nil {
		if t.MinSeconds < 1 || t.MinSeconds > 3600 {
			return &Error{Key: k("form_token.min_seconds"), Reason: "must be between 1 and 3600"}
		}
		if t.MaxAgeSeconds < 60 || t.MaxAgeSeconds > 7*24*3600 || t.MaxAgeSeconds <= t.MinSeconds {
			return &Error{Key: k("form_token.max_age_seconds"), Reason: "must be between 60 and 604800, and more than min_seconds"}
		}
	}
	if c := a.Captcha; c != nil {
		if err := c.validate(k); err != nil {
			return err
		}
	}
	r := a.RateLimit
	if r.PerIP < 1 || r.PerIP > 10000 {
		return &Error{Key: k("rate_limit.per_ip"), Reason: "must be between 1 and 10000"}
	}
	if r.PerForm < r.PerIP || r.PerForm > 1000000 {
		return &Error{Key: k("rate_limit.per_form"), Reason: fmt.Sprintf("must be between per_ip (%d) and 1000000", r.PerIP)}
	}
	if r.WindowSeconds < 1 || r.WindowSeconds > 24*3600 {
		return &Error{Key: k("rate_limit.window_seconds"), Reason: "must be between 1 and 86400"}
	}
	if a.MaxLinks != nil && (*a.MaxLinks < 0 || *a.MaxLinks > 1000) {
		return &Error{Key: k("max_links"), Reason: "must be between 0 and 1000"}
	}
	if len(a.BlockedPhrases) > 1000 {
		return &Error{Key: k("blocked_phrases"), Reason: "at most 1000 phrases"}
	}
	a.phrases = nil
	for i, p := range a.BlockedPhrases {
		n := NormalizePhrase(p)
		if n == "" || utf8.RuneCountInString(n) > 200 {
			return &Error{Key: fmt.Sprintf("%s[%d]", k("blocked_phrases"), i), Reason: "must be 1-200 characters of text"}
		}
		a.phrases = append(a.phrases, n)
	}
	a.formats = nil
	fields := make([]string, 0, len(a.FieldFormats))
	for name := range a.FieldFormats {
		fields = append(fields, name)
	}
	sort.Strings(fields)
	for _, name := range fields {
		v := a.FieldFormats[name]
		fk := k("field_formats." + name)
		if err := checkFieldName(name); err != nil || strings.HasPrefix(name, "_") {
			return &Error{Key: fk, Reason: fmt.Sprintf("%q is not a content field name", name)}
		}
		format := Format{Field: name, Name: v}
		if named := namedFormats[v]; named != nil {
			format.Re = named()
		} else {
			if !strings.HasPrefix(v, "^") {
				return &Error{Key: fk, Reason: fmt.Sprintf("%q must be phone, digits or a regular expression starting with ^", v)}
			}
			re, err := regexp.Compile(v)
			if err != nil {
				return &Error{Key: fk, Reason: fmt.Sprintf("invalid regular expression: %v", err)}
			}
			format.Name, format.Re = "pattern", re
		}
		a.formats = append(a.formats, format)
	}
	if a.ContentAction != ContentReject && a.ContentAction != ContentSpam {
		return &Error{Key: k("content_action"), Reason: fmt.Sprintf("%q must be %s or %s", a.ContentAction, ContentReject, ContentSpam)}
	}
	return nil
}

func (c *Captcha) validate(k func(string) string) error {
	switch c.Provider {
	case CaptchaTurnstile, CaptchaHCaptcha, CaptchaRecaptcha, CaptchaRecaptchaV3:
	default:
		return &Error{Key: k("captcha.provider"), Reason: fmt.Sprintf("%q must be one of %s, %s, %s, %s",
			c.Provider, CaptchaTurnstile, CaptchaHCaptcha, CaptchaRecaptcha, CaptchaRecaptchaV3)}
	}
	if !captchaSecretAllowed(c.Secret) {
		return &Error{Key: k("captcha.secret"), Reason: fmt.Sprintf("%q must be the name or ARN of a Secrets Manager secret under %s (the function may read no other)", c.Secret, CaptchaSecretPrefix)}
	}
	if c.VerifyURL != "" {
		u, err := url.Parse(c.VerifyURL)
		loopback := err == nil && u.Scheme == "http" && isLoopback(u.Hostname())
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !loopback) {
			return &Error{Key: k("captcha.verify_url"), Reason: fmt.Sprintf("%q must be an https URL (http only on loopback, for tests)", c.VerifyURL)}
		}
	}
	if c.Provider == CaptchaRecaptchaV3 {
		if c.MinScore <= 0 || c.MinScore > 1 {
			return &Error{Key: k("captcha.min_score"), Reason: "must be more than 0 and at most 1"}
		}
	} else if c.MinScore != 0 || c.Action != "" {
		return &Error{Key: k("captcha.min_score"), Reason: "min_score and action apply to recaptcha-v3 only"}
	}
	return nil
}

// captchaSecretAllowed accepts a secret name under the prefix, or the ARN
// of one.
func captchaSecretAllowed(s string) bool {
	name := s
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 7)
		if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" {
			return false
		}
		name = parts[6]
	}
	return strings.HasPrefix(name, CaptchaSecretPrefix) && len(name) > len(CaptchaSecretPrefix) && !strings.ContainsAny(name, " \t\r\n")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkFieldName(s string) error {
	if s == "" || utf8.RuneCountInString(s) > 100 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%q must be 1-100 characters without spaces or control characters", s)
	}
	return nil
}
