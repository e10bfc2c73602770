package doctor

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
)

// Outcomes of a submission as kontakt status counts them.
const (
	OutcomeSent   = "sent"
	OutcomeQueued = "queued" // stored, the email still to be (re)sent
	OutcomeHeld   = "held"   // stored over the form's ceiling, released at a pace
	OutcomeFailed = "failed"
)

// StatusReport is the last day at a glance (kontakt status).
type StatusReport struct {
	Since time.Time
	// Outcomes counts the copies received since Since by outcome. Every
	// accepted post leaves a copy, so this is every accepted post.
	Outcomes map[string]int
	// Blocked counts posts the abuse rules caught, by rule (CloudWatch);
	// nil with BlockedNote saying why when they cannot be read.
	Blocked     map[string]int
	BlockedNote string
	// Oldest is the oldest copy still waiting for its email, if any.
	Oldest   *time.Time
	OldestID string
}

// Status reads the last 24 hours: the copies from the table (one scan,
// filtered to the day; the table holds only the retention period) and the
// blocked posts from the Blocked metric of every form and rule.
func (d *Doctor) Status(ctx context.Context) (*StatusReport, error) {
	d.defaults()
	now := d.Now()
	r := &StatusReport{Since: now.Add(-24 * time.Hour), Outcomes: map[string]int{}}
	p := dynamodb.NewScanPaginator(d.Clients.Scan, &dynamodb.ScanInput{
		TableName:            aws.String(d.Stack.Table),
		FilterExpression:     aws.String("#kind = :sub AND #received >= :since AND #exp > :now"),
		ProjectionExpression: aws.String("#id, #received, #status, #reason"),
		ExpressionAttributeNames: map[string]string{
			"#kind": dynamo.AttrKind, "#received": dynamo.AttrReceivedAt, "#exp": dynamo.TTLAttribute,
			"#id": dynamo.AttrID, "#status": dynamo.AttrStatus, "#reason": dynamo.AttrReason,
		},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":sub":   &dbtypes.AttributeValueMemberS{Value: dynamo.KindSubmission},
			":since": &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(r.Since.Unix(), 10)},
			":now":   &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
	})
	err := eachPage(ctx, d, p, func(res *dynamodb.ScanOutput) {
		for _, it := range res.Items {
			r.count(it)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read copies: %w", err)
	}
	if d.Stack.Local {
		r.BlockedNote = "no CloudWatch locally: make dev prints each blocked post as an EMF line (\"Blocked\") in its output"
		return r, nil
	}
	blocked, err := d.blocked(ctx, r.Since, now)
	if err != nil {
		r.BlockedNote = "could not read the Blocked metric: " + err.Error()
		return r, nil
	}
	r.Blocked = blocked
	return r, nil
}

func (r *StatusReport) count(it map[string]dbtypes.AttributeValue) {
	str := func(k string) string {
		v, _ := it[k].(*dbtypes.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	outcome := OutcomeQueued
	switch {
	case str(dynamo.AttrStatus) == dynamo.StatusSent:
		outcome = OutcomeSent
	case str(dynamo.AttrStatus) == dynamo.StatusFailed:
		outcome = OutcomeFailed
	case str(dynamo.AttrReason) == dynamo.ReasonHeld:
		outcome = OutcomeHeld
	}
	r.Outcomes[outcome]++
	if outcome == OutcomeQueued || outcome == OutcomeHeld {
		n, _ := it[dynamo.AttrReceivedAt].(*dbtypes.AttributeValueMemberN)
		if n == nil {
			return
		}
		sec, err := strconv.ParseInt(n.Value, 10, 64)
		if t := time.Unix(sec, 0); err == nil && (r.Oldest == nil || t.Before(*r.Oldest)) {
			r.Oldest, r.OldestID = &t, str(dynamo.AttrID)
		}
	}
}

// blocked sums the Blocked metric over [since, now) for every form and
// rule it has been written with, by rule.
func (d *Doctor) blocked(ctx context.Context, since, now time.Time) (map[string]int, error) {
	var series []cwtypes.Metric
	p := cloudwatch.NewListMetricsPaginator(d.Clients.Metrics, &cloudwatch.ListMetricsInput{
		Namespace: aws.String(metrics.Namespace), MetricName: aws.String(abuse.MetricBlocked),
	})
	if err := eachPage(ctx, d, p, func(out *cloudwatch.ListMetricsOutput) { series = append(series, out.Metrics...) }); err != nil {
		return nil, err
	}
	byRule := map[string]int{}
	// GetMetricData takes up to 500 queries a call.
	for len(series) > 0 {
		batch := series[:min(len(series), 500)]
		series = series[len(batch):]
		queries := make([]cwtypes.MetricDataQuery, len(batch))
		for i, m := range batch {
			queries[i] = cwtypes.MetricDataQuery{
				Id:         aws.String("m" + strconv.Itoa(i)),
				MetricStat: &cwtypes.MetricStat{Metric: &batch[i], Period: aws.Int32(86400), Stat: aws.String("Sum")},
				Label:      aws.String(rule(m)),
			}
		}
		out, err := ask(ctx, d, d.Clients.Metrics.GetMetricData, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: queries, StartTime: aws.Time(since), EndTime: aws.Time(now),
		})
		if err != nil {
			return nil, err
		}
		for _, res := range out.MetricDataResults {
			for _, v := range res.Values {
				byRule[aws.ToString(res.Label)] += int(v)
			}
		}
	}
	return byRule, nil
}

func rule(m cwtypes.Metric) string {
	for _, d := range m.Dimensions {
		if aws.ToString(d.Name) == "rule" {
			return aws.ToString(d.Value)
		}
	}
	return "unknown"
}

// WriteStatus prints the report.
func WriteStatus(w io.Writer, st *stack.Stack, r *StatusReport, now time.Time) {
	fmt.Fprintf(w, "kontakt status for %s, the last 24 hours (since %s)\n\n", where(st), r.Since.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(w, "submissions by outcome:")
	for _, o := range []string{OutcomeSent, OutcomeQueued, OutcomeHeld, OutcomeFailed} {
		fmt.Fprintf(w, "  %-8s %d\n", o, r.Outcomes[o])
	}
	fmt.Fprintln(w, "blocked by rule:")
	switch {
	case r.Blocked == nil:
		fmt.Fprintf(w, "  (%s)\n", r.BlockedNote)
	case len(r.Blocked) == 0:
		fmt.Fprintln(w, "  none")
	default:
		rules := make([]string, 0, len(r.Blocked))
		for k := range r.Blocked {
			rules = append(rules, k)
		}
		sort.Strings(rules)
		for _, k := range rules {
			fmt.Fprintf(w, "  %-24s %d\n", k, r.Blocked[k])
		}
	}
	if r.Oldest == nil {
		fmt.Fprintln(w, "oldest pending copy: none")
		return
	}
	fmt.Fprintf(w, "oldest pending copy: %s, received %s ago\n", r.OldestID, now.Sub(*r.Oldest).Round(time.Minute))
}

// where names the stack for a heading.
func where(st *stack.Stack) string {
	if st.Local {
		return "the local stack (make dev)"
	}
	return strings.TrimSpace(st.Name + " in " + st.Region)
}
