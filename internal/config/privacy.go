package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Environment variables of the privacy (self-service erasure) function.
const (
	EnvErasureQueueURL    = "KONTAKT_ERASURE_QUEUE_URL"
	EnvTokenSecret        = "KONTAKT_TOKEN_SECRET"
	EnvTokenLifetimeHours = "KONTAKT_TOKEN_LIFETIME_HOURS"
	EnvPublicURL          = "KONTAKT_PUBLIC_URL"
	EnvPrivacyNote        = "KONTAKT_PRIVACY_NOTE"
	// EnvPolicyURL and EnvPolicyVersion name the privacy policy the pages
	// link to, and its current version.
	EnvPolicyURL     = "KONTAKT_PRIVACY_POLICY_URL"
	EnvPolicyVersion = "KONTAKT_PRIVACY_POLICY_VERSION"
)

// Privacy is the privacy function's configuration.
type Privacy struct {
	Table          string
	Sender         string
	PrivacyContact string
	QueueURL       string
	// TokenSecret names the Secrets Manager secret holding the HMAC key.
	TokenSecret string
	// SecretID names the generated secret (EnvSecretID): the asks' counters
	// are keyed with its lookup key and IP-hash key.
	SecretID string
	// ConfigurationSet is the SES configuration set the links are sent
	// with, so that their bounces reach the feedback topic; "" sends
	// without one.
	ConfigurationSet string
	TokenLifetime    time.Duration
	// PublicURL is the API's base URL for links in emails; empty means the
	// domain API Gateway reports for the request.
	PublicURL string
	// Note is extra text on the pages (e.g. the privacy policy's address).
	Note     string
	Language string
	// PolicyURL is the privacy policy's address ("" shows no link) and
	// PolicyVersion its current version.
	PolicyURL     string
	PolicyVersion string
	// ReceiptRetention is how long access receipts are kept.
	ReceiptRetention time.Duration
}

// LoadPrivacy reads the privacy function's configuration.
func LoadPrivacy(lookup func(string) (string, bool)) (*Privacy, error) {
	e := env(lookup)
	get := e.get
	c := &Privacy{
		Table: get(EnvTable), Sender: get(EnvSender), PrivacyContact: get(EnvPrivacyContact),
		QueueURL: get(EnvErasureQueueURL), TokenSecret: get(EnvTokenSecret), SecretID: get(EnvSecretID),
		PublicURL: strings.TrimRight(get(EnvPublicURL), "/"), Note: get(EnvPrivacyNote), Language: get(EnvLanguage),
		PolicyURL: get(EnvPolicyURL), PolicyVersion: get(EnvPolicyVersion),
	}
	if c.PolicyURL != "" {
		if err := checkPolicyURL(c.PolicyURL); err != nil {
			return nil, &Error{Key: EnvPolicyURL, Reason: err.Error()}
		}
	}
	if len(c.PolicyVersion) > 64 || strings.ContainsAny(c.PolicyVersion, "<>\"") {
		return nil, &Error{Key: EnvPolicyVersion, Reason: "must be at most 64 characters, without < > or \""}
	}
	var err error
	if c.ReceiptRetention, err = receiptRetention(e); err != nil {
		return nil, err
	}
	for k, v := range map[string]string{EnvTable: c.Table, EnvErasureQueueURL: c.QueueURL, EnvTokenSecret: c.TokenSecret, EnvSecretID: c.SecretID} {
		if v == "" {
			return nil, &Error{Key: k, Reason: "is not set"}
		}
	}
	if c.ConfigurationSet, err = e.configurationSet(); err != nil {
		return nil, err
	}
	if err := checkAddress(c.Sender); err != nil {
		return nil, &Error{Key: EnvSender, Reason: err.Error()}
	}
	if err := checkAddress(c.PrivacyContact); err != nil {
		return nil, &Error{Key: EnvPrivacyContact, Reason: err.Error()}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, &Error{Key: EnvPublicURL, Reason: fmt.Sprintf("%q must be an absolute http(s) URL", c.PublicURL)}
		}
	}
	hours, err := e.number(tokenLifetimeHours)
	if err != nil {
		return nil, err
	}
	c.TokenLifetime = time.Duration(hours) * time.Hour
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.Language != "nb" && c.Language != "en" {
		return nil, &Error{Key: EnvLanguage, Reason: fmt.Sprintf("%q must be nb or en", c.Language)}
	}
	return c, nil
}
