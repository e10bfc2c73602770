package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/opt-e/kontakt/internal/secrets"
)

type apiFunc func(ctx context.Context, in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error)

func (f apiFunc) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in)
}

func TestGet(t *testing.T) {
	var left time.Duration
	r := &secrets.Reader{Timeout: 2 * time.Second, Client: apiFunc(func(ctx context.Context, in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
		dl, ok := ctx.Deadline()
		if ok {
			left = time.Until(dl)
		}
		switch aws.ToString(in.SecretId) {
		case "ok":
			return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("s3cr3t-v4lue")}, nil
		case "binary":
			return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte("s3cr3t-v4lue")}, nil
		}
		return nil, errors.New("AccessDeniedException")
	})}
	if v, err := r.Get(context.Background(), "ok"); err != nil || v != "s3cr3t-v4lue" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if left <= 0 || left > 2*time.Second {
		t.Errorf("deadline %v from now, want within the 2 s timeout", left)
	}
	for _, id := range []string{"binary", "denied"} {
		_, err := r.Get(context.Background(), id)
		if err == nil || !strings.Contains(err.Error(), id) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: %v, want an error naming the secret but not its value", id, err)
		}
	}
}
