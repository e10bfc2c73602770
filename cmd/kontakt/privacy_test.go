package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/disclosurestore"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/submission"
)

func saveLocal(t *testing.T, form, addr, message string) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: addr,
		Fields: []submission.Field{{Name: "message", Value: message}}}
	keys, err := submission.NewLookupKeys(local.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&dynamo.Store{Client: dynamodb.NewFromConfig(local.AWS), Table: local.Table, LookupKeys: keys}).Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// saveLegacy stores a copy as it was stored before lookup keys were keyed:
// under the plain hash of its address.
func saveLegacy(t *testing.T, form, addr, message string) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: addr,
		Fields: []submission.Field{{Name: "message", Value: message}}}
	if _, err := dynamodb.NewFromConfig(local.AWS).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(local.Table), Item: dynamo.Item(s, submission.LegacyLookupKey(addr))}); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func item(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(local.AWS).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(local.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// kontakt hold and release against make dev: bad input is refused with
// nothing changed; a held copy has no expires_at until it is released.
func TestHoldReleaseLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	id := saveLocal(t, "contact", "tone@example.no", "hei")
	old := saveLegacy(t, "contact", "tone@example.no", "gammel")
	next := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"hold", "--id", "nosuchcopy", "--reason", "r", "--until", next}, 1, "no stored submission has that id"},
		{[]string{"hold", "--id", id, "--reason", "r", "--until", "2020-01-01"}, 2, "today or later"},
		{[]string{"hold", "--id", id, "--reason", "r", "--until", "30.06.2027"}, 2, "a date like"},
		{[]string{"hold", "--id", id, "--until", next}, 2, "a reason is required"},
		{[]string{"hold", "--reason", "r", "--until", next}, 2, "exactly one of --email and --id"},
		{[]string{"release", "--id", id}, 1, "no legal hold"},
	} {
		code, out, errOut := kontakt(t, append(tc.args, "--local", "--dev-dir", dir)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("kontakt %q: exit %d (want %d)\n%s%s", tc.args, code, tc.code, out, errOut)
		}
	}
	if it := item(t, id); it[dynamo.TTLAttribute] == nil || it[dynamo.AttrHoldIDs] != nil {
		t.Fatal("a refused hold changed the copy")
	}
	code, out, errOut := kontakt(t, "hold", "--local", "--dev-dir", dir, "--email", "tone@example.no", "--reason", "Politiets begjæring", "--until", next)
	if code != 0 || !strings.Contains(out, "held 2 stored copies through "+next) {
		t.Fatalf("hold: exit %d\n%s%s", code, out, errOut)
	}
	if it := item(t, id); it[dynamo.TTLAttribute] != nil {
		t.Fatal("the held copy still has expires_at")
	}
	if it := item(t, old); it[dynamo.TTLAttribute] != nil {
		t.Fatal("the copy under the plain hash is not held")
	}
	code, out, errOut = kontakt(t, "release", "--local", "--dev-dir", dir, "--email", "tone@example.no")
	if code != 0 || !strings.Contains(out, "released hold") {
		t.Fatalf("release: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []string{id, old} {
		if it := item(t, c); it[dynamo.TTLAttribute] == nil {
			t.Fatalf("the released copy %s has no expires_at", c)
		}
	}
}

// A copy with files on a stack that names no files bucket (one deployed
// before files, or an old .dev/stack.json) is not held, and the command
// says which setting is missing.
func TestHoldWithoutFilesBucketLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: "contact", ReceivedAt: now, ExpiresAt: now.Add(time.Hour), ReplyTo: "filer@example.no",
		Fields: []submission.Field{{Name: "message", Value: "vedlagt"}}}
	s.Files = []submission.File{{Name: "a.pdf", Type: "application/pdf", Size: 8, Key: submission.FileKey(s.ID, 0)}}
	keys, err := submission.NewLookupKeys(local.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&dynamo.Store{Client: dynamodb.NewFromConfig(local.AWS), Table: local.Table, LookupKeys: keys}).Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kontakt(t, "hold", "--local", "--dev-dir", dir, "--id", s.ID, "--reason", "Tvist", "--until", time.Now().AddDate(0, 1, 0).Format(time.DateOnly))
	if code != 1 || !strings.Contains(errOut, "files_bucket in .dev/stack.json") {
		t.Errorf("exit %d, want 1 naming the missing files bucket\n%s%s", code, out, errOut)
	}
	if it := item(t, s.ID); it[dynamo.TTLAttribute] == nil || it[dynamo.AttrHoldIDs] != nil {
		t.Error("the copy was held although its files could not be")
	}
}

