package hold_test

import (
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

// A hold lasts through its --until day and ends at the start of the next;
// anything but a plain date is refused.
func TestParseUntil(t *testing.T) {
	end, err := hold.ParseUntil("2027-06-30")
	if err != nil || !end.Equal(time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseUntil = %v, %v", end, err)
	}
	for _, bad := range []string{"", "30.06.2027", "2027-06-31", "2027-06-30T00:00:00Z"} {
		if _, err := hold.ParseUntil(bad); err != hold.ErrBadDate {
			t.Errorf("ParseUntil(%q) = %v", bad, err)
		}
	}
}

// Holds are found again by what they hold: an address only as its keyed
// lookup key, never its plain hash.
func TestHoldID(t *testing.T) {
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	a := hold.Selector{Email: "kari@example.no"}.HoldID(keys)
	if b := (hold.Selector{Email: "Kari@Example.no"}).HoldID(keys); a != b || a != "email:"+keys.Key("kari@example.no") || a == "email:"+submission.LegacyLookupKey("kari@example.no") {
		t.Errorf("hold ids %q %q", a, b)
	}
	if got := (hold.Selector{SubmissionID: "abc"}).HoldID(keys); got != "id:abc" {
		t.Errorf("hold id = %q", got)
	}
}
