package doctor

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
)

// The copies check reads the table itself: the copies whose email still
// waits (the pending index) and those given up on (a scan).

// copyInfo is what the copies check reads of a copy.
type copyInfo struct {
	id, reason string
	received   int64
}

func checkCopies(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	now := d.Now()
	pending, err := d.pendingCopies(ctx, now)
	if err != nil {
		return unreachable("read pending copies", err, st.Local)
	}
	failed, err := d.failedCopies(ctx, now)
	if err != nil {
		return unreachable("read failed copies", err, st.Local)
	}
	r := Result{Status: OK, Detail: "none pending, none failed"}
	if len(pending) > 0 {
		oldest := pending[0]
		for _, c := range pending {
			if c.received < oldest.received {
				oldest = c
			}
		}
		age := now.Sub(time.Unix(oldest.received, 0)).Round(time.Minute)
		r.More = append(r.More, fmt.Sprintf("%d pending (%s); the oldest, %s, arrived %s ago", len(pending), byReason(pending), oldest.id, age))
		if age > pendingWarnTime {
			r.Status = Warn
			r.Fix = "the redrive function re-sends pending emails with growing waits; if they keep failing, see its log and the SES checks above"
		}
	}
	if len(failed) > 0 {
		ids := make([]string, 0, len(failed))
		for _, c := range failed {
			ids = append(ids, c.id)
		}
		sort.Strings(ids)
		r.Status = Fail
		r.More = append(r.More, fmt.Sprintf("%d failed: their email was given up (%s); the copies are kept until their TTL: %s", len(failed), byReason(failed), strings.Join(ids, " ")))
		r.Fix = "fix what SES refused (see the reasons and the SES checks above), then: kontakt requeue " + strings.Join(ids, " ")
	}
	if len(pending)+len(failed) > 0 {
		r.Detail = fmt.Sprintf("%d pending, %d failed", len(pending), len(failed))
	}
	return r
}

func byReason(cs []copyInfo) string {
	n := map[string]int{}
	for _, c := range cs {
		reason := c.reason
		if reason == "" {
			reason = "first attempt"
		}
		n[reason]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, n[k])
	}
	return strings.Join(parts, ", ")
}

// pendingCopies reads the sparse pending index, every page; expired copies
// are ignored, as every read of the table does (TTL deletion lags).
func (d *Doctor) pendingCopies(ctx context.Context, now time.Time) ([]copyInfo, error) {
	p := dynamodb.NewQueryPaginator(d.Clients.Query, &dynamodb.QueryInput{
		TableName:                 aws.String(d.Stack.Table),
		IndexName:                 aws.String(dynamo.PendingIndex),
		KeyConditionExpression:    aws.String("#p = :p"),
		FilterExpression:          aws.String("#exp > :now"),
		ProjectionExpression:      aws.String(copyProjection),
		ExpressionAttributeNames:  copyNames("#p", dynamo.AttrPending),
		ExpressionAttributeValues: unexpired(now, ":p", dynamo.PendingShard),
	})
	return everyPage(ctx, d, p, func(res *dynamodb.QueryOutput) []map[string]dbtypes.AttributeValue { return res.Items })
}

// failedCopies scans for copies marked failed: they leave the pending
// index and have none of their own, and there are few (each raised an
// alarm). A scan reads the whole table once; the table holds only
// RetentionDays of copies.
func (d *Doctor) failedCopies(ctx context.Context, now time.Time) ([]copyInfo, error) {
	p := dynamodb.NewScanPaginator(d.Clients.Scan, &dynamodb.ScanInput{
		TableName:                 aws.String(d.Stack.Table),
		FilterExpression:          aws.String("#status = :failed AND #exp > :now"),
		ProjectionExpression:      aws.String(copyProjection),
		ExpressionAttributeNames:  copyNames("#status", dynamo.AttrStatus),
		ExpressionAttributeValues: unexpired(now, ":failed", dynamo.StatusFailed),
	})
	return everyPage(ctx, d, p, func(res *dynamodb.ScanOutput) []map[string]dbtypes.AttributeValue { return res.Items })
}

// pages is an SDK paginator (DynamoDB Query or Scan, CloudWatch
// ListMetrics), which carries each page's key or token over to the next
// request.
type pages[Out, Opt any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*Opt)) (Out, error)
}

// eachPage reads page after page, each call under its own deadline, and
// hands each to use.
func eachPage[Out, Opt any](ctx context.Context, d *Doctor, p pages[Out, Opt], use func(Out)) error {
	for p.HasMorePages() {
		c, cancel := d.call(ctx)
		res, err := p.NextPage(c)
		cancel()
		if err != nil {
			return err
		}
		use(res)
	}
	return nil
}

// everyPage decodes every copy on every page; items picks a page's copies
// (Query's and Scan's outputs are different types with the same field).
func everyPage[Out any](ctx context.Context, d *Doctor, p pages[Out, dynamodb.Options], items func(Out) []map[string]dbtypes.AttributeValue) ([]copyInfo, error) {
	var out []copyInfo
	err := eachPage(ctx, d, p, func(res Out) { out = append(out, decodeCopies(items(res))...) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// copyProjection is what decodeCopies reads of a copy.
const copyProjection = "#id, #received, #err"

// copyNames names copyProjection's attributes, TTLAttribute as #exp, and
// the one attribute a read selects on.
func copyNames(name, attr string) map[string]string {
	return map[string]string{
		name: attr, "#exp": dynamo.TTLAttribute, "#id": dynamo.AttrID,
		"#received": dynamo.AttrReceivedAt, "#err": dynamo.AttrLastError,
	}
}

// unexpired is the values of a read of copies whose TTL is after now, and
// whose attribute named placeholder has the value value.
func unexpired(now time.Time, placeholder, value string) map[string]dbtypes.AttributeValue {
	return map[string]dbtypes.AttributeValue{
		placeholder: &dbtypes.AttributeValueMemberS{Value: value},
		":now":      &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
	}
}

func decodeCopies(items []map[string]dbtypes.AttributeValue) []copyInfo {
	out := make([]copyInfo, 0, len(items))
	for _, it := range items {
		var c copyInfo
		if v, ok := it[dynamo.AttrID].(*dbtypes.AttributeValueMemberS); ok {
			c.id = v.Value
		}
		if v, ok := it[dynamo.AttrLastError].(*dbtypes.AttributeValueMemberS); ok {
			c.reason = v.Value
		}
		if v, ok := it[dynamo.AttrReceivedAt].(*dbtypes.AttributeValueMemberN); ok {
			c.received, _ = strconv.ParseInt(v.Value, 10, 64)
		}
		out = append(out, c)
	}
	return out
}
