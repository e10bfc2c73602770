package testenv

import (
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
)

// moto, stricter than the in-process emulator, accepts every part of the
// template's files bucket as the S3 API takes it (CreateBucket does each
// call), and gives back what was put: the public access block, ownership
// controls, encryption, one lifecycle rule per template rule, the CORS
// origins and the TLS-only policy (on a bucket of its own: see CreateBucket).
func TestFilesBucketOnMoto(t *testing.T) {
	t.Setenv(EnvTestAWS, "moto")
	ctx := localstack.TestContext(t, 2*time.Minute)
	origins := []string{"https://www.example.no", "http://127.0.0.1:3000"}
	e, err := Start(ctx, Options{Log: io.Discard, UploadOrigins: origins})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if e.Bucket != BucketName || e.FunctionVars()["KONTAKT_FILES_BUCKET"] != BucketName {
		t.Errorf("Bucket = %q, FunctionVars gives %q, want %q", e.Bucket, e.FunctionVars()["KONTAKT_FILES_BUCKET"], BucketName)
	}
	c := s3.NewFromConfig(e.AWS)
	name := aws.String(e.Bucket)

	pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	if p := pab.PublicAccessBlockConfiguration; !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.RestrictPublicBuckets) {
		t.Errorf("public access block = %+v, want all true", p)
	}
	own, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	if r := own.OwnershipControls.Rules; len(r) != 1 || r[0].ObjectOwnership != "BucketOwnerEnforced" {
		t.Errorf("ownership controls = %+v", r)
	}
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Errorf("encryption = %+v", r)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, r := range lc.Rules {
		f := r.Filter
		desc := ""
		switch {
		case f != nil && f.And != nil:
			desc = aws.ToString(f.And.Prefix)
			for _, tag := range f.And.Tags {
				desc += " " + aws.ToString(tag.Key) + "=" + aws.ToString(tag.Value)
			}
		case f != nil:
			desc = aws.ToString(f.Prefix)
		}
		if r.Expiration != nil {
			desc += " expire " + strconv.Itoa(int(aws.ToInt32(r.Expiration.Days)))
		}
		if r.AbortIncompleteMultipartUpload != nil {
			desc += " abort " + strconv.Itoa(int(aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)))
		}
		byID[aws.ToString(r.ID)] = desc
	}
	for id, want := range map[string]string{
		"files-kept-30-days":           "files/ kontakt-retention=30 expire 30",
		"files-kept-365-days":          "files/ kontakt-retention=365 expire 365",
		"uploads-not-posted":           "uploads/ expire 1",
		"incomplete-multipart-uploads": " abort 1",
	} {
		if got := byID[id]; got != want {
			t.Errorf("lifecycle rule %s = %q, want %q", id, got, want)
		}
	}
	if len(lc.Rules) != 10 {
		t.Errorf("%d lifecycle rules, want 10 (8 tiers, uploads, multipart)", len(lc.Rules))
	}
	cors, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	if r := cors.CORSRules; len(r) != 1 || !reflect.DeepEqual(r[0].AllowedOrigins, origins) || !reflect.DeepEqual(r[0].AllowedMethods, []string{"PUT", "POST"}) {
		t.Errorf("CORS rules = %+v", r)
	}
	// The functions can use the bucket: the policy moto cannot evaluate is
	// gone (see CreateBucket).
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: name, Key: aws.String("files/x/0"), Body: strings.NewReader("x"), Tagging: aws.String("kontakt-retention=30")}); err != nil {
		t.Errorf("PutObject on the set-up bucket: %v", err)
	}

	// The policy on a bucket of its own: moto takes it and gives it back,
	// and then refuses even a request its Condition lets through.
	raw, err := samtemplate.LoadRaw(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := samtemplate.BucketSetup(raw, BucketLogicalID, "kontakt-files-policy", origins)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.Name),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(localstack.Region)}}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyBucket(ctx, c, b); err != nil {
		t.Fatal(err)
	}
	pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.Name)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil || len(doc.Statement) != 1 {
		t.Fatalf("policy %s: %v", aws.ToString(pol.Policy), err)
	}
	if s := doc.Statement[0]; s["Effect"] != "Deny" || !strings.Contains(aws.ToString(pol.Policy), `"arn:aws:s3:::`+b.Name+`/*"`) {
		t.Errorf("policy = %s, want the TLS-only deny on %s and its objects", aws.ToString(pol.Policy), b.Name)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String("files/x/0"), Body: strings.NewReader("x")}); err == nil {
		t.Log("moto now lets a plain-HTTP request through the TLS-only policy: it evaluates the Condition, and CreateBucket could keep the policy on moto")
	}
}
