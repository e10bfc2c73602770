package app_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/localstack"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/disclosurestore"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/submission"
)

var accessLink = regexp.MustCompile(`http://127\.0\.0\.1:3000/privacy/confirm\?token=(\S+)`)

func saveCopy(t *testing.T, form, addr, message string) *submission.Submission {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), ReplyTo: addr,
		Fields:   []submission.Field{{Name: "message", Value: message}},
		Consents: []submission.Consent{{Purpose: config.PurposeMarketing, Field: "marketing", Value: "on", Given: true, PolicyVersion: "2026-03", At: now}}}
	if err := (&dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table, LookupKeys: env.LookupKeys()}).Save(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// saveLegacyCopy stores a copy as it was stored before lookup keys were
// keyed: under the plain hash of its address.
func saveLegacyCopy(t *testing.T, form, addr, message string) *submission.Submission {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	s := &submission.Submission{ID: submission.NewID(), FormID: form, ReceivedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), ReplyTo: addr,
		Fields: []submission.Field{{Name: "message", Value: message}}}
	if _, err := dynamodb.NewFromConfig(env.AWS).PutItem(ctx(t), &dynamodb.PutItemInput{
		TableName: aws.String(env.Table), Item: dynamo.Item(s, submission.LegacyLookupKey(addr))}); err != nil {
		t.Fatal(err)
	}
	return s
}

