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

// A pending self-service request, erasure or access (the address, until
// the link is used or expires), is an item of its own; the kind and the id
// prefix kept their first names. It carries no lookup key, so erasure's
// index never sees it, and it expires by TTL. Its per-address limit uses
// RateCounter.
const (
	KindPendingErasure     = "pending_erasure"
	PendingErasureIDPrefix = "erasure-pending#"
	pendingPrefix          = PendingErasureIDPrefix
	AttrEmail              = "email"
	// AttrPurpose is "access" on a pending access request; an item
	// without it is an erasure (items written before access existed).
	AttrPurpose = "purpose"
)

// PrivacyIAMActions are the DynamoDB actions the privacy function calls.
// Query reads the lookup index for access reports.
var PrivacyIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}

// SelfServiceAPI is the part of the DynamoDB client self-service uses.
type SelfServiceAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// PrivacyAPI is the part of the DynamoDB client the privacy function uses:
// self-service requests, and the lookup index for access reports.
type PrivacyAPI interface {
	SelfServiceAPI
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// SelfService implements erasure.PendingStore.
type SelfService struct {
	Client SelfServiceAPI
	Table  string
	Now    func() time.Time
}

var _ erasure.PendingStore = (*SelfService)(nil)

// SavePending stores the request until expires.
func (s *SelfService) SavePending(ctx context.Context, id string, p erasure.Pending, expires time.Time) error {
	item := map[string]types.AttributeValue{
		AttrID:       &types.AttributeValueMemberS{Value: pendingPrefix + id},
		AttrKind:     &types.AttributeValueMemberS{Value: KindPendingErasure},
		AttrEmail:    &types.AttributeValueMemberS{Value: p.Email},
		AttrPurpose:  &types.AttributeValueMemberS{Value: p.Purpose},
		TTLAttribute: num(expires.Unix()),
	}
	if p.Language != "" {
		item[AttrLanguage] = &types.AttributeValueMemberS{Value: p.Language}
	}
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item})
	if err != nil {
		return wrap("save pending erasure", err)
	}
	return nil
}

// TakePending deletes the pending request and returns it; the condition
// makes a second use fail even when two arrive at once.
func (s *SelfService) TakePending(ctx context.Context, id string) (erasure.Pending, error) {
	out, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.Table),
		Key:                      key(pendingPrefix + id),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
		ReturnValues:             types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return erasure.Pending{}, erasure.ErrTokenUsed
	}
	if err != nil {
		return erasure.Pending{}, wrap("take pending request", err)
	}
	// TTL deletion lags: an expired item still exists but must not count.
	if time.Unix(int64(number(out.Attributes[TTLAttribute])), 0).Before(s.now()) {
		return erasure.Pending{}, erasure.ErrTokenUsed
	}
	return erasure.Pending{Email: str(out.Attributes[AttrEmail]), Purpose: purpose(out.Attributes), Language: str(out.Attributes[AttrLanguage])}, nil
}

func purpose(it map[string]types.AttributeValue) string {
	if p := str(it[AttrPurpose]); p != "" {
		return p
	}
	return erasure.PurposeErasure
}

// PeekPending returns the waiting request's purpose, or "".
func (s *SelfService) PeekPending(ctx context.Context, id string) (string, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(pendingPrefix + id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#ttl, #purpose"), ExpressionAttributeNames: map[string]string{"#ttl": TTLAttribute, "#purpose": AttrPurpose},
	})
	if err != nil {
		return "", wrap("peek pending request", err)
	}
	if out.Item == nil || !time.Unix(int64(number(out.Item[TTLAttribute])), 0).After(s.now()) {
		return "", nil
	}
	return purpose(out.Item), nil
}

func (s *SelfService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
