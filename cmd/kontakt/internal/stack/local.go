package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// LocalName is Stack.Name of the `make dev` stack.
const LocalName = "make dev"

// DevFile is what `make dev` writes in the repository's .dev directory.
const DevFile = "stack.json"

// Dev is the part of .dev/stack.json (infra/dev) the command reads.
type Dev struct {
	DynamoDB       string `json:"dynamodb"`
	SQS            string `json:"sqs"`
	SES            string `json:"ses"`
	MailViewer     string `json:"mail_viewer"`
	Table          string `json:"table"`
	ErasureQueue   string `json:"erasure_queue_url"`
	ErasureDLQ     string `json:"erasure_dlq_url"`
	Region         string `json:"region"`
	Sender         string `json:"sender"`
	PrivacyContact string `json:"privacy_contact"`
	// Secrets is the Secrets Manager stand-in's endpoint, SecretID the
	// generated secret's ARN in it.
	Secrets  string `json:"secrets"`
	SecretID string `json:"secret_id"`
	// S3 is the S3 emulator's endpoint, FilesBucket the files bucket in it.
	S3          string `json:"s3"`
	FilesBucket string `json:"files_bucket"`
}

// SESURL is the SES emulator's endpoint (older stack.json files name only
// the mail viewer, which is the same server).
func (d *Dev) SESURL() string {
	if d.SES != "" {
		return d.SES
	}
	return d.MailViewer
}

// FindDevFile looks for .dev/stack.json in dir and its parents.
func FindDevFile(dir string) (string, error) {
	for d := dir; ; {
		p := filepath.Join(d, ".dev", DevFile)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no .dev/%s in %s or above: start the local stack with `make dev` in the repository first", DevFile, dir)
		}
		d = parent
	}
}

func resolveLocal(ctx context.Context, opt Options) (*Stack, error) {
	var path string
	if opt.DevDir != "" {
		path = filepath.Join(opt.DevDir, DevFile)
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if path, err = FindDevFile(wd); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s: start the local stack with `make dev` first", path)
	}
	if err != nil {
		return nil, err
	}
	var dev Dev
	if err := json.Unmarshal(data, &dev); err != nil {
		return nil, fmt.Errorf("%s: %w (restart make dev to rewrite it)", path, err)
	}
	if dev.Table == "" || dev.DynamoDB == "" || dev.Region == "" {
		return nil, fmt.Errorf("%s names no table, DynamoDB endpoint or region: restart make dev to rewrite it", path)
	}
	region := dev.Region
	if opt.Region != "" {
		region = opt.Region
	}
	// The emulators, through the SDK's standard variables: the code below
	// and every subcommand's clients are the ones that talk to AWS.
	env := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": dev.DynamoDB,
		"AWS_ENDPOINT_URL_SQS":      dev.SQS,
		"AWS_ENDPOINT_URL_SES":      dev.SESURL(),
		"AWS_ENDPOINT_URL_SESV2":    dev.SESURL(),
		"AWS_REGION":                region,
		"AWS_ACCESS_KEY_ID":         "test",
		"AWS_SECRET_ACCESS_KEY":     "test",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	if dev.Secrets != "" {
		env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = dev.Secrets
	}
	if dev.S3 != "" {
		env["AWS_ENDPOINT_URL_S3"] = dev.S3
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
	}
	// A profile (AWS_PROFILE, SSO) must not be consulted for the emulators.
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_SESSION_TOKEN")
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		awsconfig.WithSharedConfigFiles([]string{}), awsconfig.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for the local stack: %w", err)
	}
	outputs := map[string]string{
		OutputTable: dev.Table, OutputErasureQueue: dev.ErasureQueue, OutputErasureDeadLetters: dev.ErasureDLQ,
		OutputSecret: dev.SecretID, OutputFilesBucket: dev.FilesBucket,
	}
	params := map[string]string{ParamSender: dev.Sender, ParamPrivacyContact: dev.PrivacyContact}
	st := FromOutputs(LocalName, region, outputs, params)
	st.Local = true
	st.AWS = cfg
	st.Dev = &dev
	return st, nil
}
