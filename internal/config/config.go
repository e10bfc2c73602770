// Package config holds the operator's form configuration: which forms
// exist, who receives them, where visitors may post from and how long the
// fallback copy is kept. It is read once at start-up and validated there, so
// a bad key stops the function with a message naming it instead of failing
// on the first visitor.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/hostname"
)

// Environment variables read by Load. The SAM template sets every one of
// them; the template test checks that against EnvVars (envvars.go).
const (
	EnvTable          = "KONTAKT_TABLE"
	EnvSender         = "KONTAKT_SENDER"
	EnvRecipients     = "KONTAKT_RECIPIENTS"
	EnvAllowedOrigins = "KONTAKT_ALLOWED_ORIGINS"
	EnvRetentionDays  = "KONTAKT_RETENTION_DAYS"
	EnvLanguage       = "KONTAKT_DEFAULT_LANGUAGE"
	EnvFormID         = "KONTAKT_FORM_ID"
	EnvRedirectURL    = "KONTAKT_REDIRECT_URL"
	EnvFormsFile      = "KONTAKT_FORMS_FILE"
	// EnvConfigurationSet names the SES configuration set every email is
	// sent with (bounce and complaint feedback).
	EnvConfigurationSet = "KONTAKT_SES_CONFIGURATION_SET"
	// EnvDuplicateWindow is how many minutes an identical submission without
	// an Idempotency-Key, from the same source address, counts as a repeat
	// (0 turns that off).
	EnvDuplicateWindow = "KONTAKT_DUPLICATE_WINDOW_MINUTES"
)

// Defaults that apply when neither the file nor the parameters say otherwise.
const (
	DefaultFormID         = "contact"
	DefaultRetentionDays  = 30
	DefaultLanguage       = "nb"
	DefaultMaxFields      = 50
	DefaultMaxFieldLength = 10000
	DefaultMaxBodyBytes   = 64 << 10
	// DefaultDuplicateWindow: double clicks and browser resubmits.
	DefaultDuplicateWindow = 10 * time.Minute
	maxDuplicateWindowMins = 24 * 60
	// maxBodyBytesCeiling keeps one request well under Lambda's 6 MB payload
	// and DynamoDB's 400 KB item limit.
	maxBodyBytesCeiling = 256 << 10
	maxRetentionDays    = 365
)

// MaxRecipients is SES's limit of recipients (To, Cc and Bcc together) of
// one message: a form with more could never be emailed.
const MaxRecipients = 50

// Languages the visitor-facing texts exist in.
var Languages = []string{"nb", "en"}

// Form is one contact form as the operator configured it.
type Form struct {
	ID string `json:"id"`
	// Sender is always the SenderAddress parameter: the function's IAM
	// policy may send as that one address only, so a per-form sender could
	// never work.
	Sender         string   `json:"-"`
	Recipients     []string `json:"recipients"`
	Subject        string   `json:"subject,omitempty"`
	AllowedOrigins []string `json:"allowed_origins"`
	RedirectURL    string   `json:"redirect_url,omitempty"`
	RequiredFields []string `json:"required_fields,omitempty"`
	RetentionDays  int      `json:"retention_days,omitempty"`
	Language       string   `json:"language,omitempty"`
	MaxFields      int      `json:"max_fields,omitempty"`
	MaxFieldLength int      `json:"max_field_length,omitempty"`
	MaxBodyBytes   int      `json:"max_body_bytes,omitempty"`

	// Consent: optional information is kept only with active consent.
	// PrivacyPolicyURL is where the privacy policy is read; PolicyVersion
	// is its current version, recorded with the evidence of a consent
	// (unless the consent names its own) so it is clear what was agreed to.
	PrivacyPolicyURL string `json:"privacy_policy_url,omitempty"`
	PolicyVersion    string `json:"policy_version,omitempty"`
	// Consents asks for consent per purpose (e.g. optional_details,
	// marketing), each with its own checkbox; see Consent.
	Consents []Consent `json:"consents,omitempty"`
	// The single-consent keys keep working: they mean one consent with the
	// purpose optional_details (see ConsentRules). ConsentField names the
	// checkbox; with ConsentRequired a submission without consent is
	// refused; ConsentOnlyFields are dropped (neither emailed nor stored)
	// when consent is not given.
	ConsentField      string   `json:"consent_field,omitempty"`
	ConsentRequired   bool     `json:"consent_required,omitempty"`
	ConsentOnlyFields []string `json:"consent_only_fields,omitempty"`

	// Web3FormsFields reads Web3Forms' subject, redirect and replyto as
	// _subject, _next and _replyto. Per form, because on other forms those
	// are ordinary fields a visitor fills in.
	Web3FormsFields bool `json:"web3forms_fields,omitempty"`
	// Abuse holds the spam and flood rules (abuse.go).
	Abuse Abuse `json:"abuse"`
	// Files, when set, lets visitors send files (files.go).
	Files *FileRules `json:"files,omitempty"`
}

