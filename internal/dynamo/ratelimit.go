package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Rate limit counters live in the submissions table as items of their own:
// id "rate#<key>", where the key names the form, the hashed source IP (never
// the address) and the window; a count; and expires_at at the window's end,
// so that TTL removes them. They carry neither lookup_key nor pending, so
// they are in no index, and a window's key is never read after it ends, so
// TTL's lag does not matter.
const (
	RateIDPrefix = "rate#"
	AttrCount    = "count"
	KindRate     = "rate"
)

// RateCounter implements abuse.Counter with conditional updates.
type RateCounter struct {
	Client API
	Table  string
}

// Hit adds one to the counter unless it has reached limit. The condition
// and the addition are one UpdateItem, which DynamoDB applies atomically
// per item: concurrent posts cannot pass a full counter.
func (c *RateCounter) Hit(ctx context.Context, name string, limit int, expires time.Time) (bool, error) {
	_, err := c.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.Table,
		Key:                      key(RateIDPrefix + name),
		UpdateExpression:         aws.String("ADD #count :one SET #kind = :kind, #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#count) OR #count < :limit"),
		ExpressionAttributeNames: map[string]string{"#count": AttrCount, "#kind": AttrKind, "#exp": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   num(1),
			":limit": num(int64(limit)),
			":kind":  strAV(KindRate),
			":exp":   num(expires.Unix()),
		},
	})
	switch {
	case err == nil:
		return true, nil
	case IsConflict(err):
		return false, nil
	}
	return false, wrap("count post", err)
}

// Undo takes one hit back. The condition keeps it from creating a counter
// that is not there (the window ended and TTL removed it) or going below
// zero.
func (c *RateCounter) Undo(ctx context.Context, name string) error {
	_, err := c.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.Table,
		Key:                      key(RateIDPrefix + name),
		UpdateExpression:         aws.String("ADD #count :minus"),
		ConditionExpression:      aws.String("#count > :zero"),
		ExpressionAttributeNames: map[string]string{"#count": AttrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":minus": num(-1),
			":zero":  num(0),
		},
	})
	if err == nil || IsConflict(err) {
		return nil
	}
	return wrap("give a count back", err)
}
