package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
)

type secretsFunc func(id string) (string, error)

func (f secretsFunc) Get(_ context.Context, id string) (string, error) { return f(id) }

// A missing id, an unreadable secret or one too short to key with stops
// start-up, naming the key.
func TestGeneratedSecretErrorsNameTheKey(t *testing.T) {
	var ce *config.Error
	if _, err := app.GeneratedSecret(context.Background(), "", nil); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("no id: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.GeneratedSecret(context.Background(), "KontaktSecret", secretsFunc(func(string) (string, error) { return "", errors.New("denied") })); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("unreadable: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.LookupKeys("short"); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("short: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
}