// Consent is one consent a form asks for. Field is its checkbox; with
// Required a submission without it is refused; Fields are the fields that
// depend on it: dropped (neither emailed nor stored) when it is not given.
// PolicyVersion (default: the form's policy_version) is recorded with the
// evidence, so that it is clear which version of the policy was agreed to.
type Consent struct {
	Purpose       string   `json:"purpose"`
	Field         string   `json:"field"`
	Required      bool     `json:"required,omitempty"`
	Fields        []string `json:"fields,omitempty"`
	PolicyVersion string   `json:"policy_version,omitempty"`
}

// Purposes (Consent.Purpose) with texts of their own in emails and pages;
// any other purpose of the same shape may be configured and is shown as
// written.
const (
	PurposeOptionalDetails = "optional_details"
	PurposeMarketing       = "marketing"
)

// ConsentRules are the consents the form asks for: Consents, or the one
// the single-consent keys describe.
func (f *Form) ConsentRules() []Consent {
	if len(f.Consents) > 0 || f.ConsentField == "" {
		return f.Consents
	}
	return []Consent{{Purpose: PurposeOptionalDetails, Field: f.ConsentField, Required: f.ConsentRequired,
		Fields: f.ConsentOnlyFields, PolicyVersion: f.PolicyVersion}}
}

// Retention is how long the fallback copy of a submission is kept.
func (f *Form) Retention() time.Duration {
	return time.Duration(f.RetentionDays) * 24 * time.Hour
}

// OriginAllowed reports whether origin (scheme://host[:port]) may post to
// the form. Comparison is exact between canonical origins (CanonicalOrigin):
// a prefix or suffix match would let evil-example.no through for
// example.no, and lower-casing Unicode would let www.fİrma.no through for
// www.firma.no, which browsers resolve to another host.
func (f *Form) OriginAllowed(origin string) bool {
	origin, ok := CanonicalOrigin(origin)
	if !ok {
		return false
	}
	for _, o := range f.AllowedOrigins {
		if o == origin {
			return true
		}
	}
	return false
}

// CanonicalOrigin returns origin as a browser sends it in the Origin
// header: scheme and host in lower case, an internationalised host in its
// ASCII (punycode) form, the port as given, no trailing slash. ok is false
// when origin has no scheme and host, or a host that does not convert
// (see package hostname).
func CanonicalOrigin(origin string) (string, bool) {
	scheme, host, ok := strings.Cut(strings.TrimRight(origin, "/"), "://")
	if !ok || scheme == "" || host == "" {
		return "", false
	}
	port := ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host, port = host[:i], host[i:]
	}
	h, err := hostname.ASCII(host)
	if err != nil || h == "" {
		return "", false
	}
	return strings.ToLower(scheme) + "://" + h + port, true
}

// Config is the whole configuration of a deployment.
type Config struct {
	Table string `json:"-"`
	// Sender is the From address, an SES-verified identity (KONTAKT_SENDER).
	Sender string  `json:"-"`
	Forms  []*Form `json:"forms"`
	// SecretID is the generated secret (EnvSecretID); the submit function's
	// wiring requires it.
	SecretID string `json:"-"`
	// ConfigurationSet is the SES configuration set, or "".
	ConfigurationSet string `json:"-"`
	// DuplicateWindow is how long an identical submission counts as a
	// repeat (submit function only).
	DuplicateWindow time.Duration `json:"-"`
	// FilesBucket is the S3 bucket of visitors' files (EnvFilesBucket), or
	// "" where no form takes files.
	FilesBucket string `json:"-"`
	// PublicURL is the API's public base URL (EnvPublicURL), for the
	// download links in staff emails; "" uses the URL a post came in at.
	PublicURL string `json:"-"`
	// MalwareScan: GuardDuty scans the bucket (EnvMalwareScan).
	MalwareScan bool `json:"-"`

	byID map[string]*Form
}

