package bucket

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/opt-e/kontakt/internal/config"
)

// HoldIAMActions are the S3 actions the operator's hold and release
// commands call (on files/*). With s3:ListBucket too, a file already gone
// is answered NoSuchKey and skipped; without it S3 answers AccessDenied.
var HoldIAMActions = []string{"s3:GetObjectTagging", "s3:PutObjectTagging"}

// RetagAPI is the part of the S3 client legal holds use.
type RetagAPI interface {
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, opts ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// Tagger retags the files of copies under a legal hold (hold.Files): held,
// they match no lifecycle rule; released, the rule of their retention
// deletes them at that age, at once if it has passed, as DynamoDB's TTL
// does the copy. A separate adapter from Bucket, so that only what places
// and ends holds needs s3:PutObjectTagging.
type Tagger struct {
	Client RetagAPI
	Name   string
}

// HoldFiles tags each file TagHeld.
func (t *Tagger) HoldFiles(ctx context.Context, keys []string) error {
	return t.tag(ctx, keys, TagHeld)
}

// ReleaseFiles tags each file with the retention tier its copy was kept
// for (RetentionTier).
func (t *Tagger) ReleaseFiles(ctx context.Context, keys []string, retentionDays int) error {
	return t.tag(ctx, keys, strconv.Itoa(RetentionTier(retentionDays)))
}

// RetentionTier is the lifecycle tier a file kept for days belongs to: the
// smallest of config.FileRetentionTiers that is not shorter, so a file is
// never deleted while its copy still names it (the largest, for longer).
// A form that takes files keeps them for exactly a tier; anything else is
// a copy from before a tier was changed.
func RetentionTier(days int) int {
	for _, t := range config.FileRetentionTiers {
		if t >= days {
			return t
		}
	}
	return config.FileRetentionTiers[len(config.FileRetentionTiers)-1]
}

// tag sets each object's retention tag to value and keeps its other tags:
// PutObjectTagging replaces the whole set, and GuardDuty's scan result
// (ScanTag) is what lets a scanned file be downloaded. A key with no
// object is skipped: the lifecycle or an erasure got there first.
func (t *Tagger) tag(ctx context.Context, keys []string, value string) error {
	for _, k := range keys {
		err := t.retag(ctx, k, value)
		if err == nil {
			continue
		}
		if e := wrap("tag file", err).(*Error); e.Class != "not_found" {
			return e
		}
	}
	return nil
}

func (t *Tagger) retag(ctx context.Context, key, value string) error {
	old, err := t.Client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(t.Name), Key: aws.String(key)})
	if err != nil {
		return err
	}
	set := []types.Tag{{Key: aws.String(RetentionTag), Value: aws.String(value)}}
	for _, tg := range old.TagSet {
		if aws.ToString(tg.Key) != RetentionTag {
			set = append(set, tg)
		}
	}
	_, err = t.Client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(t.Name), Key: aws.String(key), Tagging: &types.Tagging{TagSet: set},
	})
	return err
}
