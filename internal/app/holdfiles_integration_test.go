package app_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

// Against DynamoDB and the stack's S3: a hold holds a copy's files (their
// retention tag), a release gives them the copy's own retention back, read
// from the copy as the submit function stored it (30 days here), and only
// when no other hold covers it; the files' other tags stay.
func TestLegalHoldHoldsFiles(t *testing.T) {
	integration(t)
	db := dynamodb.NewFromConfig(env.AWS)
	store := &dynamo.Store{Client: db, Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: "soknad", ReceivedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
		ReplyTo: "hold.files@example.no", Fields: []submission.Field{{Name: "message", Value: "x"}}}
	s.Files = []submission.File{{Name: "a.pdf", Type: "application/pdf", Size: 10, Key: submission.FileKey(s.ID, 0)},
		{Name: "b.pdf", Type: "application/pdf", Size: 10, Key: submission.FileKey(s.ID, 1)}}
	if err := store.Save(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	c := filesS3()
	for _, f := range s.Files {
		if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(f.Key), Body: strings.NewReader("%PDF-1.7"),
			Tagging: aws.String(bucket.RetentionTag + "=30&" + bucket.ScanTag + "=" + bucket.ScanClean)}); err != nil {
			t.Fatal(err)
		}
	}
	// tag reads a file's retention tag; its scan tag must stay throughout.
	tag := func(key string) string {
		t.Helper()
		m := objectTags(t, c, key)
		if m[bucket.ScanTag] != bucket.ScanClean {
			t.Errorf("%s lost its scan tag: %v", key, m)
		}
		return m[bucket.RetentionTag]
	}
	holds := &holdstore.Store{Client: db, Table: env.Table}
	svc := &hold.Service{Store: holds, FileStore: holds, Files: &bucket.Tagger{Client: c, Name: env.Bucket}, LookupKeys: env.LookupKeys(), Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	until := now.Add(48 * time.Hour)
	byEmail, byID := hold.Selector{Email: "hold.files@example.no"}, hold.Selector{SubmissionID: s.ID}
	for _, sel := range []hold.Selector{byEmail, byID} {
		if _, err := svc.Place(ctx(t), sel, "Tvist", until); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := tag(s.Files[0].Key), tag(s.Files[1].Key); a != bucket.TagHeld || b != bucket.TagHeld {
		t.Fatalf("after hold: %q %q", a, b)
	}
	cf, err := holds.CopyFiles(ctx(t), s.ID)
	if err != nil || !cf.Held || len(cf.Keys) != 2 || cf.RetentionDays != 30 {
		t.Fatalf("CopyFiles while held = %+v, %v", cf, err)
	}
	if _, err := svc.Release(ctx(t), byEmail); err != nil {
		t.Fatal(err)
	}
	if got := tag(s.Files[0].Key); got != bucket.TagHeld {
		t.Fatalf("released under another hold: %q", got)
	}
	if _, err := svc.Release(ctx(t), byID); err != nil {
		t.Fatal(err)
	}
	if a, b := tag(s.Files[0].Key), tag(s.Files[1].Key); a != "30" || b != "30" {
		t.Errorf("after the last release the files' retention tags are %q %q, want 30", a, b)
	}
	if cf, err := holds.CopyFiles(ctx(t), "nosuchcopy0000000000000000"); err != nil || len(cf.Keys) != 0 {
		t.Errorf("a copy that is gone: %+v %v", cf, err)
	}
}