// Form returns the form with the given id, or nil.
func (c *Config) Form(id string) *Form { return c.byID[id] }

// Error names the configuration key that is wrong and why.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string { return "config: " + e.Key + ": " + e.Reason }

// Load reads the submit function's configuration from the environment
// (lookup is os.LookupEnv in production): the forms (see LoadForms) and the
// duplicate window.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	cfg, err := LoadForms(lookup)
	if err != nil {
		return nil, err
	}
	minutes, err := env(lookup).number(duplicateWindowMinutes)
	if err != nil {
		return nil, err
	}
	cfg.DuplicateWindow = time.Duration(minutes) * time.Minute
	return cfg, nil
}

// validConfigurationSet checks an SES configuration set name: 1-64 letters,
// digits, - or _ (a loop, not a regexp compiled at every cold start).
func validConfigurationSet(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// LoadForms reads the forms from the environment. With KONTAKT_FORMS_FILE
// set, forms come from that JSON file and the parameters fill what a form
// leaves out; without it, one form is built from the parameters alone.
func LoadForms(lookup func(string) (string, bool)) (*Config, error) {
	e := env(lookup)
	get := e.get
	defaults := Form{
		ID:             get(EnvFormID),
		Sender:         get(EnvSender),
		Recipients:     SplitList(get(EnvRecipients)),
		AllowedOrigins: SplitList(get(EnvAllowedOrigins)),
		RedirectURL:    get(EnvRedirectURL),
		Language:       get(EnvLanguage),
	}
	if defaults.ID == "" {
		defaults.ID = DefaultFormID
	}
	if s := get(EnvRetentionDays); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, &Error{Key: EnvRetentionDays, Reason: fmt.Sprintf("%q is not a whole number of days", s)}
		}
		defaults.RetentionDays = n
	}

	cfg := &Config{Table: get(EnvTable), Sender: defaults.Sender, SecretID: get(EnvSecretID),
		FilesBucket: get(EnvFilesBucket), PublicURL: strings.TrimRight(get(EnvPublicURL), "/")}
	switch v := get(EnvMalwareScan); v {
	case "", "Off":
	case "On":
		cfg.MalwareScan = true
	default:
		return nil, &Error{Key: EnvMalwareScan, Reason: fmt.Sprintf("%q must be On or Off", v)}
	}
	var err error
	if cfg.ConfigurationSet, err = e.configurationSet(); err != nil {
		return nil, err
	}
	if path := get(EnvFormsFile); path != "" {
		if !filepath.IsAbs(path) {
			// In Lambda the deployment package is unpacked at LAMBDA_TASK_ROOT,
			// which is not necessarily the working directory.
			if root := get("LAMBDA_TASK_ROOT"); root != "" {
				path = filepath.Join(root, path)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{Key: EnvFormsFile, Reason: fmt.Sprintf("cannot read forms file: %v", err)}
		}
		file, err := Parse(data)
		if err != nil {
			return nil, err
		}
		cfg.Forms = file.Forms
	} else {
		f := defaults
		cfg.Forms = []*Form{&f}
	}
	if cfg.Table == "" {
		return nil, &Error{Key: EnvTable, Reason: "is not set; it names the DynamoDB table for fallback copies"}
	}
	for _, f := range cfg.Forms {
		applyDefaults(f, &defaults, cfg.Sender)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes a forms file strictly: an unknown key is an error, because a
// misspelt "required_feilds" would otherwise silently turn a check off.
func Parse(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, &Error{Key: EnvFormsFile, Reason: describeJSONError(data, err)}
	}
	if dec.More() {
		return nil, &Error{Key: EnvFormsFile, Reason: "unexpected data after the JSON object"}
	}
	return &c, nil
}

// ParseFile parses and validates a forms file on its own, with defaults for
// what it leaves out; `make validate` uses it.
func ParseFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Key: EnvFormsFile, Reason: err.Error()}
	}
	c, err := Parse(data)
	if err != nil {
		return nil, err
	}
	c.Table = "validate"
	c.Sender = "sender@example.com" // from the SenderAddress parameter at deploy time
	def := Form{}
	for _, f := range c.Forms {
		applyDefaults(f, &def, c.Sender)
	}
	return c, c.validate()
}

