package app

import (
	"context"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// SecretReader is what the wiring needs of package secrets (a fake in
// tests).
type SecretReader interface {
	Get(ctx context.Context, id string) (string, error)
}

// GeneratedSecret reads the generated secret (KONTAKT_SECRET_ID) once, at
// init, with a deadline, so that a missing secret or permission stops the
// function at start-up instead of failing visitors one by one. Submit,
// erase and the privacy function derive their keys from it.
func GeneratedSecret(ctx context.Context, id string, sr SecretReader) (string, error) {
	if id == "" {
		return "", &config.Error{Key: config.EnvSecretID, Reason: "is not set; it names the generated secret that keys form tokens, hashed IPs and lookup keys"}
	}
	secret, err := sr.Get(ctx, id)
	if err != nil {
		return "", &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	return secret, nil
}

// LookupKeys derives the lookup keys from the generated secret.
func LookupKeys(secret string) (*submission.LookupKeys, error) {
	k, err := submission.NewLookupKeys(secret)
	if err != nil {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	return k, nil
}

// Keys reads the generated secret and derives the lookup keys from it: what
// each function that stores or finds a person's copies does at start-up.
// The secret comes back too, for the keys a function derives besides.
func Keys(ctx context.Context, id string, sr SecretReader) (string, *submission.LookupKeys, error) {
	secret, err := GeneratedSecret(ctx, id, sr)
	if err != nil {
		return "", nil, err
	}
	keys, err := LookupKeys(secret)
	if err != nil {
		return "", nil, err
	}
	return secret, keys, nil
}

// Prefetch starts reading every secret named in ids at once and returns a
// reader that serves Get from those reads (other ids go to sr). Each read
// is a round trip that every cold start waits for; one after another they
// add up (submit reads the generated secret and each form's captcha
// secret, privacy two). The callers keep reading in their own order, so
// an error still names the setting it came from. An empty id is not read.
func Prefetch(ctx context.Context, sr SecretReader, ids ...string) SecretReader {
	p := prefetched{next: sr, reads: map[string]*secretRead{}}
	for _, id := range ids {
		if id == "" || p.reads[id] != nil {
			continue
		}
		r := &secretRead{done: make(chan struct{})}
		p.reads[id] = r
		go func() {
			defer close(r.done)
			r.value, r.err = sr.Get(ctx, id)
		}()
	}
	return p
}

type prefetched struct {
	next  SecretReader
	reads map[string]*secretRead
}

type secretRead struct {
	done  chan struct{}
	value string
	err   error
}

func (p prefetched) Get(ctx context.Context, id string) (string, error) {
	r, ok := p.reads[id]
	if !ok {
		return p.next.Get(ctx, id)
	}
	select {
	case <-r.done:
		return r.value, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
