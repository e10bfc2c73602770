package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/submission"
)

// Idempotency markers live in the same table under their own id prefix with
// a short TTL. They hold a hash, the first request's submission id, the
// fingerprint of its content (a hash; client keys only) and its outcome: no
// personal data, no lookup key and no pending flag, so neither index sees
// them.
const (
	KindMarker       = "idempotency"
	MarkerPrefix     = "idem#"
	AttrSubmissionID = "submission_id"
	AttrOutcome      = "outcome"
	AttrStartedAt    = "started_at"
	AttrFingerprint  = "content_fingerprint"
)

// MarkerAPI is the part of the DynamoDB client the markers use.
type MarkerAPI interface {
	PutItemAPI
	GetItemAPI
	UpdateItemAPI
	DeleteItemAPI
}

// Markers implements submission.Markers.
type Markers struct {
	Client MarkerAPI
	Table  string
}

var _ submission.Markers = (*Markers)(nil)

func markerKey(key string) map[string]types.AttributeValue { return Key(MarkerPrefix + key) }

// Reserve writes the marker with one conditional PutItem, so of two
// identical requests at the same moment exactly one gets it. An expired
// marker (TTL deletion lags) and a stale unfinished one count as absent.
func (m *Markers) Reserve(ctx context.Context, key, id, content string, now time.Time, hold, stale time.Duration) (*submission.Marker, error) {
	item := map[string]types.AttributeValue{
		AttrID:           &types.AttributeValueMemberS{Value: MarkerPrefix + key},
		AttrKind:         strAV(KindMarker),
		AttrSubmissionID: &types.AttributeValueMemberS{Value: id},
		AttrStartedAt:    num(now.Unix()),
		TTLAttribute:     num(now.Add(hold).Unix()),
	}
	if content != "" {
		item[AttrFingerprint] = &types.AttributeValueMemberS{Value: content}
	}
	for try := 0; try < 3; try++ {
		_, err := m.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                &m.Table,
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#id) OR #exp <= :now OR (attribute_not_exists(#outcome) AND #started < :stale)"),
			ExpressionAttributeNames: map[string]string{"#id": AttrID, "#exp": TTLAttribute, "#outcome": AttrOutcome, "#started": AttrStartedAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now":   num(now.Unix()),
				":stale": num(now.Add(-stale).Unix()),
			},
		})
		if err == nil {
			return nil, nil
		}
		if !IsConflict(err) {
			return nil, wrap("reserve idempotency marker", err)
		}
		first, err := m.Get(ctx, key, now)
		if err != nil || first != nil {
			return first, err
		}
		// Released or expired between the two calls: try to take it again.
	}
	return nil, &Error{Op: "reserve idempotency marker", Class: "conflict", Err: errors.New("marker keeps changing")}
}

// Get reads the marker with a consistent read, or nil when there is none or
// it has expired.
func (m *Markers) Get(ctx context.Context, key string, now time.Time) (*submission.Marker, error) {
	out, err := m.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.Table), Key: markerKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("get idempotency marker", err)
	}
	if out.Item == nil || int64(number(out.Item[TTLAttribute])) <= now.Unix() {
		return nil, nil
	}
	mk := &submission.Marker{SubmissionID: str(out.Item[AttrSubmissionID]), Content: str(out.Item[AttrFingerprint])}
	switch str(out.Item[AttrOutcome]) {
	case StatusSent:
		mk.Outcome = submission.Sent
	case StatusPending:
		mk.Outcome = submission.Stored
	}
	return mk, nil
}

// Complete records the outcome, if the marker is still id's.
func (m *Markers) Complete(ctx context.Context, key, id string, o submission.Outcome) error {
	status := StatusSent
	if o == submission.Stored {
		status = StatusPending
	}
	_, err := m.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &m.Table,
		Key:                       markerKey(key),
		UpdateExpression:          aws.String("SET #outcome = :o"),
		ConditionExpression:       aws.String("#sid = :id"),
		ExpressionAttributeNames:  map[string]string{"#outcome": AttrOutcome, "#sid": AttrSubmissionID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": strAV(status), ":id": strAV(id)},
	})
	if err != nil {
		return wrap("complete idempotency marker", err)
	}
	return nil
}

// Release deletes the marker, if it is still id's and unfinished.
func (m *Markers) Release(ctx context.Context, key, id string) error {
	_, err := m.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(m.Table),
		Key:                       markerKey(key),
		ConditionExpression:       aws.String("#sid = :id AND attribute_not_exists(#outcome)"),
		ExpressionAttributeNames:  map[string]string{"#outcome": AttrOutcome, "#sid": AttrSubmissionID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil && !IsConflict(err) {
		return wrap("release idempotency marker", err)
	}
	return nil
}
