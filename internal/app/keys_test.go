package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
)

// oneSecret is a secret store that answers every read with value and err.
type oneSecret struct {
	value string
	err   error
}

func (s oneSecret) Get(context.Context, string) (string, error) { return s.value, s.err }

// A missing id, an unreadable secret or one too short to key with stops
// start-up, naming the key.
func TestGeneratedSecretErrorsNameTheKey(t *testing.T) {
	var ce *config.Error
	if _, err := app.GeneratedSecret(context.Background(), "", nil); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("no id: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.GeneratedSecret(context.Background(), "KontaktSecret", oneSecret{err: errors.New("denied")}); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("unreadable: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.LookupKeys("short"); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("short: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, _, err := app.Keys(context.Background(), "KontaktSecret", oneSecret{value: "short"}); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("Keys of a short secret: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
}

// Keys hands back the secret it read and the lookup keys derived from it.
func TestKeys(t *testing.T) {
	secret := strings.Repeat("k", 64)
	got, keys, err := app.Keys(context.Background(), "KontaktSecret", oneSecret{value: secret})
	if err != nil || got != secret {
		t.Fatalf("secret %q, %v; want the one read", got, err)
	}
	want, _ := app.LookupKeys(secret)
	if keys.Key("kari@example.no") != want.Key("kari@example.no") {
		t.Error("the lookup keys are not the secret's")
	}
}
