package submit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
)

type secretsFunc func(id string) (string, error)

func (f secretsFunc) Get(_ context.Context, id string) (string, error) { return f(id) }

func guardConfig(t *testing.T, captcha string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(`{"forms":[{"id":"a"` + captcha + `},{"id":"b"` + captcha + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.SecretID = "KontaktSecret"
	return c
}

// A secret too short to key with stops start-up, naming the key.
func TestGuardRefusesAShortSecret(t *testing.T) {
	_, err := guard(context.Background(), guardConfig(t, ""), "short", secretsFunc(func(string) (string, error) { return "", errors.New("no read expected") }), nil, slog.New(slog.DiscardHandler), io.Discard)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Fatalf("err = %v, want a config error on %s", err, config.EnvSecretID)
	}
}

// Forms sharing a captcha secret read it once; the generated secret is read
// once by Handler and handed in.
func TestGuardReadsEachCaptchaSecretOnce(t *testing.T) {
	reads := map[string]int{}
	g, err := guard(context.Background(), guardConfig(t, `,"abuse":{"captcha":{"provider":"hcaptcha","secret":"kontakt/captcha/h"}}`),
		strings.Repeat("s", 64), secretsFunc(func(id string) (string, error) {
			reads[id]++
			return strings.Repeat("x", 64), nil
		}), nil, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if reads["kontakt/captcha/h"] != 1 || len(reads) != 1 || g.Captcha.Secrets["kontakt/captcha/h"] == "" {
		t.Errorf("reads %v", reads)
	}
}
