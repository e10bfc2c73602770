package submit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
)

// secretReader is what guard needs of package secrets (a fake in tests).
type secretReader interface {
	Get(ctx context.Context, id string) (string, error)
}

// guard builds the abuse rules' guard: it reads the generated secret and
// every form's captcha secret once, now (at init), with a deadline each, so
// that a missing secret or permission stops the function at start-up
// instead of failing visitors one by one.
func guard(ctx context.Context, cfg *config.Config, sr secretReader, db dynamo.API, log *slog.Logger, metricsOut io.Writer) (*abuse.Guard, error) {
	if cfg.SecretID == "" {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: "is not set; it names the generated secret that keys form tokens and hashed IPs"}
	}
	secret, err := sr.Get(ctx, cfg.SecretID)
	if err != nil {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	tokenKey, ipKey, err := abuse.Keys(secret)
	if err != nil {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	g := &abuse.Guard{
		Tokens:         abuse.NewTokens(tokenKey),
		Counter:        &dynamo.RateCounter{Client: db, Table: cfg.Table},
		IPKey:          ipKey,
		CounterTimeout: abuse.DefaultCounterTimeout,
		Metrics:        &metrics.EMF{W: metricsOut},
		Log:            log,
		Now:            time.Now,
	}
	for i, f := range cfg.Forms {
		c := f.Abuse.Captcha
		if c == nil {
			continue
		}
		if g.Captcha == nil {
			g.Captcha = &abuse.Verifier{
				// No redirects: siteverify answers directly, and a redirect
				// would carry the secret somewhere else.
				Client:  &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
				Secrets: map[string]string{}, Timeout: abuse.DefaultCaptchaTimeout,
			}
		}
		if _, ok := g.Captcha.Secrets[c.Secret]; ok {
			continue
		}
		v, err := sr.Get(ctx, c.Secret)
		if err != nil {
			return nil, &config.Error{Key: fmt.Sprintf("forms[%d].abuse.captcha.secret", i), Reason: err.Error()}
		}
		g.Captcha.Secrets[c.Secret] = v
	}
	return g, nil
}
