package config

import (
	"time"
)

// Environment variables of the erase function.
const (
	EnvPrivacyContact           = "KONTAKT_PRIVACY_CONTACT"
	EnvReceiptRetentionDays     = "KONTAKT_RECEIPT_RETENTION_DAYS"
	maxReceiptRetentionDays     = 10 * 365
	defaultReceiptRetentionDays = 1095
)

// Erase is the erase function's configuration.
type Erase struct {
	Table            string
	Sender           string
	PrivacyContact   string
	ReceiptRetention time.Duration
	ConfigurationSet string
	// SecretID names the generated secret (EnvSecretID) that lookup keys
	// are derived from: erasure must compute them as submit does.
	SecretID string
	// FilesBucket is the bucket of visitors' files (EnvFilesBucket), whose
	// files erasure deletes with their copies. May be empty: the function
	// then starts, erases people without files, and fails (so retries and
	// dead-letters) a request whose copies have files (erasure.ErrNoFilesBucket).
	FilesBucket string
}

// LoadErase reads the erase function's configuration.
func LoadErase(lookup func(string) (string, bool)) (*Erase, error) {
	e := env(lookup)
	get := e.get
	c := &Erase{Table: get(EnvTable), Sender: get(EnvSender), PrivacyContact: get(EnvPrivacyContact), SecretID: get(EnvSecretID),
		FilesBucket: get(EnvFilesBucket)}
	var err error
	if c.ConfigurationSet, err = e.configurationSet(); err != nil {
		return nil, err
	}
	if c.Table == "" {
		return nil, &Error{Key: EnvTable, Reason: "is not set; it names the DynamoDB table"}
	}
	if c.SecretID == "" {
		return nil, &Error{Key: EnvSecretID, Reason: "is not set; it names the generated secret that lookup keys are derived from"}
	}
	if err := checkAddress(c.Sender); err != nil {
		return nil, &Error{Key: EnvSender, Reason: err.Error()}
	}
	if err := checkAddress(c.PrivacyContact); err != nil {
		return nil, &Error{Key: EnvPrivacyContact, Reason: err.Error()}
	}
	if c.ReceiptRetention, err = receiptRetention(e); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultReceiptRetention is how long receipts are kept when nothing says
// otherwise (three years).
const DefaultReceiptRetention = defaultReceiptRetentionDays * 24 * time.Hour

// receiptRetention reads how long receipts are kept.
func receiptRetention(e env) (time.Duration, error) {
	n, err := e.number(receiptRetentionDays)
	return time.Duration(n) * 24 * time.Hour, err
}
