package abuse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/deadline"
	"github.com/opt-e/kontakt/internal/submission"
)

// Siteverify endpoints as the providers document them. Each takes a form
// POST of secret, response and optionally remoteip, and answers JSON with
// success, error-codes and (reCAPTCHA v3) score and action.
var defaultVerifyURLs = map[string]string{
	config.CaptchaTurnstile:   "https://challenges.cloudflare.com/turnstile/v0/siteverify",
	config.CaptchaHCaptcha:    "https://api.hcaptcha.com/siteverify",
	config.CaptchaRecaptcha:   "https://www.google.com/recaptcha/api/siteverify",
	config.CaptchaRecaptchaV3: "https://www.google.com/recaptcha/api/siteverify",
}

// VerifyURL is where the form's captcha answers are checked.
func VerifyURL(c *config.Captcha) string {
	if c.VerifyURL != "" {
		return c.VerifyURL
	}
	return defaultVerifyURLs[c.Provider]
}

// CaptchaField is the field a provider's widget fills in.
func CaptchaField(provider string) string {
	switch provider {
	case config.CaptchaTurnstile:
		return "cf-turnstile-response"
	case config.CaptchaHCaptcha:
		return "h-captcha-response"
	}
	return "g-recaptcha-response"
}

// captchaAnswer takes the provider's own field; Turnstile and hCaptcha
// widgets in reCAPTCHA compatibility mode fill g-recaptcha-response instead.
func captchaAnswer(provider string, answers map[string]string) string {
	if a := answers[CaptchaField(provider)]; a != "" {
		return a
	}
	return answers["g-recaptcha-response"]
}

// Doer sends an HTTP request; *http.Client is one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Verifier checks captcha answers with the provider.
type Verifier struct {
	Client Doer
	// Secrets maps a form's captcha secret id (config.Captcha.Secret) to
	// the provider's secret key, read from Secrets Manager at start-up.
	Secrets map[string]string
	// Timeout bounds one verification; past it the post is refused as
	// unavailable (fail closed).
	Timeout time.Duration
}

// DefaultCaptchaTimeout leaves room in the 10 s function timeout for the
// email and the copy after a slow verification.
const DefaultCaptchaTimeout = 3 * time.Second

// maxAnswer is well above every provider's token (Turnstile's is at most
// 2048 characters); anything longer is not an answer.
const maxAnswer = 8192

type siteverify struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
	Score      *float64 `json:"score"`
	Action     string   `json:"action"`
}

// Verify asks the provider whether answer is a solved captcha for c. It
// returns false for an answer the provider refuses (wrong, expired, used
// twice, too low a score), and an error when no verdict could be had:
// timeout, transport or provider failure, or a secret the provider rejects.
// remoteIP is sent only when not empty.
func (v *Verifier) Verify(ctx context.Context, c *config.Captcha, answer, remoteIP string) (bool, error) {
	if len(answer) > maxAnswer {
		return false, nil
	}
	secret, ok := v.Secrets[c.Secret]
	if !ok {
		return false, &submission.ClassedError{Class: "config", Err: errors.New("captcha secret not loaded")}
	}
	form := url.Values{"secret": {secret}, "response": {answer}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultCaptchaTimeout
	}
	ctx, cancel := deadline.Bound(ctx, timeout, 0)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, VerifyURL(c), strings.NewReader(form.Encode()))
	if err != nil {
		return false, &submission.ClassedError{Class: "config", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := v.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, &submission.ClassedError{Class: "timeout", Err: err}
		}
		return false, &submission.ClassedError{Class: "unreachable", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, &submission.ClassedError{Class: "status", Err: fmt.Errorf("siteverify answered %s", resp.Status)}
	}
	var r siteverify
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil {
		if ctx.Err() != nil {
			return false, &submission.ClassedError{Class: "timeout", Err: err}
		}
		return false, &submission.ClassedError{Class: "response", Err: err}
	}
	for _, code := range r.ErrorCodes {
		switch code {
		case "missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "invalid-keys":
			// The operator's configuration, not the visitor's answer.
			return false, &submission.ClassedError{Class: "secret", Err: fmt.Errorf("provider rejected the secret: %s", code)}
		case "internal-error":
			return false, &submission.ClassedError{Class: "provider", Err: errors.New("provider internal error")}
		}
	}
	if !r.Success {
		return false, nil
	}
	if c.Provider == config.CaptchaRecaptchaV3 {
		if r.Score == nil || *r.Score < c.MinScore {
			return false, nil
		}
		if c.Action != "" && r.Action != c.Action {
			return false, nil
		}
	}
	return true, nil
}
