package app_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/opt-e/kontakt/internal/bucket"
)

// Holding and releasing a file rewrite its retention tag through the
// stack's S3 (and moto's) and keep the tags others set: GuardDuty's scan
// result is what lets a scanned file be downloaded.
func TestTaggerKeepsOtherTags(t *testing.T) {
	integration(t)
	c := filesS3()
	key := "files/tagger-test/0"
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(key), Body: strings.NewReader("%PDF-1.7"),
		Tagging: aws.String(bucket.RetentionTag + "=30&" + bucket.ScanTag + "=" + bucket.ScanClean)})
	if err != nil {
		t.Fatal(err)
	}
	tg := &bucket.Tagger{Client: c, Name: env.Bucket}
	tags := func() map[string]string { return objectTags(t, c, key) }
	if err := tg.HoldFiles(ctx(t), []string{key, "files/tagger-test/gone"}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); got[bucket.RetentionTag] != bucket.TagHeld || got[bucket.ScanTag] != bucket.ScanClean || len(got) != 2 {
		t.Errorf("held: %v", got)
	}
	if err := tg.ReleaseFiles(ctx(t), []string{key}, 30); err != nil {
		t.Fatal(err)
	}
	if got := tags(); got[bucket.RetentionTag] != "30" || got[bucket.ScanTag] != bucket.ScanClean || len(got) != 2 {
		t.Errorf("released: %v", got)
	}
}

// objectTags reads the tags of the files bucket's object key.
func objectTags(t *testing.T, c *s3.Client, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}
