package redrivestore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/redrive"
)

// API is the part of the DynamoDB client redrive uses.
type API interface {
	dynamodb.QueryAPIClient
	dynamo.UpdateItemAPI
}

// duePageSize bounds one Query page; a run reads page after page while
// it has time.
const duePageSize = 100

// notExpired holds for a copy whose TTL has not passed, and for one under a
// legal hold, whose expires_at is lifted until the hold ends (holdstore).
const notExpired = "(attribute_not_exists(#exp) OR #exp > :now)"

// Store implements redrive.Store on the pending index.
type Store struct {
	Client API
	Table  string
}

var _ redrive.Store = (*Store)(nil)

// Due queries the sparse pending index for copies due at now. Expired copies
// are filtered out: TTL deletion lags by days and an expired copy must look
// deleted, not be emailed.
func (r *Store) Due(ctx context.Context, now time.Time, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return r.query(ctx, "query pending index", dynamo.PendingShard, now, duePageSize, after)
}

// Held queries the held partition of the pending index, oldest first.
func (r *Store) Held(ctx context.Context, now time.Time, limit int, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	return r.query(ctx, "query held copies", dynamo.HeldShard, now, min(max(limit, 1), duePageSize), after)
}

func (r *Store) query(ctx context.Context, op, shard string, now time.Time, limit int, after redrive.Cursor) ([]redrive.Candidate, redrive.Cursor, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(r.Table),
		IndexName:              aws.String(dynamo.PendingIndex),
		KeyConditionExpression: aws.String("#p = :p AND #next <= :now"),
		FilterExpression:       aws.String(notExpired),
		ProjectionExpression:   aws.String("#id, #next"),
		ExpressionAttributeNames: map[string]string{
			"#p": dynamo.AttrPending, "#next": dynamo.AttrNextAttemptAt, "#exp": dynamo.TTLAttribute, "#id": dynamo.AttrID,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p":   &types.AttributeValueMemberS{Value: shard},
			":now": dynamo.Num(now.Unix()),
		},
		Limit: aws.Int32(int32(limit)),
	}
	if key, ok := after.(map[string]types.AttributeValue); ok && len(key) > 0 {
		in.ExclusiveStartKey = key
	}
	out, err := r.Client.Query(ctx, in)
	if err != nil {
		return nil, nil, dynamo.Wrap(op, err)
	}
	page := make([]redrive.Candidate, 0, len(out.Items))
	for _, it := range out.Items {
		page = append(page, redrive.Candidate{ID: dynamo.Str(it[dynamo.AttrID]), Due: int64(dynamo.Number(it[dynamo.AttrNextAttemptAt])), Held: shard == dynamo.HeldShard})
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
func (r *Store) Claim(ctx context.Context, c redrive.Candidate, now, until time.Time) (*redrive.Claimed, error) {
	update := "SET #next = :until, #claimed = :now"
	cond := "#p = :p AND #status = :pending AND #next = :due AND " + notExpired
	names := map[string]string{
		"#p": dynamo.AttrPending, "#status": dynamo.AttrStatus, "#next": dynamo.AttrNextAttemptAt,
		"#exp": dynamo.TTLAttribute, "#claimed": dynamo.AttrClaimedAt,
	}
	values := map[string]types.AttributeValue{
		":p":       &types.AttributeValueMemberS{Value: dynamo.PendingShard},
		":pending": &types.AttributeValueMemberS{Value: dynamo.StatusPending},
		":due":     dynamo.Num(c.Due),
		":until":   dynamo.Num(until.Unix()),
		":now":     dynamo.Num(now.Unix()),
	}
	if c.Held {
		update = "SET #next = :until, #claimed = :now, #p = :p REMOVE #reason"
		cond = "#p = :held AND #status = :pending AND #next = :due AND " + notExpired
		names["#reason"] = dynamo.AttrReason
		values[":held"] = &types.AttributeValueMemberS{Value: dynamo.HeldShard}
	}
	out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.Table),
		Key:                       dynamo.Key(c.ID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		if dynamo.IsConflict(err) {
			return nil, redrive.ErrTaken
		}
		return nil, dynamo.Wrap("claim copy", err)
	}
	cp := dynamo.Decode(out.Attributes)
	return &redrive.Claimed{Submission: cp.Submission, Attempts: cp.Attempts, Token: until.Unix()}, nil
}

