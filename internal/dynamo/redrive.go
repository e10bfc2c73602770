package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/redrive"
)

// Attributes the redrive function writes.
const (
	AttrClaimedAt = "claimed_at"
	AttrFailedAt  = "failed_at"
	// duePageSize bounds one Query page; a run reads page after page while
	// it has time.
	duePageSize = 100
)

// RedriveIAMActions are the DynamoDB actions the redrive function calls:
// Query on the pending index only, UpdateItem on the table.
// GetItem and DeleteItem end legal holds whose date has passed (hold.go).
var RedriveIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}

// RedriveAPI is the part of the DynamoDB client redrive uses.
type RedriveAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// notExpired holds for a copy whose TTL has not passed, and for one under a
// legal hold, whose expires_at is lifted until the hold ends (hold.go).
const notExpired = "(attribute_not_exists(#exp) OR #exp > :now)"

// Redrive implements redrive.Store on the pending index.
type Redrive struct {
	Client RedriveAPI
	Table  string
}

var _ redrive.Store = (*Redrive)(nil)

// Due queries the sparse pending index for copies due at now. Expired copies
// are filtered out: TTL deletion lags by days and an expired copy must look
// deleted, not be emailed.
func (r *Redrive) Due(ctx context.Context, now time.Time, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return r.query(ctx, "query pending index", pendingShard, now, duePageSize, after)
}

// Held queries the held partition of the pending index, oldest first.
func (r *Redrive) Held(ctx context.Context, now time.Time, limit int, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return r.query(ctx, "query held copies", heldShard, now, min(max(limit, 1), duePageSize), after)
}

func (r *Redrive) query(ctx context.Context, op, shard string, now time.Time, limit int, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(r.Table),
		IndexName:              aws.String(PendingIndex),
		KeyConditionExpression: aws.String("#p = :p AND #next <= :now"),
		FilterExpression:       aws.String(notExpired),
		ProjectionExpression:   aws.String("#id, #next"),
		ExpressionAttributeNames: map[string]string{
			"#p": AttrPending, "#next": AttrNextAttemptAt, "#exp": TTLAttribute, "#id": AttrID,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p":   &types.AttributeValueMemberS{Value: shard},
			":now": num(now.Unix()),
		},
		Limit: aws.Int32(int32(limit)),
	}
	if key, ok := after.(map[string]types.AttributeValue); ok && len(key) > 0 {
		in.ExclusiveStartKey = key
	}
	out, err := r.Client.Query(ctx, in)
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	page := make([]redrive.Candidate, 0, len(out.Items))
	for _, it := range out.Items {
		page = append(page, redrive.Candidate{ID: str(it[AttrID]), Due: int64(number(it[AttrNextAttemptAt])), Held: shard == heldShard})
	}
	if len(out.LastEvaluatedKey) == 0 {
		return page, nil, nil
	}
	return page, out.LastEvaluatedKey, nil
}

// Claim moves the copy's next attempt to until, on condition that it is
// still pending in the partition the index listed it in, unexpired and due
// exactly when the index said: of two runs that read the same copy, only
// the first write succeeds. A held copy claimed moves to the partition of
// copies being retried, and loses its reason.
func (r *Redrive) Claim(ctx context.Context, c redrive.Candidate, now, until time.Time) (*redrive.Claimed, error) {
	update := "SET #next = :until, #claimed = :now"
	cond := "#p = :p AND #status = :pending AND #next = :due AND " + notExpired
	names := map[string]string{
		"#p": AttrPending, "#status": AttrStatus, "#next": AttrNextAttemptAt,
		"#exp": TTLAttribute, "#claimed": AttrClaimedAt,
	}
	values := map[string]types.AttributeValue{
		":p":       &types.AttributeValueMemberS{Value: pendingShard},
		":pending": &types.AttributeValueMemberS{Value: StatusPending},
		":due":     num(c.Due),
		":until":   num(until.Unix()),
		":now":     num(now.Unix()),
	}
	if c.Held {
		update = "SET #next = :until, #claimed = :now, #p = :p REMOVE #reason"
		cond = "#p = :held AND #status = :pending AND #next = :due AND " + notExpired
		names["#reason"] = AttrReason
		values[":held"] = &types.AttributeValueMemberS{Value: heldShard}
	}
	out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.Table),
		Key:                       key(c.ID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		if isConflict(err) {
			return nil, redrive.ErrTaken
		}
		return nil, wrap("claim copy", err)
	}
	cp := Decode(out.Attributes)
	return &redrive.Claimed{Submission: cp.Submission, Attempts: cp.Attempts, Token: until.Unix()}, nil
}

