// Package secret reads keys from AWS Secrets Manager, once, at init.
package secret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// IAMActions are the Secrets Manager actions this package calls.
var IAMActions = []string{"secretsmanager:GetSecretValue"}

// API is the part of the Secrets Manager client used here.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// MinKeyBytes is the shortest key accepted for HMAC signing.
const MinKeyBytes = 32

// Key returns the secret's value as a signing key.
func Key(ctx context.Context, client API, id string) ([]byte, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	key := out.SecretBinary
	if key == nil {
		key = []byte(aws.ToString(out.SecretString))
	}
	if len(key) < MinKeyBytes {
		return nil, errors.New("read secret: the key is shorter than 32 bytes")
	}
	return key, nil
}
