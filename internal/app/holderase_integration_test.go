package app_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/hold"
)

// thenHold is an erasure.Finder that, once the copies are found, places a
// legal hold on one of them: an operator's `kontakt hold` landing between
// erasure's query and its deletes.
type thenHold struct {
	erasure.Finder
	place func()
}

func (f thenHold) FindByLookupKey(ctx context.Context, key string) ([]erasure.Copy, error) {
	copies, err := f.Finder.FindByLookupKey(ctx, key)
	f.place()
	return copies, err
}

// Against DynamoDB, a hold and an erasure that meet on one copy: a hold
// placed after erasure found the copies keeps its copy (the erasure's
// claim is refused, and the receipt counts it as held); a copy an erasure
// has claimed is not held (its files may be gone already), and its TTL
// stays.
func TestHoldAndErasureMeetOnACopy(t *testing.T) {
	integration(t)
	var claimedFirstID string
	db := dynamodb.NewFromConfig(env.AWS)
	const person = "hold.meets.erasure@example.no"
	kept, erased := saveCopy(t, "contact", person, "x"), saveCopy(t, "contact", person, "y")

	holds := &holdstore.Store{Client: db, Table: env.Table}
	hsvc := &hold.Service{Store: holds, FileStore: holds, LookupKeys: env.LookupKeys(), Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	until := time.Now().UTC().Add(72 * time.Hour)
	t.Cleanup(func() {
		// Holds left behind would stay in the shared hold registry.
		for _, id := range []string{kept.ID, claimedFirstID} {
			hsvc.Release(context.Background(), hold.Selector{SubmissionID: id})
		}
	})
	es := &erasurestore.Store{Client: db, Table: env.Table}
	svc := &erasure.Service{
		Finder: thenHold{es, func() {
			if _, err := hsvc.Place(ctx(t), hold.Selector{SubmissionID: kept.ID}, "Tvist", until); err != nil {
				t.Fatal(err)
			}
		}},
		Deleter: es, Receipts: es, LookupKeys: env.LookupKeys(),
		Notifier:  &erasuremail.Notifier{Client: sesapi.NewFromConfig(env.AWS), Sender: testenv.Sender, Contact: "personvern@example.no"},
		Retention: time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler),
	}
	r, err := svc.Erase(ctx(t), erasure.Request{Email: person, RequestID: "op-meet-1", Source: erasure.SourceOperator})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 1 || r.Held != 1 || r.HeldUntil.IsZero() {
		t.Errorf("receipt = %+v, want one erased and one held", r)
	}
	if ok, err := holds.CopyExists(ctx(t), kept.ID); err != nil || !ok {
		t.Errorf("the copy held after erasure found it was erased (%v)", err)
	}
	if ok, err := holds.CopyExists(ctx(t), erased.ID); err != nil || ok {
		t.Errorf("the other copy is still stored (%v)", err)
	}

	// The other way round: claimed first, the hold does not take.
	claimed := saveCopy(t, "contact", "claimed.first@example.no", "z")
	claimedFirstID = claimed.ID
	if c, err := es.ClaimCopy(ctx(t), claimed.ID, "op-meet-2"); err != nil || !c.Claimed() {
		t.Fatalf("claim = %+v, %v", c, err)
	}
	if _, err := hsvc.Place(ctx(t), hold.Selector{SubmissionID: claimed.ID}, "Tvist", until); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(env.Table), Key: dynamo.Key(claimed.ID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item[dynamo.AttrHeldUntil] != nil || out.Item[dynamo.TTLAttribute] == nil {
		t.Errorf("a copy erasure had claimed was held: %v", out.Item)
	}
	// A claim on a held copy is refused with the hold's end; on a copy
	// that is gone, says so.
	if c, err := es.ClaimCopy(ctx(t), kept.ID, "op-meet-3"); err != nil || c.Claimed() || c.HeldUntil.IsZero() {
		t.Errorf("claim of the held copy = %+v, %v", c, err)
	}
	if c, err := es.ClaimCopy(ctx(t), erased.ID, "op-meet-3"); err != nil || !c.Gone {
		t.Errorf("claim of an erased copy = %+v, %v", c, err)
	}
}

// claimBetween is holdstore's DynamoDB client with an erasure's claim made
// between HoldCopy's read of the copy and its write: only the write's
// condition can then keep the hold off.
type claimBetween struct {
	holdstore.API
	claim func()
}

func (c *claimBetween) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if c.claim != nil {
		c.claim()
		c.claim = nil
	}
	return c.API.UpdateItem(ctx, in, opts...)
}

// A claim that lands after HoldCopy has read the copy still wins: the
// hold's write is conditional on no fresh claim.
func TestHoldCopyLosesToAClaimMadeMeanwhile(t *testing.T) {
	integration(t)
	db := dynamodb.NewFromConfig(env.AWS)
	c := saveCopy(t, "contact", "claim.between@example.no", "x")
	es := &erasurestore.Store{Client: db, Table: env.Table}
	client := &claimBetween{API: db, claim: func() {
		if cl, err := es.ClaimCopy(ctx(t), c.ID, "op-between-1"); err != nil || !cl.Claimed() {
			t.Fatalf("claim: %+v %v", cl, err)
		}
	}}
	held, err := (&holdstore.Store{Client: client, Table: env.Table}).HoldCopy(ctx(t), c.ID, "id:"+c.ID, time.Now().Add(time.Hour))
	if err != nil || held {
		t.Fatalf("HoldCopy = %v, %v; want not held", held, err)
	}
	out, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(env.Table), Key: dynamo.Key(c.ID), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item[dynamo.AttrHoldIDs] != nil || out.Item[dynamo.TTLAttribute] == nil {
		t.Errorf("copy %v (%v): want unheld, with its expiry", out.Item, err)
	}
}
