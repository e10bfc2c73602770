// Package logcheck is a test helper that keeps the promise "no personal
// data in any log line": it captures every line a flow writes (slog records,
// EMF metric lines, a Lambda emulator's output) and fails the test when a
// submitted value - a name, an address, a message, an IP address - appears
// in any of them, as written or JSON-escaped, in any letter case.
package logcheck

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Capture collects log lines for one test and checks them when it ends.
type Capture struct {
	t       testing.TB
	mu      sync.Mutex
	buf     bytes.Buffer
	secrets []string
}

// New returns a capture whose lines are checked against every Secret when
// the test ends. A capture that saw no line at all also fails: a check over
// nothing proves nothing.
func New(t testing.TB, secrets ...string) *Capture {
	t.Helper()
	c := &Capture{t: t}
	c.Secret(secrets...)
	t.Cleanup(c.check)
	return c
}

// Logger writes JSON records, every level, into the capture.
func (c *Capture) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write makes the capture an io.Writer (metrics, emulator output).
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// Secret adds values that must never be logged. A multi-line value is also
// checked line by line; values shorter than 4 bytes are skipped, as they
// match ordinary words.
func (c *Capture) Secret(values ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range values {
		for _, part := range append([]string{v}, strings.Split(v, "\n")...) {
			if part = strings.TrimSpace(part); len(part) >= 4 {
				c.secrets = append(c.secrets, part)
			}
		}
	}
}

// Lines returns what was captured so far, one entry per line.
func (c *Capture) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.TrimRight(c.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Leaks returns each captured line that holds a secret, with the secret.
func (c *Capture) Leaks() []string {
	lines := c.Lines()
	// Each secret as written and as JSON escapes it, lower-cased, indexed by
	// its first four bytes: a load test registers thousands of secrets and
	// captures thousands of lines.
	type form struct{ secret, text string }
	index := map[string][]form{}
	c.mu.Lock()
	for _, s := range c.secrets {
		esc, _ := json.Marshal(s)
		texts := []string{strings.ToLower(s)}
		if e := strings.ToLower(strings.Trim(string(esc), `"`)); e != texts[0] {
			texts = append(texts, e)
		}
		for _, tx := range texts {
			if len(tx) >= 4 { // lower-casing can shorten a string
				index[tx[:4]] = append(index[tx[:4]], form{s, tx})
			}
		}
	}
	c.mu.Unlock()
	var leaks []string
	for _, line := range lines {
		lower := strings.ToLower(line)
	scan:
		for i := 0; i+4 <= len(lower); i++ {
			for _, f := range index[lower[i:i+4]] {
				if strings.HasPrefix(lower[i:], f.text) {
					leaks = append(leaks, "value "+f.secret+" in: "+line)
					break scan
				}
			}
		}
	}
	return leaks
}

func (c *Capture) check() {
	c.t.Helper()
	if len(c.Lines()) == 0 {
		c.t.Error("logcheck: no log line was captured; the flow's logger is not the capture's")
		return
	}
	for _, l := range c.Leaks() {
		c.t.Errorf("logcheck: personal data in a log line: %s", l)
	}
}
