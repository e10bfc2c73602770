package localstack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The stand-in answers the real SDK client, reached only through
// AWS_ENDPOINT_URL_SECRETS_MANAGER, by name and by ARN.
func TestSecretsStandIn(t *testing.T) {
	st := &Stack{}
	var err error
	if st.Secrets, err = StartSecrets(0); err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if !strings.HasPrefix(st.Secrets.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", st.Secrets.URL)
	}
	restore := st.Setenv()
	defer restore()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := secretsmanager.NewFromConfig(cfg)
	arn := st.Secrets.Put("kontakt/captcha/turnstile", "0x4AAA-secret")
	for _, id := range []string{"kontakt/captcha/turnstile", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if aws.ToString(out.SecretString) != "0x4AAA-secret" || aws.ToString(out.ARN) != arn || aws.ToString(out.Name) != "kontakt/captcha/turnstile" {
			t.Errorf("%s: %+v", id, out)
		}
	}
	_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing secret: %v, want ResourceNotFoundException", err)
	}
}
