package config

import (
	"fmt"
	"strconv"
	"strings"
)

// EnvRedriveMaxAttempts is how many sends a submission gets, the submit
// function's first one included, before it is marked failed.
const EnvRedriveMaxAttempts = "KONTAKT_REDRIVE_MAX_ATTEMPTS"

// Bounds of the redrive settings.
const (
	DefaultRedriveMaxAttempts = 10
	maxRedriveAttempts        = 50
)

// RedriveEnvVars lists every variable the redrive function reads: it sends
// the same emails as the submit function, so it reads the same forms.
var RedriveEnvVars = append(append([]string{}, FormEnvVars...), EnvRedriveMaxAttempts)

// Redrive is the redrive function's configuration.
type Redrive struct {
	*Config
	MaxAttempts int
}

// LoadRedrive reads the redrive function's configuration.
func LoadRedrive(lookup func(string) (string, bool)) (*Redrive, error) {
	cfg, err := LoadForms(lookup)
	if err != nil {
		return nil, err
	}
	r := &Redrive{Config: cfg, MaxAttempts: DefaultRedriveMaxAttempts}
	if v, _ := lookup(EnvRedriveMaxAttempts); strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 2 || n > maxRedriveAttempts {
			return nil, &Error{Key: EnvRedriveMaxAttempts, Reason: fmt.Sprintf("%q must be a whole number between 2 and %d", v, maxRedriveAttempts)}
		}
		r.MaxAttempts = n
	}
	return r, nil
}
