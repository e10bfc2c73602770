package logcheck_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/logcheck"
)

// fakeT records failures instead of failing, so the helper's own failures
// can be asserted.
type fakeT struct {
	testing.TB
	errors  []string
	cleanup []func()
}

func (f *fakeT) Helper()                   {}
func (f *fakeT) Cleanup(fn func())         { f.cleanup = append(f.cleanup, fn) }
func (f *fakeT) Error(args ...any)         { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *fakeT) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }
func (f *fakeT) end() {
	for _, fn := range f.cleanup {
		fn()
	}
}

func TestFindsSubmittedValuesInAnyForm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		log   func(c *logcheck.Capture)
		leaks bool
	}{
		{"clean", func(c *logcheck.Capture) { c.Logger().Info("submission sent", "submission_id", "abc") }, false},
		{"address", func(c *logcheck.Capture) { c.Logger().Warn("x", "to", "KARI@example.no") }, true},
		{"message line", func(c *logcheck.Capture) { c.Logger().Info("x", "body", "Kan dere sende et tilbud") }, true},
		{"escaped newline", func(c *logcheck.Capture) { c.Logger().Info("x", "body", "Hei!\nKan dere sende et tilbud") }, true},
		{"non-ASCII", func(c *logcheck.Capture) { fmt.Fprintln(c, `{"name":"Åse Ødegård"}`) }, true},
		{"ip in raw output", func(c *logcheck.Capture) { fmt.Fprintln(c, "START from 198.51.100.7") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{TB: t}
			c := logcheck.New(ft, "kari@example.no", "Hei!\nKan dere sende et tilbud", "Åse Ødegård", "198.51.100.7", "ja")
			tc.log(c)
			ft.end()
			if got := len(ft.errors) > 0; got != tc.leaks {
				t.Errorf("errors %q, want leak found = %v", ft.errors, tc.leaks)
			}
		})
	}
}

func TestNothingCapturedFails(t *testing.T) {
	ft := &fakeT{TB: t}
	logcheck.New(ft, "kari@example.no")
	ft.end()
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "no log line") {
		t.Errorf("errors %q", ft.errors)
	}
}

func TestBufferFromAnOffset(t *testing.T) {
	var b logcheck.Buffer
	b.Write([]byte("before\n"))
	from := b.Len()
	b.Write([]byte("during\n"))
	if got := string(b.Bytes(from)); got != "during\n" {
		t.Errorf("Bytes(from) = %q", got)
	}
	if got := string(b.Bytes(0)); got != "before\nduring\n" {
		t.Errorf("Bytes(0) = %q", got)
	}
	if got := b.Bytes(1 << 20); len(got) != 0 {
		t.Errorf("Bytes past the end = %q", got)
	}
}