// A copy an erasure has just claimed is not held, and the command fails
// saying so rather than counting it; once the claim is stale (its erasure
// failed), holding again keeps it.
func TestHoldOfACopyBeingErasedLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	id := saveLocal(t, "contact", "slettes@example.no", "hei")
	es := &erasurestore.Store{Client: dynamodb.NewFromConfig(local.AWS), Table: local.Table}
	if c, err := es.ClaimCopy(context.Background(), id, "op-being-erased"); err != nil || !c.Claimed() {
		t.Fatalf("claim: %+v %v", c, err)
	}
	hold := []string{"hold", "--local", "--dev-dir", dir, "--id", id, "--reason", "Tvist", "--until", time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}
	code, out, errOut := kontakt(t, hold...)
	if code != 1 || !strings.Contains(out, "held 0 stored copies") || !strings.Contains(errOut, "1 of the 1 copies could not be held") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if it := item(t, id); it[dynamo.TTLAttribute] == nil || it[dynamo.AttrHoldIDs] != nil {
		t.Error("a copy being erased was held")
	}
	// The erasure failed long ago: its claim is stale.
	es.Now = func() time.Time { return time.Now().Add(-dynamo.ClaimLifetime - time.Minute) }
	if c, err := es.ClaimCopy(context.Background(), id, "op-being-erased"); err != nil || !c.Claimed() {
		t.Fatalf("claim: %+v %v", c, err)
	}
	if code, out, errOut := kontakt(t, hold...); code != 0 || !strings.Contains(out, "held 1 stored copies") {
		t.Errorf("after the claim went stale: exit %d\n%s%s", code, out, errOut)
	}
	if it := item(t, id); it[dynamo.TTLAttribute] != nil || it[dynamo.AttrErasingRequest] != nil {
		t.Errorf("held copy %v: want no expires_at and the stale claim gone", it)
	}
}

// kontakt export against make dev: no reason, no export; with one, a JSON
// file with the person's copies and a receipt saying who, when, why and how
// many, without the address or any content. A form's copies come by date.
func TestExportLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	a := saveLocal(t, "contact", "jon@example.no", "Første melding")
	b := saveLegacy(t, "export-form", "jon@example.no", "Andre melding")
	out := filepath.Join(t.TempDir(), "jon.json")

	code, _, errOut := kontakt(t, "export", "--local", "--dev-dir", dir, "--email", "jon@example.no", "--output", out)
	if code != 2 || !strings.Contains(errOut, "a reason is required") {
		t.Errorf("no reason: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an export without a reason wrote a file")
	}
	code, stdout, errOut := kontakt(t, "export", "--local", "--dev-dir", dir, "--email", "jon@example.no", "--reason", "Tvist, sak 2026-17", "--output", out)
	if code != 0 || !strings.Contains(stdout, "exported 2 stored copies") {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, errOut)
	}
	var f disclosure.File
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Count != 2 || len(f.Copies) != 2 || f.Reason != "Tvist, sak 2026-17" || !strings.HasPrefix(f.ExportedBy, "local") || f.ReceiptID == "" {
		t.Errorf("export file: %s", data)
	}
	got := map[string]string{}
	for _, c := range f.Copies {
		got[c.ID] = c.Fields[0].Value
	}
	if got[a] != "Første melding" || got[b] != "Andre melding" {
		t.Errorf("copies exported: %v", got)
	}
	rec, err := (&disclosurestore.Store{Client: dynamodb.NewFromConfig(local.AWS), Table: local.Table}).GetDisclosureReceipt(context.Background(), dynamo.ExportReceiptPrefix, f.ReceiptID)
	if err != nil || rec == nil || rec.Count != 2 || rec.Reason != "Tvist, sak 2026-17" || rec.Selector != "email" || rec.By != f.ExportedBy || rec.At.IsZero() {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}
	raw, _ := json.Marshal(item(t, dynamo.ExportReceiptPrefix+f.ReceiptID))
	if strings.Contains(string(raw), "jon@") || strings.Contains(string(raw), "melding") {
		t.Errorf("the receipt holds personal data: %s", raw)
	}
	if strings.Contains(errOut, "jon@") || strings.Contains(errOut, "melding") {
		t.Errorf("the log holds personal data: %s", errOut)
	}
	// The file is never overwritten.
	if code, _, errOut := kontakt(t, "export", "--local", "--dev-dir", dir, "--id", a, "--reason", "x", "--output", out); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("overwrite: exit %d %s", code, errOut)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	byForm := filepath.Join(t.TempDir(), "form.json")
	code, stdout, errOut = kontakt(t, "export", "--local", "--dev-dir", dir, "--form", "export-form", "--from", today, "--to", today, "--reason", "Revisjon", "--output", byForm)
	if code != 0 || !strings.Contains(stdout, "exported 1 stored copies") {
		t.Fatalf("export by form: exit %d\n%s%s", code, stdout, errOut)
	}
	if code, _, errOut := kontakt(t, "export", "--local", "--dev-dir", dir, "--form", "export-form", "--from", today, "--reason", "x", "--output", byForm+"2"); code != 2 {
		t.Errorf("form without --to: exit %d %s", code, errOut)
	}
	if code, _, errOut := kontakt(t, "export", "--local", "--dev-dir", dir, "--id", "nosuchcopy", "--reason", "x", "--output", byForm+"3"); code != 1 || !strings.Contains(errOut, "no stored submission") {
		t.Errorf("unknown id: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(byForm + "3"); err == nil {
		t.Error("a failed export left a file")
	}
}
