package config

import (
	"strings"
)

// EnvRedriveMaxAttempts is how many sends a submission gets, the submit
// function's first one included, before it is marked failed.
const EnvRedriveMaxAttempts = "KONTAKT_REDRIVE_MAX_ATTEMPTS"

// EnvRedriveRelease is the most held copies (posts over a form's ceiling,
// stored but not emailed) one redrive run emails: with the schedule it
// bounds what a flood costs an hour.
const EnvRedriveRelease = "KONTAKT_REDRIVE_RELEASE_PER_RUN"

// Bounds of the redrive settings.
const (
	DefaultRedriveMaxAttempts = 10
	maxRedriveAttempts        = 50
	// DefaultRedriveRelease: 50 a run, every 5 minutes by default, is 600
	// emails an hour at most from a flood (about $0.06-0.10 of SES).
	DefaultRedriveRelease = 50
	maxRedriveRelease     = 1000
)

// EnvAPIURL is the API's own URL, for the download links of re-sent emails
// when no public URL is set (the redrive function answers no request to
// take it from).
const EnvAPIURL = "KONTAKT_API_URL"

// Redrive is the redrive function's configuration.
type Redrive struct {
	*Config
	MaxAttempts int
	// Release is the most held copies one run emails.
	Release int
}

// LoadRedrive reads the redrive function's configuration.
func LoadRedrive(lookup func(string) (string, bool)) (*Redrive, error) {
	cfg, err := LoadForms(lookup)
	if err != nil {
		return nil, err
	}
	e := env(lookup)
	if cfg.PublicURL == "" {
		cfg.PublicURL = strings.TrimRight(e.get(EnvAPIURL), "/")
	}
	r := &Redrive{Config: cfg}
	if r.MaxAttempts, err = e.number(redriveMaxAttempts); err != nil {
		return nil, err
	}
	if r.Release, err = e.number(redriveRelease); err != nil {
		return nil, err
	}
	return r, nil
}
