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

// tagStore keeps objects' tag sets as S3 does: PutObjectTagging replaces
// the whole set. files/gone/0 has no object.
type tagStore struct {
	sets map[string][]types.Tag
	fail error
}

func (f *tagStore) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	if aws.ToString(in.Key) == "files/gone/0" {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	if f.fail != nil {
		return nil, f.fail
	}
	return &s3.GetObjectTaggingOutput{TagSet: f.sets[aws.ToString(in.Key)]}, nil
}

func (f *tagStore) PutObjectTagging(_ context.Context, in *s3.PutObjectTaggingInput, _ ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	if aws.ToString(in.Bucket) != "kontakt-files" {
		return nil, fmt.Errorf("bad input %+v", in)
	}
	f.sets[aws.ToString(in.Key)] = in.Tagging.TagSet
	return &s3.PutObjectTaggingOutput{}, nil
}

func (f *tagStore) tag(key, name string) string {
	for _, tg := range f.sets[key] {
		if aws.ToString(tg.Key) == name {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// Holding sets the one retention tag no lifecycle rule matches; releasing
// sets the copy's retention tier; other tags (GuardDuty's scan result,
// which lets a file be downloaded) stay; a file already gone is skipped,
// anything else stops with its class.
func TestTagger(t *testing.T) {
	store := &tagStore{sets: map[string][]types.Tag{
		"files/a/0": {{Key: aws.String(bucket.RetentionTag), Value: aws.String("30")}, {Key: aws.String(bucket.ScanTag), Value: aws.String(bucket.ScanClean)}},
	}}
	tg := &bucket.Tagger{Name: "kontakt-files", Client: store}
	ctx := context.Background()
	keys := []string{"files/a/0", "files/gone/0", "files/a/1"}
	if err := tg.HoldFiles(ctx, keys); err != nil || store.tag("files/a/0", bucket.RetentionTag) != "held" || store.tag("files/a/1", bucket.RetentionTag) != "held" {
		t.Fatalf("hold: %v %v", err, store.sets)
	}
	if err := tg.ReleaseFiles(ctx, keys, 30); err != nil || store.tag("files/a/0", bucket.RetentionTag) != "30" || store.tag("files/a/1", bucket.RetentionTag) != "30" {
		t.Fatalf("release: %v %v", err, store.sets)
	}
	if got := store.tag("files/a/0", bucket.ScanTag); got != bucket.ScanClean || len(store.sets["files/a/0"]) != 2 {
		t.Errorf("tags after hold and release: %v, want the scan result kept", store.sets["files/a/0"])
	}
	store.fail = &smithy.GenericAPIError{Code: "AccessDenied"}
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
