package doctor_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/doctor"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
)

// kontakt status against moto: copies of the last day by outcome (older
// and expired ones and other kinds of items left out), blocked posts by
// rule from the Blocked metric, and the oldest copy still waiting.
func TestStatusAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := deploy(t, ctx)
	now := time.Now()
	put := func(id, kind, status, reason string, received, expires time.Time) {
		t.Helper()
		n := func(tm time.Time) dbtypes.AttributeValue {
			return &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(tm.Unix(), 10)}
		}
		item := map[string]dbtypes.AttributeValue{
			dynamo.AttrID: &dbtypes.AttributeValueMemberS{Value: id}, dynamo.AttrKind: &dbtypes.AttributeValueMemberS{Value: kind},
			dynamo.AttrReceivedAt: n(received), dynamo.TTLAttribute: n(expires),
		}
		if status != "" {
			item[dynamo.AttrStatus] = &dbtypes.AttributeValueMemberS{Value: status}
		}
		if reason != "" {
			item[dynamo.AttrReason] = &dbtypes.AttributeValueMemberS{Value: reason}
		}
		if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.st.Table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(30 * 24 * time.Hour)
	put("s1", dynamo.KindSubmission, dynamo.StatusSent, "", now.Add(-time.Hour), later)
	put("s2", dynamo.KindSubmission, dynamo.StatusSent, "", now.Add(-20*time.Hour), later)
	put("q-young", dynamo.KindSubmission, dynamo.StatusPending, "", now.Add(-10*time.Minute), later)
	put("q-old", dynamo.KindSubmission, dynamo.StatusPending, "", now.Add(-5*time.Hour), later)
	put("h1", dynamo.KindSubmission, dynamo.StatusPending, dynamo.ReasonHeld, now.Add(-2*time.Hour), later)
	put("f1", dynamo.KindSubmission, dynamo.StatusFailed, "", now.Add(-3*time.Hour), later)
	put("yesterday", dynamo.KindSubmission, dynamo.StatusSent, "", now.Add(-25*time.Hour), later)
	put("expired", dynamo.KindSubmission, dynamo.StatusPending, "", now.Add(-6*time.Hour), now.Add(-time.Minute))
	put("a-counter", "rate", "", "", now.Add(-time.Hour), later)

	dims := func(form, rule string) []cwtypes.Dimension {
		return []cwtypes.Dimension{{Name: aws.String("form"), Value: aws.String(form)}, {Name: aws.String("rule"), Value: aws.String(rule)}}
	}
	var data []cwtypes.MetricDatum
	for _, b := range []struct {
		form, rule string
		n          float64
	}{{"contact", "honeypot", 3}, {"contact", "rate_limit_ip", 2}, {"support", "honeypot", 1}} {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String(abuse.MetricBlocked), Dimensions: dims(b.form, b.rule),
			Value: aws.Float64(b.n), Unit: cwtypes.StandardUnitCount, Timestamp: aws.Time(now.Add(-time.Hour))})
	}
	if _, err := d.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(metrics.Namespace), MetricData: data}); err != nil {
		t.Fatal(err)
	}

	doc := &doctor.Doctor{Stack: d.st, Clients: d.clients, Now: func() time.Time { return now }}
	r, err := doc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{doctor.OutcomeSent: 2, doctor.OutcomeQueued: 2, doctor.OutcomeHeld: 1, doctor.OutcomeFailed: 1}
	for o, n := range want {
		if r.Outcomes[o] != n {
			t.Errorf("%s = %d, want %d (all: %v)", o, r.Outcomes[o], n, r.Outcomes)
		}
	}
	if r.OldestID != "q-old" {
		t.Errorf("oldest pending %q, want q-old", r.OldestID)
	}
	if got := r.Blocked; got["honeypot"] != 4 || got["rate_limit_ip"] != 2 || len(got) != 2 {
		t.Errorf("blocked %v (%s), want honeypot 4, rate_limit_ip 2", got, r.BlockedNote)
	}
	var b bytes.Buffer
	doctor.WriteStatus(&b, d.st, r, now)
	for _, line := range []string{"sent     2", "held     1", "honeypot", "oldest pending copy: q-old, received 5h0m0s ago"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("status lacks %q:\n%s", line, b.String())
		}
	}

	t.Run("locally there is no CloudWatch, and it says so", func(t *testing.T) {
		st := *d.st
		st.Local = true
		r, err := (&doctor.Doctor{Stack: &st, Clients: d.clients, Now: func() time.Time { return now }}).Status(ctx)
		if err != nil || r.Blocked != nil || !strings.Contains(r.BlockedNote, "EMF") {
			t.Errorf("local: %+v, %v", r, err)
		}
	})
	t.Run("a table that cannot be read is an error", func(t *testing.T) {
		st := *d.st
		st.Table = "no-such-table"
		if _, err := (&doctor.Doctor{Stack: &st, Clients: d.clients, Timeout: 10 * time.Second}).Status(ctx); err == nil {
			t.Error("no error for a missing table")
		}
	})
}
