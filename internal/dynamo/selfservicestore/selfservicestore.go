package selfservicestore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
)

// Store implements erasure.PendingStore.
type Store struct {
	Client API
	Table  string
	Now    func() time.Time
}

var _ erasure.PendingStore = (*Store)(nil)

// API is the part of the DynamoDB client self-service uses.
type API interface {
	dynamo.PutItemAPI
	dynamo.GetItemAPI
	dynamo.DeleteItemAPI
	dynamo.UpdateItemAPI
}

// SavePending stores the request until expires.
func (s *Store) SavePending(ctx context.Context, id string, p erasure.Pending, expires time.Time) error {
	item := map[string]types.AttributeValue{
		dynamo.AttrID:       &types.AttributeValueMemberS{Value: dynamo.PendingErasureIDPrefix + id},
		dynamo.AttrKind:     &types.AttributeValueMemberS{Value: dynamo.KindPendingErasure},
		dynamo.AttrEmail:    &types.AttributeValueMemberS{Value: p.Email},
		dynamo.AttrPurpose:  &types.AttributeValueMemberS{Value: p.Purpose},
		dynamo.TTLAttribute: dynamo.Num(expires.Unix()),
	}
	if p.Language != "" {
		item[dynamo.AttrLanguage] = &types.AttributeValueMemberS{Value: p.Language}
	}
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item})
	if err != nil {
		return dynamo.Wrap("save pending erasure", err)
	}
	return nil
}

// TakePending deletes the pending request and returns it; the condition
// makes a second use fail even when two arrive at once.
func (s *Store) TakePending(ctx context.Context, id string) (erasure.Pending, error) {
	out, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.Table),
		Key:                      dynamo.Key(dynamo.PendingErasureIDPrefix + id),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": dynamo.AttrID},
		ReturnValues:             types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return erasure.Pending{}, erasure.ErrTokenUsed
	}
	if err != nil {
		return erasure.Pending{}, dynamo.Wrap("take pending request", err)
	}
	// TTL deletion lags: an expired item still exists but must not count.
	if time.Unix(int64(dynamo.Number(out.Attributes[dynamo.TTLAttribute])), 0).Before(s.now()) {
		return erasure.Pending{}, erasure.ErrTokenUsed
	}
	return erasure.Pending{Email: dynamo.Str(out.Attributes[dynamo.AttrEmail]), Purpose: purpose(out.Attributes), Language: dynamo.Str(out.Attributes[dynamo.AttrLanguage])}, nil
}

func purpose(it map[string]types.AttributeValue) string {
	if p := dynamo.Str(it[dynamo.AttrPurpose]); p != "" {
		return p
	}
	return erasure.PurposeErasure
}

// PeekPending returns the waiting request's purpose, or "".
func (s *Store) PeekPending(ctx context.Context, id string) (string, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: dynamo.Key(dynamo.PendingErasureIDPrefix + id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#ttl, #purpose"), ExpressionAttributeNames: map[string]string{"#ttl": dynamo.TTLAttribute, "#purpose": dynamo.AttrPurpose},
	})
	if err != nil {
		return "", dynamo.Wrap("peek pending request", err)
	}
	if out.Item == nil || !time.Unix(int64(dynamo.Number(out.Item[dynamo.TTLAttribute])), 0).After(s.now()) {
		return "", nil
	}
	return purpose(out.Item), nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