func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line := 1 + bytes.Count(data[:syn.Offset], []byte("\n"))
		return fmt.Sprintf("invalid JSON on line %d: %v", line, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("key %q must be a %s, not a JSON %s", typ.Field, typ.Type, typ.Value)
	}
	// DisallowUnknownFields reports `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func applyDefaults(f, def *Form, sender string) {
	if f.Sender == "" {
		f.Sender = sender
	}
	if len(f.Recipients) == 0 {
		f.Recipients = def.Recipients
	}
	if len(f.AllowedOrigins) == 0 {
		f.AllowedOrigins = def.AllowedOrigins
	}
	if f.RetentionDays == 0 {
		f.RetentionDays = def.RetentionDays
	}
	if f.RetentionDays == 0 {
		f.RetentionDays = DefaultRetentionDays
	}
	if f.Language == "" {
		f.Language = def.Language
	}
	if f.Language == "" {
		f.Language = DefaultLanguage
	}
	if f.Subject == "" {
		f.Subject = "[{form}] {subject}"
	}
	if f.MaxFields == 0 {
		f.MaxFields = DefaultMaxFields
	}
	if f.MaxFieldLength == 0 {
		f.MaxFieldLength = DefaultMaxFieldLength
	}
	if f.MaxBodyBytes == 0 {
		f.MaxBodyBytes = DefaultMaxBodyBytes
	}
	for i, o := range f.AllowedOrigins {
		// An origin that does not convert is kept as written, for
		// checkOrigin to name.
		if c, ok := CanonicalOrigin(o); ok {
			f.AllowedOrigins[i] = c
		}
	}
	applyAbuseDefaults(&f.Abuse)
	applyFileDefaults(f.Files)
}

