package submit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
)

// guard builds the abuse rules' guard from the generated secret (read by
// Handler, see app.GeneratedSecret), and reads every form's captcha secret
// once, now (at init), with a deadline each, so that a missing secret or
// permission stops the function at start-up instead of failing visitors
// one by one.
func guard(ctx context.Context, cfg *config.Config, secret string, sr app.SecretReader, db dynamo.API, log *slog.Logger, metricsOut io.Writer) (*abuse.Guard, error) {
	tokenKey, ipKey, err := abuse.Keys(secret)
	if err != nil {
		return nil, &config.Error{Key: config.EnvSecretID, Reason: err.Error()}
	}
	g := &abuse.Guard{
		Tokens:         abuse.NewTokens(tokenKey),
		Counter:        &dynamo.RateCounter{Client: db, Table: cfg.Table},
		IPKey:          ipKey,
		CounterTimeout: abuse.DefaultCounterTimeout,
		// The function's name is the held-post metric's dimension, as the
		// template's SubmissionsHeldAlarm watches it.
		Metrics: &metrics.EMF{W: metricsOut, Function: lambdacontext.FunctionName},
		Log:     log,
		Now:     time.Now,
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
