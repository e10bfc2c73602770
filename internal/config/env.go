package config

import (
	"fmt"
	"strconv"
	"strings"
)

// env is the environment as the loaders read it (os.LookupEnv in
// production, a map in tests), every value trimmed of white space.
type env func(string) (string, bool)

func (e env) get(key string) string {
	v, _ := e(key)
	return strings.TrimSpace(v)
}

// wholeNumber is a setting that is a whole number within a range: what it
// is when unset, and how a wrong value is explained.
type wholeNumber struct {
	key         string
	def, lo, hi int
	unit        string // "minutes", "days", "hours"; "" for a count
	why         string // why the range, when it needs saying
}

// The whole-number settings, each with its range.
var (
	duplicateWindowMinutes = wholeNumber{key: EnvDuplicateWindow, def: int(DefaultDuplicateWindow.Minutes()), lo: 0, hi: maxDuplicateWindowMins, unit: "minutes"}
	redriveMaxAttempts     = wholeNumber{key: EnvRedriveMaxAttempts, def: DefaultRedriveMaxAttempts, lo: 2, hi: maxRedriveAttempts}
	redriveRelease         = wholeNumber{key: EnvRedriveRelease, def: DefaultRedriveRelease, lo: 1, hi: maxRedriveRelease,
		why: "held posts are never dropped, so some must be released"}
	receiptRetentionDays = wholeNumber{key: EnvReceiptRetentionDays, def: defaultReceiptRetentionDays, lo: 1, hi: maxReceiptRetentionDays, unit: "days"}
	tokenLifetimeHours   = wholeNumber{key: EnvTokenLifetimeHours, def: 24, lo: 1, hi: 24 * 7, unit: "hours"}
)

// number reads n's setting: its default when unset, an *Error naming its
// key and range when it is not a whole number within that range.
func (e env) number(n wholeNumber) (int, error) {
	s := e.get(n.key)
	if s == "" {
		return n.def, nil
	}
	v, err := strconv.Atoi(s)
	if err == nil && v >= n.lo && v <= n.hi {
		return v, nil
	}
	what := "a whole number"
	if n.unit != "" {
		what += " of " + n.unit
	}
	reason := fmt.Sprintf("%q must be %s between %d and %d", s, what, n.lo, n.hi)
	if n.why != "" {
		reason += " (" + n.why + ")"
	}
	return 0, &Error{Key: n.key, Reason: reason}
}

// configurationSet reads the SES configuration set: "" for none, else 1-64
// letters, digits, - or _.
func (e env) configurationSet() (string, error) {
	cs := e.get(EnvConfigurationSet)
	if cs != "" && !validConfigurationSet(cs) {
		return "", &Error{Key: EnvConfigurationSet, Reason: fmt.Sprintf("%q must be 1-64 letters, digits, - or _", cs)}
	}
	return cs, nil
}