// validFormID accepts 1-64 lower-case letters, digits, - and _, starting
// with a letter or digit. A loop rather than a regular expression: compiling
// `^[a-z0-9][a-z0-9_-]{0,63}$` at package init cost about 1 ms of every cold
// start (docs/performance.md).
func validFormID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func (c *Config) validate() error {
	if len(c.Forms) == 0 {
		return &Error{Key: "forms", Reason: "at least one form is needed"}
	}
	c.byID = make(map[string]*Form, len(c.Forms))
	for i, f := range c.Forms {
		key := func(k string) string { return fmt.Sprintf("forms[%d].%s", i, k) }
		if f == nil {
			return &Error{Key: fmt.Sprintf("forms[%d]", i), Reason: "is empty"}
		}
		if !validFormID(f.ID) {
			return &Error{Key: key("id"), Reason: fmt.Sprintf("%q must be 1-64 lower-case letters, digits, - or _", f.ID)}
		}
		if _, dup := c.byID[f.ID]; dup {
			return &Error{Key: key("id"), Reason: fmt.Sprintf("%q is used by two forms", f.ID)}
		}
		c.byID[f.ID] = f
		if err := checkAddress(f.Sender); err != nil {
			return &Error{Key: key("sender") + " (or " + EnvSender + ")", Reason: err.Error()}
		}
		if len(f.Recipients) == 0 {
			return &Error{Key: key("recipients") + " (or " + EnvRecipients + ")", Reason: "at least one recipient is needed"}
		}
		if len(f.Recipients) > MaxRecipients {
			return &Error{Key: key("recipients") + " (or " + EnvRecipients + ")", Reason: fmt.Sprintf("has %d addresses; SES sends a message to at most %d (use a distribution list or group address)", len(f.Recipients), MaxRecipients)}
		}
		for j, r := range f.Recipients {
			if err := checkAddress(r); err != nil {
				return &Error{Key: fmt.Sprintf("%s[%d]", key("recipients"), j), Reason: err.Error()}
			}
		}
		if len(f.AllowedOrigins) == 0 {
			return &Error{Key: key("allowed_origins") + " (or " + EnvAllowedOrigins + ")", Reason: "at least one origin is needed, e.g. https://www.example.no"}
		}
		for j, o := range f.AllowedOrigins {
			if err := checkOrigin(o); err != nil {
				return &Error{Key: fmt.Sprintf("%s[%d]", key("allowed_origins"), j), Reason: err.Error()}
			}
		}
		if f.RedirectURL != "" {
			if err := checkRedirect(f); err != nil {
				return &Error{Key: key("redirect_url"), Reason: err.Error()}
			}
		}
		if f.RetentionDays < 1 || f.RetentionDays > maxRetentionDays {
			return &Error{Key: key("retention_days"), Reason: fmt.Sprintf("%d must be between 1 and %d", f.RetentionDays, maxRetentionDays)}
		}
		if f.Language != "nb" && f.Language != "en" {
			return &Error{Key: key("language"), Reason: fmt.Sprintf("%q must be nb or en", f.Language)}
		}
		for j, r := range f.RequiredFields {
			if r == "" || strings.HasPrefix(r, "_") {
				return &Error{Key: fmt.Sprintf("%s[%d]", key("required_fields"), j), Reason: fmt.Sprintf("%q is not a content field name", r)}
			}
		}
		if f.MaxFields < 1 || f.MaxFields > 500 {
			return &Error{Key: key("max_fields"), Reason: "must be between 1 and 500"}
		}
		if f.MaxFieldLength < 1 || f.MaxFieldLength > maxBodyBytesCeiling {
			return &Error{Key: key("max_field_length"), Reason: fmt.Sprintf("must be between 1 and %d", maxBodyBytesCeiling)}
		}
		if f.MaxBodyBytes < 1024 || f.MaxBodyBytes > maxBodyBytesCeiling {
			return &Error{Key: key("max_body_bytes"), Reason: fmt.Sprintf("must be between 1024 and %d", maxBodyBytesCeiling)}
		}
		if err := checkFiles(f, key); err != nil {
			return err
		}
		if f.ConsentField == "" && (f.ConsentRequired || len(f.ConsentOnlyFields) > 0) {
			return &Error{Key: key("consent_field"), Reason: "is needed when consent_required or consent_only_fields is set"}
		}
		if f.ConsentField != "" {
			if strings.HasPrefix(f.ConsentField, "_") {
				return &Error{Key: key("consent_field"), Reason: fmt.Sprintf("%q must not start with _", f.ConsentField)}
			}
			if f.PolicyVersion == "" {
				return &Error{Key: key("policy_version"), Reason: "is needed with consent_field, so the evidence says what was agreed to"}
			}
		}
		for j, c := range f.ConsentOnlyFields {
			if c == "" || c == f.ConsentField || strings.HasPrefix(c, "_") {
				return &Error{Key: fmt.Sprintf("%s[%d]", key("consent_only_fields"), j), Reason: fmt.Sprintf("%q is not a content field name", c)}
			}
			for _, r := range f.RequiredFields {
				if r == c {
					return &Error{Key: fmt.Sprintf("%s[%d]", key("consent_only_fields"), j), Reason: fmt.Sprintf("%q is also required; optional information cannot be required", c)}
				}
			}
		}
		if err := f.validateConsents(key); err != nil {
			return err
		}
		if f.PrivacyPolicyURL != "" {
			if err := checkPolicyURL(f.PrivacyPolicyURL); err != nil {
				return &Error{Key: key("privacy_policy_url"), Reason: err.Error()}
			}
		}
		if strings.ContainsAny(f.Subject, "\r\n") {
			return &Error{Key: key("subject"), Reason: "must be a single line"}
		}
		if err := f.Abuse.validate(f, key); err != nil {
			return err
		}
	}
	return nil
}

