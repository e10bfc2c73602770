package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/submission"
)

// kari@bølgen.no is emailed with the punycode Reply-To SES needs, and an
// erasure asked for in either spelling finds every copy: the ones stored
// now under the normalised key, and one stored before the conversion under
// the Unicode spelling's key.
func TestInternationalisedAddressIsSentAndErased(t *testing.T) {
	integration(t)
	if err := env.ClearEmails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	h := submitHandler(t, testConfig(t), env.AWS, slog.New(slog.DiscardHandler))
	post := func(email, message string) string {
		t.Helper()
		body := url.Values{"email": {email}, "message": {message}}.Encode()
		resp, err := h.Handle(ctx(t), formPost("contact", "192.0.2.80", body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post %q: %d %v: %s", email, resp.StatusCode, err, resp.Body)
		}
		return resp.Body
	}
	post("kari@bølgen.no", "Første melding")
	post("Kari@Bølgen.NO", "Andre melding")
	post("ola@bølgen.no", "Olas melding")

	emails, err := env.Emails(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var kari []string
	for _, e := range emails {
		if strings.Contains(e.Body.Text, "melding") && !strings.Contains(e.Body.Text, "Olas melding") {
			kari = append(kari, submissionID(e.Body.Text))
		}
	}
	t.Run("Reply-To", func(t *testing.T) {
		testenv.SkipOnMoto(t)
		for _, e := range emails {
			replyTo := strings.Join(e.ReplyTo, ",")
			switch {
			case strings.Contains(e.Body.Text, "Olas melding"):
				if replyTo != "ola@xn--blgen-vua.no" {
					t.Errorf("Reply-To %q", replyTo)
				}
			case strings.Contains(e.Body.Text, "melding"):
				if !strings.EqualFold(replyTo, "kari@xn--blgen-vua.no") {
					t.Errorf("Reply-To %q, want the punycode domain", replyTo)
				}
			}
		}
	})
	if len(kari) != 2 {
		t.Fatalf("%d emails for kari, want 2 (of %d)", len(kari), len(emails))
	}

	// A copy stored before addresses were converted: keyed by the address
	// as typed, lower-cased.
	db := dynamodb.NewFromConfig(env.AWS)
	store := &dynamo.Store{Client: db, Table: env.Table, LookupKeys: env.LookupKeys()}
	now := time.Now().UTC()
	old := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "kari@bølgen.no",
		Fields: []submission.Field{{Name: "message", Value: "Gammel melding"}}}
	if err := store.Save(ctx(t), old); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("kari@bølgen.no"))
	if _, err := db.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{
		TableName: aws.String(env.Table), Key: dynamo.Key(old.ID),
		UpdateExpression:          aws.String("SET #k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": dynamo.AttrLookupKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: hex.EncodeToString(sum[:])}},
	}); err != nil {
		t.Fatal(err)
	}
	kari = append(kari, old.ID)
	ola := func() string {
		for _, e := range emails {
			if strings.Contains(e.Body.Text, "Olas melding") {
				return submissionID(e.Body.Text)
			}
		}
		return ""
	}()

	q := env.TestQueues(ctx(t), t, "-idn")
	var logs bytes.Buffer
	p := poller(t, q, &logs)
	enqueue(t, q, `{"email":"kari@xn--blgen-vua.no","request_id":"op-idn-1","source":"operator"}`)
	if res, err := p.Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	for _, id := range kari {
		if getRaw(t, id) {
			t.Errorf("copy %s is still stored after erasure by the punycode spelling", id)
		}
	}
	if ola == "" || !getRaw(t, ola) {
		t.Error("another person's copy on the same domain was erased")
	}
	rec, err := (&erasurestore.Store{Client: db, Table: env.Table}).GetReceipt(ctx(t), "op-idn-1")
	if err != nil || rec == nil || rec.Count != 3 {
		t.Fatalf("receipt = %+v, %v; want 3 copies", rec, err)
	}

	// The other spelling finds the same copies.
	post("kari@xn--blgen-vua.no", "Tredje melding")
	emails, _ = env.Emails(ctx(t))
	var third string
	for _, e := range emails {
		if strings.Contains(e.Body.Text, "Tredje melding") {
			third = submissionID(e.Body.Text)
		}
	}
	enqueue(t, q, `{"email":"Kari@Bølgen.no","request_id":"op-idn-2","source":"operator"}`)
	if res, err := p.Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	if third == "" || getRaw(t, third) {
		t.Errorf("copy %q is still stored after erasure by the Unicode spelling", third)
	}
}
