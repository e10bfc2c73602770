package dynamo_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/submission"
)

func attr(t *testing.T, item map[string]types.AttributeValue, name string) string {
	t.Helper()
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case nil:
		return ""
	}
	t.Fatalf("%s has type %T", name, item[name])
	return ""
}

// A new copy is pending: it carries the sparse index's key and the time the
// re-sender may first touch it, and every value reads back as written.
func TestItemIsPendingAndReadsBack(t *testing.T) {
	received := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	s := &submission.Submission{
		ID: "abc", FormID: "contact", ReceivedAt: received, ExpiresAt: received.Add(30 * 24 * time.Hour),
		Fields:  []submission.Field{{Name: "name", Value: "Kari"}, {Name: "message", Value: "Hei!\nHilsen"}},
		ReplyTo: "kari@example.no", Subject: "Tilbud", Language: "nb",
		Consents: []submission.Consent{
			{Purpose: "optional_details", Field: "consent", Value: "on", Given: true, PolicyVersion: "2026-01", At: received.Add(time.Second)},
			{Purpose: "marketing", Field: "marketing", Value: "", Given: false, PolicyVersion: "2026-01", At: received.Add(time.Second)},
		},
	}
	item := dynamo.Item(s, "lookup-key-of-kari")
	for name, want := range map[string]string{
		dynamo.AttrID: "abc", dynamo.AttrKind: dynamo.KindSubmission, dynamo.AttrFormID: "contact",
		dynamo.AttrReceivedAt: "1795626000", dynamo.TTLAttribute: "1798218000",
		dynamo.AttrStatus: dynamo.StatusPending, dynamo.AttrAttempts: "1",
		dynamo.AttrPending: "p", dynamo.AttrNextAttemptAt: "1795626120", // received + FirstRetryDelay
		dynamo.AttrReplyTo: "kari@example.no", dynamo.AttrLookupKey: "lookup-key-of-kari",
		dynamo.AttrSubject: "Tilbud", dynamo.AttrLanguage: "nb", dynamo.AttrSentAt: "", dynamo.AttrLastError: "",
	} {
		if got := attr(t, item, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	c := dynamo.Decode(item)
	got := c.Submission
	if got.ID != s.ID || !got.ReceivedAt.Equal(s.ReceivedAt) || !got.ExpiresAt.Equal(s.ExpiresAt) || got.ReplyTo != s.ReplyTo ||
		got.Subject != s.Subject || got.Language != s.Language || len(got.Fields) != 2 || got.Fields[1] != s.Fields[1] {
		t.Errorf("read back %+v, want %+v", got, *s)
	}
	if !reflect.DeepEqual(got.Consents, s.Consents) {
		t.Errorf("consents read back %+v, want %+v", got.Consents, s.Consents)
	}
	if c.Status != dynamo.StatusPending || c.Attempts != 1 {
		t.Errorf("status %q, attempts %d", c.Status, c.Attempts)
	}
}

// Without a reply address there is nothing to find for erasure, and
// optional attributes are left out rather than stored empty.
func TestItemLeavesOutWhatIsMissing(t *testing.T) {
	item := dynamo.Item(&submission.Submission{ID: "x", FormID: "contact", Fields: []submission.Field{{Name: "message", Value: "hi"}}}, "")
	for _, name := range []string{dynamo.AttrReplyTo, dynamo.AttrLookupKey, dynamo.AttrSubject, dynamo.AttrLanguage, dynamo.AttrConsent, dynamo.AttrConsents} {
		if _, ok := item[name]; ok {
			t.Errorf("%s present", name)
		}
	}
}

// Copies stored before consents by purpose carry one consent map; it reads
// back as the optional_details consent. A held copy (no expires_at) never
// looks expired.
func TestDecodeLegacyConsentAndHeldCopy(t *testing.T) {
	item := dynamo.Item(&submission.Submission{ID: "old", FormID: "contact", ReceivedAt: time.Unix(100, 0), ExpiresAt: time.Unix(200, 0)}, "")
	item[dynamo.AttrConsent] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"field": &types.AttributeValueMemberS{Value: "consent"}, "value": &types.AttributeValueMemberS{Value: "on"},
		"given": &types.AttributeValueMemberBOOL{Value: true}, "policy_version": &types.AttributeValueMemberS{Value: "v1"},
		"at": &types.AttributeValueMemberN{Value: "100"},
	}}
	c := dynamo.Decode(item)
	if got := c.Submission.Consents; len(got) != 1 || got[0].Purpose != "optional_details" || !got[0].Given || got[0].Field != "consent" {
		t.Errorf("legacy consent read back as %+v", got)
	}
	if !c.Expired(time.Unix(300, 0)) {
		t.Error("a copy past its TTL does not look expired")
	}
	delete(item, dynamo.TTLAttribute)
	item[dynamo.AttrHeldUntil] = &types.AttributeValueMemberN{Value: "400"}
	c = dynamo.Decode(item)
	if c.Expired(time.Unix(300, 0)) || !c.Submission.ExpiresAt.IsZero() || c.HeldUntil.Unix() != 400 {
		t.Errorf("held copy: expired %v, expires %v, held until %v", c.Expired(time.Unix(300, 0)), c.Submission.ExpiresAt, c.HeldUntil)
	}
}

