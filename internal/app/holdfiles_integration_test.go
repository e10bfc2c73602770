package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

// recordedTags is a hold.Files that records each key's tag: the harness
// has no S3 with object tagging yet (bucket.Tagger's calls are unit-tested).
type recordedTags map[string]string

func (r recordedTags) HoldFiles(_ context.Context, keys []string) error {
	for _, k := range keys {
		r[k] = "held"
	}
	return nil
}
func (r recordedTags) ReleaseFiles(_ context.Context, keys []string, days int) error {
	for _, k := range keys {
		r[k] = strings.Repeat("x", days) // the length is the days
	}
	return nil
}

// Against DynamoDB: a hold holds a copy's files, a release gives them the
// copy's own retention back, read from the copy as the submit function
// stored it (30 days here), and only when no other hold covers it.
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
	holds := &holdstore.Store{Client: db, Table: env.Table}
	tags := recordedTags{}
	svc := &hold.Service{Store: holds, FileStore: holds, Files: tags, LookupKeys: env.LookupKeys(), Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	until := now.Add(48 * time.Hour)
	byEmail, byID := hold.Selector{Email: "hold.files@example.no"}, hold.Selector{SubmissionID: s.ID}
	for _, sel := range []hold.Selector{byEmail, byID} {
		if _, err := svc.Place(ctx(t), sel, "Tvist", until); err != nil {
			t.Fatal(err)
		}
	}
	if tags[s.Files[0].Key] != "held" || tags[s.Files[1].Key] != "held" {
		t.Fatalf("after hold: %v", tags)
	}
	cf, err := holds.CopyFiles(ctx(t), s.ID)
	if err != nil || !cf.Held || len(cf.Keys) != 2 || cf.RetentionDays != 30 {
		t.Fatalf("CopyFiles while held = %+v, %v", cf, err)
	}
	if _, err := svc.Release(ctx(t), byEmail); err != nil {
		t.Fatal(err)
	}
	if tags[s.Files[0].Key] != "held" {
		t.Fatalf("released under another hold: %v", tags)
	}
	if _, err := svc.Release(ctx(t), byID); err != nil {
		t.Fatal(err)
	}
	if got := len(tags[s.Files[0].Key]); got != 30 || len(tags[s.Files[1].Key]) != 30 {
		t.Errorf("after the last release the files' retention is %d days, want 30", got)
	}
	if cf, err := holds.CopyFiles(ctx(t), "nosuchcopy0000000000000000"); err != nil || len(cf.Keys) != 0 {
		t.Errorf("a copy that is gone: %+v %v", cf, err)
	}
}
