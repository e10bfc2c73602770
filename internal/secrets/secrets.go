// Package secrets reads secrets from AWS Secrets Manager: the generated
// secret that form tokens and hashed IPs are keyed with, and captcha
// providers' secret keys. They are read once, at start-up.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/opt-e/kontakt/internal/deadline"
)

// DefaultTimeout bounds a read at start-up; Lambda's init phase has 10 s.
const DefaultTimeout = 3 * time.Second

// IAMActions are the Secrets Manager actions the reader calls; the submit,
// erase and privacy functions all read their secrets with it.
var IAMActions = []string{"secretsmanager:GetSecretValue"}

// API is the part of the Secrets Manager client the reader uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Reader reads string secrets.
type Reader struct {
	Client API
	// Timeout bounds each read.
	Timeout time.Duration
}

// Get returns the current value of the secret with the given name or ARN.
// The error names the secret (its id is configuration, not a secret) but
// never carries its value.
func (r *Reader) Get(ctx context.Context, id string) (string, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := deadline.Bound(ctx, timeout, 0)
	defer cancel()
	out, err := r.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", id, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("read secret %s: %w", id, errors.New("it has no string value"))
	}
	return *out.SecretString, nil
}
