package bucket_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/hold"
)

var (
	_ erasure.Files = (*bucket.Bucket)(nil)
	_ hold.Files    = (*bucket.Tagger)(nil)
)

type taggingFunc func(*s3.PutObjectTaggingInput) error

func (f taggingFunc) PutObjectTagging(_ context.Context, in *s3.PutObjectTaggingInput, _ ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	return &s3.PutObjectTaggingOutput{}, f(in)
}

// Holding sets the one tag no lifecycle rule matches; releasing sets the
// copy's retention tier; a file already gone is skipped, anything else
// stops with its class.
func TestTagger(t *testing.T) {
	tags := map[string]string{}
	var fail error
	tg := &bucket.Tagger{Name: "kontakt-files", Client: taggingFunc(func(in *s3.PutObjectTaggingInput) error {
		if aws.ToString(in.Bucket) != "kontakt-files" || len(in.Tagging.TagSet) != 1 || aws.ToString(in.Tagging.TagSet[0].Key) != bucket.RetentionTag {
			return fmt.Errorf("bad input %+v", in)
		}
		k := aws.ToString(in.Key)
		if k == "files/gone/0" {
			return &smithy.GenericAPIError{Code: "NoSuchKey"}
		}
		if fail != nil {
			return fail
		}
		tags[k] = aws.ToString(in.Tagging.TagSet[0].Value)
		return nil
	})}
	ctx := context.Background()
	keys := []string{"files/a/0", "files/gone/0", "files/a/1"}
	if err := tg.HoldFiles(ctx, keys); err != nil || tags["files/a/0"] != "held" || tags["files/a/1"] != "held" {
		t.Fatalf("hold: %v %v", err, tags)
	}
	if err := tg.ReleaseFiles(ctx, keys, 30); err != nil || tags["files/a/0"] != "30" || tags["files/a/1"] != "30" {
		t.Fatalf("release: %v %v", err, tags)
	}
	fail = &smithy.GenericAPIError{Code: "AccessDenied"}
	var be *bucket.Error
	if err := tg.HoldFiles(ctx, keys); !errors.As(err, &be) || be.Class != "misconfigured" {
		t.Errorf("AccessDenied: %v", err)
	}
}

func TestRetentionTier(t *testing.T) {
	for days, want := range map[int]int{0: 1, 1: 1, 7: 7, 8: 14, 30: 30, 31: 60, 365: 365, 400: 365} {
		if got := bucket.RetentionTier(days); got != want {
			t.Errorf("RetentionTier(%d) = %d, want %d", days, got, want)
		}
	}
	for _, tier := range config.FileRetentionTiers {
		if bucket.RetentionTier(tier) != tier {
			t.Errorf("tier %d is not its own tier", tier)
		}
	}
}

type deleteFunc func(*s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error)

func (f deleteFunc) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	panic("unused")
}
func (f deleteFunc) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	panic("unused")
}
func (f deleteFunc) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	panic("not called")
}
func (f deleteFunc) CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	panic("not called")
}
func (f deleteFunc) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	return f(in)
}

// Delete sends at most 1,000 keys per call (S3's limit) and fails on any
// key S3 reports it could not delete.
func TestDeleteBatchesAndReportsErrors(t *testing.T) {
	var sizes []int
	var reject bool
	b := &bucket.Bucket{Name: "kontakt-files", Client: deleteFunc(func(in *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) {
		sizes = append(sizes, len(in.Delete.Objects))
		if reject {
			return &s3.DeleteObjectsOutput{Errors: []types.Error{{Key: in.Delete.Objects[0].Key, Code: aws.String("AccessDenied")}}}, nil
		}
		return &s3.DeleteObjectsOutput{}, nil
	})}
	keys := make([]string, 2001)
	for i := range keys {
		keys[i] = fmt.Sprintf("files/x/%d", i)
	}
	if err := b.Delete(context.Background(), keys); err != nil || !slices.Equal(sizes, []int{1000, 1000, 1}) {
		t.Fatalf("Delete: %v, batches %v", err, sizes)
	}
	reject = true
	if err := b.Delete(context.Background(), keys[:3]); err == nil {
		t.Error("a key S3 could not delete is no error")
	}
}