func rawItem(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(env.AWS).GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String(env.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func emailsTo(t *testing.T, addr string) []localstack.Email {
	t.Helper()
	all, err := env.Emails(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []localstack.Email
	for _, e := range all {
		if strings.Join(e.Destination.To, ",") == addr {
			out = append(out, e)
		}
	}
	return out
}

// A person who wrote twice asks what is stored, follows the link, presses
// the button, and gets one email at that address listing both copies as
// stored, with the consent evidence and what is never stored. An address
// with nothing stored gets the same pages; a receipt without the address
// is kept.
func TestSelfServiceAccess(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-access")
	var logs bytes.Buffer
	h := privacyHandler(t, q, &logs)
	first := saveCopy(t, "contact", "siri@example.no", "Første melding fra Siri")
	// Stored before lookup keys were keyed: found all the same.
	second := saveLegacyCopy(t, "quote", "Siri@Example.no", "Andre melding fra Siri")
	other := saveCopy(t, "contact", "per@example.no", "Per sin melding")
	env.ClearEmails(ctx(t))

	askForBoth(t, h, "/privacy", "action=access&email=", "siri@example.no")
	follow := func(addr string) string {
		t.Helper()
		var token string
		for _, e := range emailsTo(t, addr) {
			if m := accessLink.FindStringSubmatch(e.Body.Text); m != nil {
				token = m[1]
			}
		}
		if token == "" {
			t.Fatalf("no access link emailed to %s", addr)
		}
		page, _ := h.Handle(ctx(t), pageRequest("GET", "/privacy/confirm", "", map[string]string{"token": token}))
		if page.StatusCode != 200 || !strings.Contains(page.Body, "Send meg kopien") {
			t.Fatalf("confirm page: %d %s", page.StatusCode, page.Body)
		}
		resp, _ := h.Handle(ctx(t), pageRequest("POST", "/privacy/confirm", "token="+url.QueryEscape(token), nil))
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, "Kopien er sendt") {
			t.Fatalf("confirm: %d %s", resp.StatusCode, resp.Body)
		}
		// Single use.
		again, _ := h.Handle(ctx(t), pageRequest("POST", "/privacy/confirm", "token="+url.QueryEscape(token), nil))
		if again.StatusCode != 410 {
			t.Errorf("second use: %d", again.StatusCode)
		}
		return resp.Body
	}
	answers := []string{follow("siri@example.no"), follow("nobody@example.no")}
	strip := regexp.MustCompile(`acc-[a-z0-9]+`)
	if strip.ReplaceAllString(answers[0], "") != strip.ReplaceAllString(answers[1], "") {
		t.Error("the confirmation differs with whether data exists")
	}

	var reports []localstack.Email
	for _, e := range emailsTo(t, "siri@example.no") {
		if e.Subject == "Dette har vi lagret om deg" {
			reports = append(reports, e)
		}
	}
	if len(reports) != 1 {
		t.Fatalf("%d access reports to the person, want 1", len(reports))
	}
	text := reports[0].Body.Text
	for _, want := range []string{first.ID, second.ID, "Første melding fra Siri", "Andre melding fra Siri", "Samtykke (markedsføring): gitt",
		"2026-03", "Dette lagrer vi aldri", "IP-adressen din", "Slettes senest"} {
		if !strings.Contains(text, want) {
			t.Errorf("access report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, other.ID) || strings.Contains(text, "Per sin melding") {
		t.Error("the report lists another person's copy")
	}
	all, _ := env.Emails(ctx(t))
	for _, e := range all {
		if strings.Contains(e.Body.Text, "Første melding") && strings.Join(e.Destination.To, ",") != "siri@example.no" {
			t.Errorf("content went to %v", e.Destination.To)
		}
	}
	none := emailsTo(t, "nobody@example.no")
	if len(none) != 2 || !strings.Contains(none[1].Body.Text, "ingen lagrede kopier") {
		t.Errorf("nobody's emails: %+v", none)
	}

	id := strings.TrimSuffix(regexp.MustCompile(`acc-[a-z0-9]+`).FindString(answers[0]), ".")
	rec, err := (&disclosurestore.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).GetDisclosureReceipt(ctx(t), dynamo.AccessReceiptPrefix, id)
	if err != nil || rec == nil || rec.Count != 2 || rec.Kind != "access" || rec.Selector != "email" {
		t.Fatalf("access receipt %s = %+v, %v", id, rec, err)
	}
	logsHoldNone(t, logs.String(), "siri", "Første", "nobody@")
}

// An operator holds one of a person's two copies. The held copy loses its
// expires_at; the person's own erasure then deletes the other, keeps the
// held one, and both the person and the privacy contact are told one copy
// is kept and until when; the receipt records it. Releasing the hold gives
// the copy its expiry back. Bad holds change nothing.
func TestLegalHoldAndErasure(t *testing.T) {
	integration(t)
	q := env.TestQueues(ctx(t), t, "-hold")
	db := dynamodb.NewFromConfig(env.AWS)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	holds := &hold.Service{Store: &holdstore.Store{Client: db, Table: env.Table}, LookupKeys: env.LookupKeys(), Now: time.Now, Log: log}
	keep := saveCopy(t, "contact", "liv@example.no", "Melding som må beholdes")
	gone := saveCopy(t, "contact", "liv@example.no", "Melding som kan slettes")
	origTTL := rawItem(t, keep.ID)[dynamo.TTLAttribute].(*types.AttributeValueMemberN).Value
	until, _ := hold.ParseUntil(time.Now().AddDate(1, 0, 0).Format(time.DateOnly))

	for name, tc := range map[string]struct {
		sel    hold.Selector
		reason string
		until  time.Time
		want   error
	}{
		"unknown id":   {hold.Selector{SubmissionID: "nosuchcopy"}, "Politiets begjæring", until, hold.ErrUnknownCopy},
		"past end":     {hold.Selector{SubmissionID: keep.ID}, "Politiets begjæring", time.Now().Add(-24 * time.Hour), hold.ErrPastEnd},
		"no reason":    {hold.Selector{SubmissionID: keep.ID}, "  ", until, hold.ErrNoReason},
		"no selector":  {hold.Selector{}, "x", until, hold.ErrSelector},
		"both":         {hold.Selector{Email: "liv@example.no", SubmissionID: keep.ID}, "x", until, hold.ErrSelector},
		"nobody holds": {hold.Selector{Email: "nobody@example.no"}, "x", until, hold.ErrNoCopies},
	} {
		if _, err := holds.Place(ctx(t), tc.sel, tc.reason, tc.until); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if it := rawItem(t, keep.ID); it[dynamo.TTLAttribute] == nil || it[dynamo.AttrHoldIDs] != nil {
		t.Fatal("a refused hold changed the copy")
	}
	if it := rawItem(t, dynamo.HoldPrefix+"id:"+keep.ID); it != nil {
		t.Fatal("a refused hold left a hold item")
	}

	h, err := holds.Place(ctx(t), hold.Selector{SubmissionID: keep.ID}, "Politiets begjæring 2026-123", until)
	if err != nil || len(h.Copies) != 1 {
		t.Fatalf("hold = %+v, %v", h, err)
	}
	it := rawItem(t, keep.ID)
	if it[dynamo.TTLAttribute] != nil {
		t.Fatal("the held copy still has expires_at")
	}
	if saved, _ := it[dynamo.AttrHeldExpiresAt].(*types.AttributeValueMemberN); saved == nil || saved.Value != origTTL {
		t.Errorf("held_expires_at = %v, want %s", it[dynamo.AttrHeldExpiresAt], origTTL)
	}
	hi := rawItem(t, dynamo.HoldPrefix+h.ID)
	if hi == nil || hi[dynamo.AttrHoldReason].(*types.AttributeValueMemberS).Value != "Politiets begjæring 2026-123" || hi[dynamo.TTLAttribute] == nil {
		t.Errorf("hold item = %v", hi)
	}
	// A held copy is still a live copy: reads do not take it for expired.
	if c, err := (&dynamo.Store{Client: db, Table: env.Table}).Get(ctx(t), keep.ID); err != nil || c == nil || !c.HeldUntil.Equal(until) {
		t.Errorf("Get held copy = %+v, %v", c, err)
	}

	env.ClearEmails(ctx(t))
	p := poller(t, q, &logs)
	enqueue(t, q, `{"email":"liv@example.no","request_id":"ss-holdtest","source":"self-service","language":"nb"}`)
	if res, err := p.Once(ctx(t)); err != nil || res.Deleted != 1 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	if rawItem(t, gone.ID) != nil {
		t.Error("the copy without a hold was not erased")
	}
	if rawItem(t, keep.ID) == nil {
		t.Fatal("the held copy was erased")
	}
	last := until.Add(-time.Second).Format(time.DateOnly)
	notice := emailsTo(t, "personvern@example.no")
	if len(notice) != 1 || !strings.Contains(notice[0].Body.Text, gone.ID) || !strings.Contains(notice[0].Body.Text, keep.ID) ||
		!strings.Contains(notice[0].Body.Text, "1 stored copies are kept under a legal obligation") || !strings.Contains(notice[0].Body.Text, last) {
		t.Errorf("privacy contact's notice: %+v", notice)
	}
	person := emailsTo(t, "liv@example.no")
	if len(person) != 1 || !strings.Contains(person[0].Body.Text, "Lagrede kopier slettet: 1.") ||
		!strings.Contains(person[0].Body.Text, "Lagrede kopier vi må beholde fordi loven krever det: 1. De beholdes til og med "+last) {
		t.Errorf("person's confirmation: %+v", person)
	}
	rec, err := (&erasurestore.Store{Client: db, Table: env.Table}).GetReceipt(ctx(t), "ss-holdtest")
	if err != nil || rec == nil || rec.Count != 1 || rec.Held != 1 || !rec.HeldUntil.Equal(until) || !rec.Complete {
		t.Fatalf("receipt = %+v, %v", rec, err)
	}

	if _, err := holds.Release(ctx(t), hold.Selector{SubmissionID: "nosuchcopy"}); !errors.Is(err, hold.ErrNotHeld) {
		t.Errorf("release of nothing: %v", err)
	}
	if _, err := holds.Release(ctx(t), hold.Selector{SubmissionID: keep.ID}); err != nil {
		t.Fatal(err)
	}
	it = rawItem(t, keep.ID)
	if ttl, _ := it[dynamo.TTLAttribute].(*types.AttributeValueMemberN); ttl == nil || ttl.Value != origTTL || it[dynamo.AttrHeldExpiresAt] != nil || it[dynamo.AttrHoldIDs] != nil {
		t.Errorf("after release: %v", it)
	}
	if rawItem(t, dynamo.HoldPrefix+h.ID) != nil {
		t.Error("the released hold is still stored")
	}
	logsHoldNone(t, logs.String(), "liv@", "Melding", "Politiets")
}

// A hold by address covers every copy of it and ends by itself: once its
// date has passed, the sweep (run by the redrive schedule) restores the
// copies' expiry and removes the hold.
func TestLegalHoldEndsOnItsDate(t *testing.T) {
	integration(t)
	db := dynamodb.NewFromConfig(env.AWS)
	store := &holdstore.Store{Client: db, Table: env.Table}
	now := time.Now()
	holds := &hold.Service{Store: store, LookupKeys: env.LookupKeys(), Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	a, b := saveCopy(t, "contact", "eva@example.no", "en"), saveCopy(t, "quote", "eva@example.no", "to")
	until, _ := hold.ParseUntil(now.Format(time.DateOnly))
	h, err := holds.Place(ctx(t), hold.Selector{Email: "eva@example.no"}, "Tvist", until)
	if err != nil || len(h.Copies) != 2 {
		t.Fatalf("hold = %+v, %v", h, err)
	}
	// A second, longer hold on one of them keeps that one held.
	later, _ := hold.ParseUntil(now.AddDate(0, 2, 0).Format(time.DateOnly))
	if _, err := holds.Place(ctx(t), hold.Selector{SubmissionID: b.ID}, "Politiet", later); err != nil {
		t.Fatal(err)
	}
	if n, err := holds.Sweep(ctx(t)); err != nil || n != 0 {
		t.Fatalf("sweep before the end = %d, %v", n, err)
	}
	now = until.Add(time.Minute)
	if n, err := holds.Sweep(ctx(t)); err != nil || n != 1 {
		t.Fatalf("sweep after the end = %d, %v", n, err)
	}
	if it := rawItem(t, a.ID); it[dynamo.TTLAttribute] == nil || it[dynamo.AttrHoldIDs] != nil {
		t.Errorf("copy a after its hold ended: %v", it)
	}
	if it := rawItem(t, b.ID); it[dynamo.TTLAttribute] != nil || it[dynamo.AttrHeldUntil].(*types.AttributeValueMemberN).Value != strconv.FormatInt(later.Unix(), 10) {
		t.Errorf("copy b, still under the longer hold: %v", it)
	}
	if rawItem(t, dynamo.HoldPrefix+h.ID) != nil {
		t.Error("the ended hold is still stored")
	}
	if _, err := holds.Release(ctx(t), hold.Selector{SubmissionID: b.ID}); err != nil {
		t.Fatal(err)
	}
}

// A form with a marketing consent: the staff email shows at a glance that
// the person agreed, and the copy stores the evidence for each purpose.
func TestMarketingConsent(t *testing.T) {
	integration(t)
	env.ClearEmails(ctx(t))
	cfg := testConfig(t)
	f := cfg.Form("contact")
	f.Consents = []config.Consent{
		{Purpose: config.PurposeOptionalDetails, Field: "details_ok", Fields: []string{"phone"}, PolicyVersion: "2026-03"},
		{Purpose: config.PurposeMarketing, Field: "marketing", PolicyVersion: "2026-03"},
	}
	h := submitHandler(t, cfg, env.AWS, slog.New(slog.DiscardHandler))
	ev := event(t, "submit-json.json")
	ev.Body = `{"name":"Kari Nordmann","email":"kari.consent@example.no","phone":"+47 400 00 000","message":"Hei","marketing":"on"}`
	resp, err := h.Handle(ctx(t), ev)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Handle = %d %v: %s", resp.StatusCode, err, resp.Body)
	}
	staff := emailsTo(t, "post@example.no")
	if len(staff) != 1 {
		t.Fatalf("%d staff emails", len(staff))
	}
	text := staff[0].Body.Text
	if !strings.HasPrefix(text, "Samtykker: valgfrie opplysninger: ikke gitt · markedsføring: gitt\n") {
		t.Errorf("staff email does not start with the consents:\n%s", text)
	}
	if !strings.Contains(text, `Samtykke (markedsføring): gitt (marketing="on", personvernerklæring 2026-03`) || strings.Contains(text, "+47 400") {
		t.Errorf("staff email evidence, or the phone kept without consent:\n%s", text)
	}
	c, err := (&dynamo.Store{Client: dynamodb.NewFromConfig(env.AWS), Table: env.Table}).Get(ctx(t), submissionID(text))
	if err != nil || c == nil {
		t.Fatalf("copy: %v %v", c, err)
	}
	m := c.Submission.ConsentFor(config.PurposeMarketing)
	if m == nil || !m.Given || m.Value != "on" || m.PolicyVersion != "2026-03" || m.Field != "marketing" || !m.At.Equal(c.Submission.ReceivedAt) {
		t.Errorf("stored marketing evidence = %+v", m)
	}
	if d := c.Submission.ConsentFor(config.PurposeOptionalDetails); d == nil || d.Given {
		t.Errorf("stored optional-details evidence = %+v", d)
	}
}
