package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/erasure"
)

// A pending self-service erasure (the address, until the link is used or
// expires) is an item of its own. It carries no lookup key, so erasure's
// index never sees it, and it expires by TTL. Its per-address limit uses
// RateCounter.
const (
	KindPendingErasure     = "pending_erasure"
	PendingErasureIDPrefix = "erasure-pending#"
	pendingPrefix          = PendingErasureIDPrefix
	AttrEmail              = "email"
)

// PrivacyIAMActions are the DynamoDB actions the privacy function calls.
var PrivacyIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}

// SelfServiceAPI is the part of the DynamoDB client self-service uses.
type SelfServiceAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// SelfService implements erasure.PendingStore.
type SelfService struct {
	Client SelfServiceAPI
	Table  string
	Now    func() time.Time
}

var _ erasure.PendingStore = (*SelfService)(nil)

// SavePending stores the address until expires.
func (s *SelfService) SavePending(ctx context.Context, id, email string, expires time.Time) error {
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			AttrID:       &types.AttributeValueMemberS{Value: pendingPrefix + id},
			AttrKind:     &types.AttributeValueMemberS{Value: KindPendingErasure},
			AttrEmail:    &types.AttributeValueMemberS{Value: email},
			TTLAttribute: num(expires.Unix()),
		},
	})
	if err != nil {
		return wrap("save pending erasure", err)
	}
	return nil
}

// TakePending deletes the pending request and returns its address; the
// condition makes a second use fail even when two arrive at once.
func (s *SelfService) TakePending(ctx context.Context, id string) (string, error) {
	out, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.Table),
		Key:                      key(pendingPrefix + id),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
		ReturnValues:             types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return "", erasure.ErrTokenUsed
	}
	if err != nil {
		return "", wrap("take pending erasure", err)
	}
	// TTL deletion lags: an expired item still exists but must not count.
	if time.Unix(int64(number(out.Attributes[TTLAttribute])), 0).Before(s.now()) {
		return "", erasure.ErrTokenUsed
	}
	return str(out.Attributes[AttrEmail]), nil
}

// PeekPending reports whether the request is still waiting.
func (s *SelfService) PeekPending(ctx context.Context, id string) (bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(pendingPrefix + id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#ttl"), ExpressionAttributeNames: map[string]string{"#ttl": TTLAttribute},
	})
	if err != nil {
		return false, wrap("peek pending erasure", err)
	}
	return out.Item != nil && time.Unix(int64(number(out.Item[TTLAttribute])), 0).After(s.now()), nil
}

func (s *SelfService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
