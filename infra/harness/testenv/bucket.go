package testenv

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
)

// BucketLogicalID is the files bucket's logical id in template.yaml.
const BucketLogicalID = "FilesBucket"

// BucketName is the local files bucket (KONTAKT_FILES_BUCKET in
// FunctionVars). On AWS the name is generated; a logical id, with its
// capitals, is no valid bucket name.
const BucketName = "kontakt-files"

// CreateBucket creates the files bucket as template.yaml defines it, named
// name, with a CORS rule for origins, and returns its name.
//
// On moto every part of the template's bucket is applied, one S3 call each
// as CloudFormation makes them (public access block, ownership controls,
// encryption, lifecycle rules, CORS, the TLS-only policy), so a document
// moto refuses fails here. Then the policy is removed again: moto refuses
// every request under a Deny statement whatever its Condition (a Deny
// conditioned on TLS being used refuses its plain-HTTP requests too), so
// with the policy nothing could reach the bucket. The in-process emulator
// (gofakes3) keeps none of them and gets the bucket alone: it expires
// nothing, enforces no policy and answers CORS for any origin.
func (e *Env) CreateBucket(ctx context.Context, name string, origins []string) (string, error) {
	raw, err := samtemplate.LoadRaw(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		return "", fmt.Errorf("load template: %w", err)
	}
	b, err := samtemplate.BucketSetup(raw, BucketLogicalID, name, origins)
	if err != nil {
		return "", fmt.Errorf("bucket from template: %w", err)
	}
	c := s3.NewFromConfig(e.AWS)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(localstack.Region)},
	}); err != nil {
		return "", fmt.Errorf("create bucket: %w", err)
	}
	if e.S3 != nil {
		return name, nil
	}
	if err := ApplyBucket(ctx, c, b); err != nil {
		return "", err
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(name)}); err != nil {
		return "", fmt.Errorf("bucket %s: remove the policy moto cannot evaluate: %w", name, err)
	}
	return name, nil
}

// ApplyBucket makes the S3 calls that give an existing bucket b's settings:
// one Put call for each part the template sets.
func ApplyBucket(ctx context.Context, c *s3.Client, b *samtemplate.Bucket) error {
	name := aws.String(b.Name)
	steps := []struct {
		what string
		skip bool
		put  func() error
	}{
		{"public access block", b.PublicAccessBlock == nil, put(ctx, c.PutPublicAccessBlock, &s3.PutPublicAccessBlockInput{Bucket: name, PublicAccessBlockConfiguration: b.PublicAccessBlock})},
		{"ownership controls", b.Ownership == nil, put(ctx, c.PutBucketOwnershipControls, &s3.PutBucketOwnershipControlsInput{Bucket: name, OwnershipControls: b.Ownership})},
		{"encryption", b.Encryption == nil, put(ctx, c.PutBucketEncryption, &s3.PutBucketEncryptionInput{Bucket: name, ServerSideEncryptionConfiguration: b.Encryption})},
		{"lifecycle", b.Lifecycle == nil, put(ctx, c.PutBucketLifecycleConfiguration, &s3.PutBucketLifecycleConfigurationInput{Bucket: name, LifecycleConfiguration: b.Lifecycle})},
		{"CORS", b.CORS == nil, put(ctx, c.PutBucketCors, &s3.PutBucketCorsInput{Bucket: name, CORSConfiguration: b.CORS})},
		{"policy", b.Policy == "", put(ctx, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: name, Policy: aws.String(b.Policy)})},
	}
	for _, s := range steps {
		if s.skip {
			continue
		}
		if err := s.put(); err != nil {
			return fmt.Errorf("bucket %s: %s: %w", b.Name, s.what, err)
		}
	}
	return nil
}

// put is an S3 call with its input, to be made later; its answer holds
// nothing ApplyBucket needs.
func put[In, Out any](ctx context.Context, call func(context.Context, *In, ...func(*s3.Options)) (*Out, error), in *In) func() error {
	return func() error {
		_, err := call(ctx, in)
		return err
	}
}
