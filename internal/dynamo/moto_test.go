package dynamo_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/disclosurestore"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

// Holds, the erasure finder and disclosure reads against moto, which
// enforces DynamoDB's expression rules (every name and value used, no
// overlapping paths, set and map updates) where dynalite lets more through.
func TestHoldsAndDisclosureOnMoto(t *testing.T) {
	ctx := localstack.TestContext(t, 2*time.Minute)
	m, err := localstack.StartMoto(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := samtemplate.TableInput(tpl, "SubmissionsTable")
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	table := aws.ToString(in.TableName)
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	store := &dynamo.Store{Client: db, Table: table, LookupKeys: keys}
	now := time.Now().UTC().Truncate(time.Second)
	var ids []string
	for _, form := range []string{"contact", "quote"} {
		s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "kari@example.no",
			Fields: []submission.Field{{Name: "message", Value: "hei"}}}
		if err := store.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	// A copy stored before lookup keys were keyed: a hold by address
	// covers it too.
	legacy := &submission.Submission{ID: submission.NewID(), FormID: "job", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "kari@example.no",
		Fields: []submission.Field{{Name: "message", Value: "hei"}}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: dynamo.Item(legacy, submission.LegacyLookupKey("kari@example.no"))}); err != nil {
		t.Fatal(err)
	}

	holds := &hold.Service{Store: &holdstore.Store{Client: db, Table: table}, LookupKeys: keys, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	until, _ := hold.ParseUntil(now.AddDate(0, 1, 0).Format(time.DateOnly))
	if _, err := holds.Place(ctx, hold.Selector{Email: "kari@example.no"}, "Tvist", until); err != nil {
		t.Fatal(err)
	}
	if _, err := holds.Place(ctx, hold.Selector{SubmissionID: ids[0]}, "Politiet", until.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	found, err := (&erasurestore.Store{Client: db, Table: table}).FindByLookupKey(ctx, keys.Key("kari@example.no"))
	if err != nil || len(found) != 2 {
		t.Fatalf("found %+v, %v", found, err)
	}
	for _, c := range found {
		if c.HeldUntil.IsZero() {
			t.Errorf("copy %s not seen as held: %+v", c.ID, c)
		}
	}
	if c, _ := store.Get(ctx, legacy.ID); c == nil || c.HeldUntil.IsZero() {
		t.Errorf("the copy under the plain hash is not held: %+v", c)
	}

	dis := &disclosurestore.Store{Client: db, Table: table}
	x := &disclosure.Exporter{Reader: dis, Receipts: dis, LookupKeys: keys, Retention: time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	var buf bytes.Buffer
	r, err := x.Export(ctx, disclosure.ExportSelector{FormID: "quote", From: now.AddDate(0, 0, -1), To: now}, "Tvist", "tester", &buf)
	if err != nil || r.Count != 1 {
		t.Fatalf("export by form = %+v, %v", r, err)
	}
	var f disclosure.File
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil || len(f.Copies) != 1 || f.Copies[0].ID != ids[1] || f.Copies[0].HeldUntil == nil {
		t.Errorf("export file %+v, %v", f, err)
	}

	if _, err := holds.Release(ctx, hold.Selector{Email: "kari@example.no"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := store.Get(ctx, ids[1]); c == nil || c.Submission.ExpiresAt.IsZero() || !c.HeldUntil.IsZero() {
		t.Errorf("after release the copy held by address only: %+v", c)
	}
	if c, _ := store.Get(ctx, legacy.ID); c == nil || c.Submission.ExpiresAt.IsZero() || !c.HeldUntil.IsZero() {
		t.Errorf("after release the copy under the plain hash: %+v", c)
	}
	if c, _ := store.Get(ctx, ids[0]); c == nil || !c.Submission.ExpiresAt.IsZero() || !c.HeldUntil.Equal(until.AddDate(0, 1, 0)) {
		t.Errorf("after release the copy still held by id: %+v", c)
	}
	later := &hold.Service{Store: holds.Store, Now: func() time.Time { return until.AddDate(0, 2, 1) }, Log: holds.Log}
	if n, err := later.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v", n, err)
	}
	if c, _ := store.Get(ctx, ids[0]); c == nil || !c.Submission.ExpiresAt.Equal(now.Add(time.Hour)) || !c.HeldUntil.IsZero() {
		t.Errorf("after its hold ended the copy has not its expiry back: %+v", c)
	}
}