func checkAddress(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] > '~' {
			// SES sends to and from 7-bit ASCII addresses only.
			return errors.New("is not 7-bit ASCII, which SES requires: write an internationalised domain in its punycode form (xn--...), and use an address with only ASCII before the @")
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		// The value is left out: this error ends up in the function's
		// start-up log, which holds no e-mail addresses, not even staff's.
		// The key says which setting to look at.
		return errors.New("is not a plain e-mail address (like post@example.no, without a name or <>)")
	}
	return nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q must be an origin like https://www.example.no (scheme and host, no path)", o)
	}
	if c, ok := CanonicalOrigin(o); !ok || c != o {
		return fmt.Errorf("%q has a host name that is not valid (an internationalised name must convert to punycode, without invisible characters)", o)
	}
	return nil
}

func checkRedirect(f *Form) error {
	u, err := url.Parse(f.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL", f.RedirectURL)
	}
	if !f.OriginAllowed(u.Scheme + "://" + u.Host) {
		return fmt.Errorf("%q is not on one of the form's allowed origins", f.RedirectURL)
	}
	return nil
}

// SplitList reads a comma-separated list (recipients, origins) as the
// template passes it: entries trimmed, empty ones dropped.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validateConsents checks the consents: each names a checkbox field of its
// own and the content fields that depend on it, never an instruction
// (a name starting with _), another consent's checkbox or a required field.
func (f *Form) validateConsents(key func(string) string) error {
	if len(f.Consents) > 0 && (f.ConsentField != "" || f.ConsentRequired || len(f.ConsentOnlyFields) > 0) {
		return &Error{Key: key("consents"), Reason: "use either consents or consent_field/consent_required/consent_only_fields, not both"}
	}
	checkboxes := map[string]bool{}
	for _, c := range f.Consents {
		checkboxes[c.Field] = true
	}
	purposes := map[string]bool{}
	for i := range f.Consents {
		c := &f.Consents[i]
		k := func(s string) string { return fmt.Sprintf("%s[%d].%s", key("consents"), i, s) }
		if !validFormID(c.Purpose) {
			return &Error{Key: k("purpose"), Reason: fmt.Sprintf("%q must be 1-64 lower-case letters, digits, - or _ (e.g. %s, %s)", c.Purpose, PurposeOptionalDetails, PurposeMarketing)}
		}
		if purposes[c.Purpose] {
			return &Error{Key: k("purpose"), Reason: fmt.Sprintf("%q is asked for twice", c.Purpose)}
		}
		purposes[c.Purpose] = true
		if err := checkContentField(c.Field); err != nil {
			return &Error{Key: k("field"), Reason: err.Error()}
		}
		for j := range f.Consents[:i] {
			if f.Consents[j].Field == c.Field {
				return &Error{Key: k("field"), Reason: fmt.Sprintf("%q is the checkbox of another consent too", c.Field)}
			}
		}
		for j, d := range c.Fields {
			fk := fmt.Sprintf("%s[%d]", k("fields"), j)
			if err := checkContentField(d); err != nil {
				return &Error{Key: fk, Reason: err.Error()}
			}
			if checkboxes[d] {
				return &Error{Key: fk, Reason: fmt.Sprintf("%q is a consent checkbox, not a field that depends on a consent", d)}
			}
			for _, r := range f.RequiredFields {
				if r == d {
					return &Error{Key: fk, Reason: fmt.Sprintf("%q is also required; information that needs consent cannot be required", d)}
				}
			}
		}
		if c.PolicyVersion == "" {
			c.PolicyVersion = f.PolicyVersion
		}
		if c.PolicyVersion == "" {
			return &Error{Key: k("policy_version"), Reason: "is needed (or the form's policy_version), so the evidence says what was agreed to"}
		}
	}
	return nil
}

// checkContentField refuses names that can never be a content field of
// the form: empty ones and instructions.
func checkContentField(name string) error {
	if strings.TrimSpace(name) == "" || strings.HasPrefix(name, "_") {
		return fmt.Errorf("%q is not a field of the form (empty, or an instruction starting with _)", name)
	}
	return nil
}

func checkPolicyURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || strings.ContainsAny(u, "<>\"' ") {
		return fmt.Errorf("%q must be an absolute http(s) URL", u)
	}
	return nil
}