// A held copy (over the form's ceiling) waits in the held partition of the
// pending index, due at once, with no attempt made and its reason said.
func TestHeldItem(t *testing.T) {
	received := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	s := &submission.Submission{ID: "h1", FormID: "contact", ReceivedAt: received, ExpiresAt: received.Add(time.Hour),
		Fields: []submission.Field{{Name: "message", Value: "hi"}}, Held: true}
	item := dynamo.Item(s, "")
	for name, want := range map[string]string{
		dynamo.AttrStatus: dynamo.StatusPending, dynamo.AttrPending: "h", dynamo.AttrNextAttemptAt: "1795626000",
		dynamo.AttrAttempts: "0", dynamo.AttrReason: dynamo.ReasonHeld,
	} {
		if got := attr(t, item, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if c := dynamo.Decode(item); c.Reason != dynamo.ReasonHeld || c.Attempts != 0 {
		t.Errorf("read back reason %q attempts %d", c.Reason, c.Attempts)
	}
	if _, ok := dynamo.Item(&submission.Submission{ID: "x"}, "")[dynamo.AttrReason]; ok {
		t.Error("a copy that was not held has a reason")
	}
}

// putOnly is a DynamoDB client that records PutItem.
type putOnly struct {
	dynamo.API
	items []map[string]types.AttributeValue
}

func (p *putOnly) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	p.items = append(p.items, in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

// Save indexes a copy under the keyed lookup key, never the address's plain
// hash; without lookup keys it refuses to store a copy that erasure could
// never find.
func TestSaveKeysTheLookupKey(t *testing.T) {
	keys, err := submission.NewLookupKeys(strings.Repeat("k", 64))
	if err != nil {
		t.Fatal(err)
	}
	client := &putOnly{}
	s := &submission.Submission{ID: "x", FormID: "contact", ReplyTo: "Kari@Example.no"}
	if err := (&dynamo.Store{Client: client, Table: "t", LookupKeys: keys}).Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got, want := attr(t, client.items[0], dynamo.AttrLookupKey), keys.Key("kari@example.no"); got != want || got == submission.LegacyLookupKey("kari@example.no") {
		t.Errorf("lookup_key = %q, want %q", got, want)
	}
	if err := (&dynamo.Store{Client: client, Table: "t"}).Save(context.Background(), s); err == nil || len(client.items) != 1 {
		t.Errorf("Save without lookup keys: %v, %d items written", err, len(client.items))
	}
	// Without a reply address there is nothing to key.
	if err := (&dynamo.Store{Client: client, Table: "t"}).Save(context.Background(), &submission.Submission{ID: "y"}); err != nil {
		t.Errorf("Save without a reply address: %v", err)
	}
}

func TestItemListsFilesWithoutTheirBytes(t *testing.T) {
	s := &submission.Submission{ID: "id", FormID: "contact", ReceivedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0),
		Files: []submission.File{{Field: "cv", Name: "cv.pdf", Type: "application/pdf", Size: 123456789, Key: "files/id/0", Token: "tok", Data: []byte("%PDF")}}}
	item := dynamo.Item(s, "")
	if _, ok := item[dynamo.AttrFiles].(*types.AttributeValueMemberL); !ok {
		t.Fatalf("files attribute %T", item[dynamo.AttrFiles])
	}
	got := dynamo.Decode(item).Submission.Files
	want := s.Files[0]
	want.Data = nil
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("files read back %+v, want %+v", got, want)
	}
	if _, ok := dynamo.Item(&submission.Submission{ID: "x"}, "")[dynamo.AttrFiles]; ok {
		t.Error("a copy without files has a files attribute")
	}
}
