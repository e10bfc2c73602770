package dynamo

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The adapters of the other domains (holdstore, redrivestore, erasurestore,
// selfservicestore, disclosurestore) live in packages of their own, so that
// each function links only the ones it uses. They encode attributes, class
// errors, detect lost conditions and read ids and hold ends the same way
// as this package does, through these.

// One interface per DynamoDB operation, each satisfied by the SDK's client
// (and in tests by a fake): every adapter's API names the ones it calls.
// Query's is the SDK's own, dynamodb.QueryAPIClient, which its paginator
// takes.
type (
	GetItemAPI interface {
		GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	}
	PutItemAPI interface {
		PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	}
	UpdateItemAPI interface {
		UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	}
	DeleteItemAPI interface {
		DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	}
	BatchWriteItemAPI interface {
		BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	}
)

// HeldShard is the value of AttrPending on a held copy: the pending
// index's partition the redrive function releases at its own pace.
const HeldShard = heldShard

// Num is the number attribute n.
func Num(n int64) types.AttributeValue { return num(n) }

// Str reads a string attribute; "" when v is not one.
func Str(v types.AttributeValue) string { return str(v) }

// Number reads a number attribute; 0 when v is not one.
func Number(v types.AttributeValue) int { return number(v) }

// Wrap names the operation and classes err (conflict, throttled, api,
// unavailable) for logs and the stored copy.
func Wrap(op string, err error) error { return wrap(op, err) }

// IsConflict reports whether a write's condition failed.
func IsConflict(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// QueryIDs reads the ids of every item the query finds, page after page.
func QueryIDs(ctx context.Context, client dynamodb.QueryAPIClient, in *dynamodb.QueryInput, op string) ([]string, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(op, err)
		}
		for _, it := range out.Items {
			ids = append(ids, str(it[AttrID]))
		}
	}
	return ids, nil
}

// CopyIDs queries the lookup index for the ids of every copy with the
// lookup key, every page.
func CopyIDs(ctx context.Context, client dynamodb.QueryAPIClient, table, lookupKey string) ([]string, error) {
	return QueryIDs(ctx, client, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ProjectionExpression:      aws.String("#id"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrLookupKey, "#id": AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: lookupKey}},
	}, "query lookup index")
}

// ReceiptItem is a receipt's item: the attributes every kind of receipt
// has (an id, the request's under the kind's prefix; the kind; the
// request's id; when it was asked; when the receipt expires) and the
// kind's own, attrs.
func ReceiptItem(prefix, kind, requestID string, at, expires time.Time, attrs map[string]types.AttributeValue) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		AttrID:          strAV(prefix + requestID),
		AttrKind:        strAV(kind),
		AttrRequestID:   strAV(requestID),
		AttrRequestedAt: num(at.Unix()),
		TTLAttribute:    num(expires.Unix()),
	}
	maps.Copy(item, attrs)
	return item
}

// PutReceipt writes a receipt item unless one is there: that one was
// written by an earlier try, or a concurrent delivery, of the same
// request, and is kept as it is.
func PutReceipt(ctx context.Context, client PutItemAPI, table, op string, item map[string]types.AttributeValue) error {
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
	})
	if err != nil && !IsConflict(err) {
		return wrap(op, err)
	}
	return nil
}
