package app_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/app"
)

// lambdaEnv sets what Lambda sets and unsets every endpoint variable, then
// applies vars ("" unsets).
func lambdaEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	base := map[string]string{
		"AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_ACCESS_KEY": "", "AWS_SECRET_KEY": "", "AWS_ACCOUNT_ID": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_DYNAMODB": "", "AWS_ENDPOINT_URL_SES": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	}
	for k, v := range vars {
		base[k] = v
	}
	for k, v := range base {
		t.Setenv(k, v) // restores the old value afterwards
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

func endpoints(t *testing.T, load func(context.Context) (aws.Config, error)) (dynamo, ses string) {
	t.Helper()
	cfg, err := load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
		aws.ToString(sesapi.NewFromConfig(cfg).Options().BaseEndpoint)
}

// loadDefault is the SDK's own loader, with no shared files to read.
func loadDefault(t *testing.T) func(context.Context) (aws.Config, error) {
	dir := t.TempDir()
	return func(ctx context.Context) (aws.Config, error) {
		return awsconfig.LoadDefaultConfig(ctx,
			awsconfig.WithSharedConfigFiles([]string{dir + "/config"}),
			awsconfig.WithSharedCredentialsFiles([]string{dir + "/credentials"}))
	}
}

// The service clients find their endpoints in the SDK's standard variables,
// exactly as with config.LoadDefaultConfig (checked side by side), which is
// how the tests reach the emulators.
func TestAWSConfigEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name              string
		vars              map[string]string
		wantDynamo, wantS string
	}{
		{"none: the AWS endpoints", nil, "", ""},
		{"per service", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, "http://127.0.0.1:8000", ""},
		{"global", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", "http://127.0.0.1:4566"},
		{"per service wins over global", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SES": "http://127.0.0.1:8005"}, "http://127.0.0.1:4566", "http://127.0.0.1:8005"},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SES": "http://127.0.0.1:8005", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lambdaEnv(t, tc.vars)
			d, s := endpoints(t, app.AWSConfig)
			if d != tc.wantDynamo || s != tc.wantS {
				t.Errorf("endpoints = %q, %q; want %q, %q", d, s, tc.wantDynamo, tc.wantS)
			}
			if dd, ds := endpoints(t, loadDefault(t)); dd != d || ds != s {
				t.Errorf("LoadDefaultConfig gives %q, %q; AWSConfig %q, %q", dd, ds, d, s)
			}
		})
	}
}

func TestAWSConfigRegionAndCredentials(t *testing.T) {
	lambdaEnv(t, nil)
	cfg, err := app.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-north-1" || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("region %q, credentials %+v", cfg.Region, creds)
	}
}

// Outside Lambda a missing variable stops start-up with its name, rather
// than failing on the first visitor.
func TestAWSConfigNamesWhatIsMissing(t *testing.T) {
	for missing, want := range map[string]string{"AWS_REGION": "AWS_REGION", "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY"} {
		t.Run(missing, func(t *testing.T) {
			lambdaEnv(t, map[string]string{missing: ""})
			_, err := app.AWSConfig(context.Background())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to name %s", err, want)
			}
		})
	}
}
