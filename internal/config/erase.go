package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables of the erase function.
const (
	EnvPrivacyContact        = "KONTAKT_PRIVACY_CONTACT"
	EnvReceiptRetentionDays  = "KONTAKT_RECEIPT_RETENTION_DAYS"
	maxReceiptRetentionDays  = 10 * 365
	defaultReceiptRetentionS = "1095"
)

// EraseEnvVars lists every variable the erase function reads.
var EraseEnvVars = []string{EnvTable, EnvSender, EnvPrivacyContact, EnvReceiptRetentionDays, EnvConfigurationSet, EnvSecretID, EnvFilesBucket}

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
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	c := &Erase{Table: get(EnvTable), Sender: get(EnvSender), PrivacyContact: get(EnvPrivacyContact), ConfigurationSet: get(EnvConfigurationSet), SecretID: get(EnvSecretID),
		FilesBucket: get(EnvFilesBucket)}
	if cs := c.ConfigurationSet; cs != "" && !validConfigurationSet(cs) {
		return nil, &Error{Key: EnvConfigurationSet, Reason: fmt.Sprintf("%q must be 1-64 letters, digits, - or _", cs)}
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
	d, err := receiptRetention(get(EnvReceiptRetentionDays))
	if err != nil {
		return nil, err
	}
	c.ReceiptRetention = d
	return c, nil
}

// DefaultReceiptRetention is how long receipts are kept when nothing says
// otherwise (three years).
const DefaultReceiptRetention = 1095 * 24 * time.Hour

// receiptRetention reads a number of days receipts are kept ("" is the
// default).
func receiptRetention(days string) (time.Duration, error) {
	if days == "" {
		days = defaultReceiptRetentionS
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 1 || n > maxReceiptRetentionDays {
		return 0, &Error{Key: EnvReceiptRetentionDays, Reason: fmt.Sprintf("%q must be a whole number of days between 1 and %d", days, maxReceiptRetentionDays)}
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
