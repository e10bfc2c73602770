package submit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/opt-e/kontakt/infra/harness/meeting"
	"github.com/opt-e/kontakt/internal/abuse"
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

// meetingSecrets is a Secrets Manager client whose reads each wait until
// every other secret has been asked for too (meeting.Point).
type meetingSecrets struct{ at *meeting.Point }

func (m meetingSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if err := m.at.Arrive(ctx, aws.ToString(in.SecretId)); err != nil {
		return nil, err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(strings.Repeat("x", 64))}, nil
}

// The generated secret and every form's captcha secret are read at the
// same time, each once: each read is a round trip a cold start waits for.
func TestHandlerReadsItsSecretsAtOnce(t *testing.T) {
	cfg, err := config.Parse([]byte(`{"forms":[
		{"id":"a","abuse":{"captcha":{"provider":"hcaptcha","secret":"kontakt/captcha/h"}}},
		{"id":"b","abuse":{"captcha":{"provider":"turnstile","secret":"kontakt/captcha/t"}}},
		{"id":"c","abuse":{"captcha":{"provider":"hcaptcha","secret":"kontakt/captcha/h"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretID, cfg.Table = "KontaktSecret", "t"
	sm := meetingSecrets{meeting.New(3)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := Handler(ctx, cfg, Clients{Secrets: sm}, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"KontaktSecret": 1, "kontakt/captcha/h": 1, "kontakt/captcha/t": 1}; !maps.Equal(sm.at.Arrivals(), want) {
		t.Errorf("asked %v, want %v", sm.at.Arrivals(), want)
	}
	if g := h.Guard.(*abuse.Guard); len(g.Captcha.Secrets) != 2 {
		t.Errorf("captcha secrets %v", g.Captcha.Secrets)
	}
}