// Sent records delivery and takes the copy out of the pending index.
func (r *Store) Sent(ctx context.Context, c *redrive.Claimed, at time.Time) error {
	return r.finish(ctx, "record re-send", c,
		"SET #status = :status, #sent_at = :at, #attempts = :n REMOVE #p, #next, #last_error",
		map[string]string{"#status": dynamo.AttrStatus, "#sent_at": dynamo.AttrSentAt, "#attempts": dynamo.AttrAttempts, "#p": dynamo.AttrPending, "#last_error": dynamo.AttrLastError},
		map[string]types.AttributeValue{":status": &types.AttributeValueMemberS{Value: dynamo.StatusSent}, ":at": dynamo.Num(at.Unix())})
}

// Retry makes the copy due again at next.
func (r *Store) Retry(ctx context.Context, c *redrive.Claimed, next time.Time, class string) error {
	return r.finish(ctx, "reschedule copy", c,
		"SET #next = :next, #attempts = :n, #last_error = :class",
		map[string]string{"#attempts": dynamo.AttrAttempts, "#last_error": dynamo.AttrLastError},
		map[string]types.AttributeValue{":next": dynamo.Num(next.Unix()), ":class": &types.AttributeValueMemberS{Value: class}})
}

// Fail marks the copy failed: out of the pending index, kept until its TTL
// so that nothing is lost that an operator could still deliver by hand.
func (r *Store) Fail(ctx context.Context, c *redrive.Claimed, at time.Time, class string) error {
	return r.finish(ctx, "mark copy failed", c,
		"SET #status = :status, #failed_at = :at, #attempts = :n, #last_error = :class REMOVE #p, #next",
		map[string]string{"#status": dynamo.AttrStatus, "#failed_at": dynamo.AttrFailedAt, "#attempts": dynamo.AttrAttempts, "#last_error": dynamo.AttrLastError, "#p": dynamo.AttrPending},
		map[string]types.AttributeValue{":status": &types.AttributeValueMemberS{Value: dynamo.StatusFailed}, ":at": dynamo.Num(at.Unix()), ":class": &types.AttributeValueMemberS{Value: class}})
}

// finish ends a claim with one update, on condition that the claim still
// holds (next_attempt_at is the claim's token); the attempt is counted.
func (r *Store) finish(ctx context.Context, op string, c *redrive.Claimed, update string, names map[string]string, values map[string]types.AttributeValue) error {
	names["#next"] = dynamo.AttrNextAttemptAt
	values[":token"] = dynamo.Num(c.Token)
	values[":n"] = dynamo.Num(int64(c.Attempts + 1))
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.Table),
		Key:                       dynamo.Key(c.Submission.ID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#next = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		if dynamo.IsConflict(err) {
			return &dynamo.Error{Op: op, Class: "conflict", Err: errors.Join(redrive.ErrTaken, err)}
		}
		return dynamo.Wrap(op, err)
	}
	return nil
}

// Requeue puts a failed copy back in the pending index, due at once and
// with its attempts counted afresh: the operator's way to deliver it after
// fixing what made SES refuse it. Only a failed, unexpired copy qualifies.
func (r *Store) Requeue(ctx context.Context, id string, now time.Time) error {
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(r.Table),
		Key:                 dynamo.Key(id),
		UpdateExpression:    aws.String("SET #status = :pending, #p = :p, #next = :now, #attempts = :one REMOVE #failed_at"),
		ConditionExpression: aws.String("#status = :failed AND " + notExpired),
		ExpressionAttributeNames: map[string]string{
			"#status": dynamo.AttrStatus, "#p": dynamo.AttrPending, "#next": dynamo.AttrNextAttemptAt, "#attempts": dynamo.AttrAttempts,
			"#failed_at": dynamo.AttrFailedAt, "#exp": dynamo.TTLAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": &types.AttributeValueMemberS{Value: dynamo.StatusPending},
			":failed":  &types.AttributeValueMemberS{Value: dynamo.StatusFailed},
			":p":       &types.AttributeValueMemberS{Value: dynamo.PendingShard},
			":now":     dynamo.Num(now.Unix()),
			":one":     dynamo.Num(1),
		},
	})
	if err != nil {
		if dynamo.IsConflict(err) {
			return &dynamo.Error{Op: "requeue copy", Class: "conflict", Err: errors.New("no failed, unexpired copy with that id")}
		}
		return dynamo.Wrap("requeue copy", err)
	}
	return nil
}