// Sent records delivery and takes the copy out of the pending index.
func (r *Redrive) Sent(ctx context.Context, c *redrive.Claimed, at time.Time) error {
	return r.finish(ctx, "record re-send", c,
		"SET #status = :status, #sent_at = :at, #attempts = :n REMOVE #p, #next, #last_error",
		map[string]string{"#status": AttrStatus, "#sent_at": AttrSentAt, "#attempts": AttrAttempts, "#p": AttrPending, "#last_error": AttrLastError},
		map[string]types.AttributeValue{":status": &types.AttributeValueMemberS{Value: StatusSent}, ":at": num(at.Unix())})
}

// Retry makes the copy due again at next.
func (r *Redrive) Retry(ctx context.Context, c *redrive.Claimed, next time.Time, class string) error {
	return r.finish(ctx, "reschedule copy", c,
		"SET #next = :next, #attempts = :n, #last_error = :class",
		map[string]string{"#attempts": AttrAttempts, "#last_error": AttrLastError},
		map[string]types.AttributeValue{":next": num(next.Unix()), ":class": &types.AttributeValueMemberS{Value: class}})
}

// Fail marks the copy failed: out of the pending index, kept until its TTL
// so that nothing is lost that an operator could still deliver by hand.
func (r *Redrive) Fail(ctx context.Context, c *redrive.Claimed, at time.Time, class string) error {
	return r.finish(ctx, "mark copy failed", c,
		"SET #status = :status, #failed_at = :at, #attempts = :n, #last_error = :class REMOVE #p, #next",
		map[string]string{"#status": AttrStatus, "#failed_at": AttrFailedAt, "#attempts": AttrAttempts, "#last_error": AttrLastError, "#p": AttrPending},
		map[string]types.AttributeValue{":status": &types.AttributeValueMemberS{Value: StatusFailed}, ":at": num(at.Unix()), ":class": &types.AttributeValueMemberS{Value: class}})
}

// finish ends a claim with one update, on condition that the claim still
// holds (next_attempt_at is the claim's token); the attempt is counted.
func (r *Redrive) finish(ctx context.Context, op string, c *redrive.Claimed, update string, names map[string]string, values map[string]types.AttributeValue) error {
	names["#next"] = AttrNextAttemptAt
	values[":token"] = num(c.Token)
	values[":n"] = num(int64(c.Attempts + 1))
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.Table),
		Key:                       key(c.Submission.ID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#next = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		if isConflict(err) {
			return &Error{Op: op, Class: "conflict", Err: errors.Join(redrive.ErrTaken, err)}
		}
		return wrap(op, err)
	}
	return nil
}

// Requeue puts a failed copy back in the pending index, due at once and
// with its attempts counted afresh: the operator's way to deliver it after
// fixing what made SES refuse it. Only a failed, unexpired copy qualifies.
func (r *Redrive) Requeue(ctx context.Context, id string, now time.Time) error {
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(r.Table),
		Key:                 key(id),
		UpdateExpression:    aws.String("SET #status = :pending, #p = :p, #next = :now, #attempts = :one REMOVE #failed_at"),
		ConditionExpression: aws.String("#status = :failed AND " + notExpired),
		ExpressionAttributeNames: map[string]string{
			"#status": AttrStatus, "#p": AttrPending, "#next": AttrNextAttemptAt, "#attempts": AttrAttempts,
			"#failed_at": AttrFailedAt, "#exp": TTLAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": &types.AttributeValueMemberS{Value: StatusPending},
			":failed":  &types.AttributeValueMemberS{Value: StatusFailed},
			":p":       &types.AttributeValueMemberS{Value: pendingShard},
			":now":     num(now.Unix()),
			":one":     num(1),
		},
	})
	if err != nil {
		if isConflict(err) {
			return &Error{Op: "requeue copy", Class: "conflict", Err: errors.New("no failed, unexpired copy with that id")}
		}
		return wrap("requeue copy", err)
	}
	return nil
}
