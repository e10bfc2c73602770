package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSConfig builds the SDK configuration from the environment that Lambda
// gives every function: AWS_REGION and the execution role's
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, plus the
// SDK's standard AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables,
// which is how the tests and the local stack reach the emulators (there is
// no emulator code path).
//
// It does not call config.LoadDefaultConfig on purpose: importing that
// package links and initialises the SSO, SSO-OIDC, STS, sign-in and IMDS
// credential providers, which a Lambda function never uses. They cost about
// 1 MB of the deployed binary and several milliseconds of every cold start
// (docs/performance.md). What LoadDefaultConfig would read besides these
// variables (shared config files, profiles) does not exist in Lambda.
func AWSConfig(context.Context) (aws.Config, error) {
	region := firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	if region == "" {
		return aws.Config{}, errors.New("load aws config: AWS_REGION is not set")
	}
	id, secret := firstEnv("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), firstEnv("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("load aws config: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them from the execution role)")
	}
	creds := credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	creds.Value.AccountID = os.Getenv("AWS_ACCOUNT_ID")
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(creds),
		// Each service client looks up AWS_ENDPOINT_URL_<SERVICE> through
		// its configuration sources, as with LoadDefaultConfig.
		ConfigSources: []any{envEndpoints{}},
	}
	// The SDK's retry settings, as LoadDefaultConfig reads them (the fault
	// tests set one attempt, so a fault shows at once).
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return aws.Config{}, errors.New("load aws config: AWS_MAX_ATTEMPTS must be a whole number of at least 1")
		}
		cfg.RetryMaxAttempts = n
	}
	if v := os.Getenv("AWS_RETRY_MODE"); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load aws config: AWS_RETRY_MODE: %w", err)
		}
		cfg.RetryMode = mode
	}
	ignore, _ := strconv.ParseBool(os.Getenv(envIgnoreEndpoints))
	if base := os.Getenv("AWS_ENDPOINT_URL"); base != "" && !ignore {
		cfg.BaseEndpoint = aws.String(base)
	}
	return cfg, nil
}

const envIgnoreEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"

// envEndpoints answers the service clients' question for a configured
// endpoint exactly as the SDK's own environment configuration does.
type envEndpoints struct{}

// GetServiceBaseEndpoint reads AWS_ENDPOINT_URL_<SDK ID>, the SDK id upper
// case with spaces as underscores (DynamoDB → AWS_ENDPOINT_URL_DYNAMODB).
func (envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints honours AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (envEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, ok := os.LookupEnv(envIgnoreEndpoints)
	if !ok {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil, err
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
