package erasurestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
)

// API is the part of the DynamoDB client erasure uses.
type API interface {
	dynamodb.QueryAPIClient
	dynamo.BatchWriteItemAPI
	dynamo.GetItemAPI
	dynamo.PutItemAPI
	dynamo.UpdateItemAPI
}

// BatchWriteItem takes up to 25 requests; unprocessed deletes are retried
// a few times, with backoff.
const (
	batchWriteMax     = 25
	maxUnprocessedTry = 8
)

// claimTries bounds how often ClaimCopy meets a hold placed and released
// between its write and its read.
const claimTries = 3

// Store implements erasure's Finder, Deleter and Receipts.
type Store struct {
	Client API
	Table  string
	// Backoff is the first wait before retrying unprocessed deletes.
	Backoff time.Duration
	// Now is the clock of claims; nil is time.Now.
	Now func() time.Time
}

var (
	_ erasure.Finder   = (*Store)(nil)
	_ erasure.Deleter  = (*Store)(nil)
	_ erasure.Receipts = (*Store)(nil)
)

// FindByLookupKey queries the lookup index, every page. The cost follows the
// person's number of copies, not the table's size.
func (e *Store) FindByLookupKey(ctx context.Context, key string) ([]erasure.Copy, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(e.Table),
		IndexName:                 aws.String(dynamo.LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": dynamo.AttrLookupKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: key}},
	}
	var copies []erasure.Copy
	p := dynamodb.NewQueryPaginator(e.Client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, dynamo.Wrap("query lookup index", err)
		}
		for _, it := range out.Items {
			c := erasure.Copy{
				ID:         dynamo.Str(it[dynamo.AttrID]),
				FormID:     dynamo.Str(it[dynamo.AttrFormID]),
				ReceivedAt: time.Unix(int64(dynamo.Number(it[dynamo.AttrReceivedAt])), 0).UTC(),
			}
			// The index carries neither the copy's files nor, for a copy
			// under a legal hold (its TTL lifted), the hold's end: the item
			// does. One read per copy; a person has few.
			if c.HeldUntil, c.Files, err = dynamo.ErasureDetails(ctx, e.Client, e.Table, c.ID); err != nil {
				return nil, err
			}
			copies = append(copies, c)
		}
	}
	return copies, nil
}

// ClaimCopy sets the copy's erasing mark (the request and the time) on
// condition that it exists and no legal hold covers it now: a hold whose
// end has passed, not yet ended by the redrive sweep, does not keep it.
// holdstore.HoldCopy refuses a copy claimed within dynamo.ClaimLifetime.
// When the condition fails, the copy is read again to tell a hold from a
// copy that is gone; one released in between is claimed again.
func (e *Store) ClaimCopy(ctx context.Context, id, requestID string) (erasure.Claim, error) {
	now := e.now()
	for try := 0; try < claimTries; try++ {
		_, err := e.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(e.Table),
			Key:                 dynamo.Key(id),
			UpdateExpression:    aws.String("SET #erasing = :req, #at = :now"),
			ConditionExpression: aws.String("attribute_exists(#id) AND (attribute_not_exists(#until) OR #until <= :now)"),
			ExpressionAttributeNames: map[string]string{"#erasing": dynamo.AttrErasingRequest, "#at": dynamo.AttrErasingAt,
				"#id": dynamo.AttrID, "#until": dynamo.AttrHeldUntil},
			ExpressionAttributeValues: map[string]types.AttributeValue{":req": &types.AttributeValueMemberS{Value: requestID}, ":now": dynamo.Num(now.Unix())},
		})
		if err == nil {
			return erasure.Claim{}, nil
		}
		if !dynamo.IsConflict(err) {
			return erasure.Claim{}, dynamo.Wrap("claim copy", err)
		}
		out, err := e.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(e.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true),
			ProjectionExpression:     aws.String("#id, #until"),
			ExpressionAttributeNames: map[string]string{"#id": dynamo.AttrID, "#until": dynamo.AttrHeldUntil},
		})
		if err != nil {
			return erasure.Claim{}, dynamo.Wrap("read unclaimed copy", err)
		}
		if out.Item == nil {
			return erasure.Claim{Gone: true}, nil
		}
		if until := heldUntilOf(out.Item); until.After(now) {
			return erasure.Claim{HeldUntil: until}, nil
		}
	}
	return erasure.Claim{}, &dynamo.Error{Op: "claim copy", Class: "conflict", Err: errors.New("the copy's hold kept changing")}
}

func (e *Store) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// DeleteCopies deletes in batches of 25 and retries what DynamoDB left
// unprocessed (throttling), with exponential backoff.
func (e *Store) DeleteCopies(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += batchWriteMax {
		end := min(start+batchWriteMax, len(ids))
		reqs := make([]types.WriteRequest, 0, end-start)
		for _, id := range ids[start:end] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: dynamo.Key(id)}})
		}
		pending := map[string][]types.WriteRequest{e.Table: reqs}
		wait := e.Backoff
		if wait == 0 {
			wait = 50 * time.Millisecond
		}
		for try := 0; len(pending[e.Table]) > 0; try++ {
			if try == maxUnprocessedTry {
				return &dynamo.Error{Op: "delete copies", Class: "throttled", Err: fmt.Errorf("%d deletes still unprocessed", len(pending[e.Table]))}
			}
			if try > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return dynamo.Wrap("delete copies", ctx.Err())
				}
				wait *= 2
			}
			out, err := e.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return dynamo.Wrap("delete copies", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func receiptKey(requestID string) map[string]types.AttributeValue {
	return dynamo.Key(dynamo.ReceiptIDPrefix + requestID)
}

// GetReceipt reads a receipt, or nil.
func (e *Store) GetReceipt(ctx context.Context, requestID string) (*erasure.Receipt, error) {
	out, err := e.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Table), Key: receiptKey(requestID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, dynamo.Wrap("get receipt", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	r := DecodeReceipt(out.Item)
	return &r, nil
}

// DecodeReceipt reads a receipt item.
func DecodeReceipt(it map[string]types.AttributeValue) erasure.Receipt {
	return erasure.Receipt{
		RequestID: dynamo.Str(it[dynamo.AttrRequestID]),
		Source:    dynamo.Str(it[dynamo.AttrSource]),
		Count:     dynamo.Number(it[dynamo.AttrErasedCount]),
		Held:      dynamo.Number(it[dynamo.AttrHeldCount]),
		Files:     dynamo.Number(it[dynamo.AttrErasedFiles]),
		HeldUntil: heldUntilOf(it),
		At:        time.Unix(int64(dynamo.Number(it[dynamo.AttrRequestedAt])), 0).UTC(),
		ExpiresAt: time.Unix(int64(dynamo.Number(it[dynamo.TTLAttribute])), 0).UTC(),
		Complete:  it[dynamo.AttrCompletedAt] != nil,
	}
}

func heldUntilOf(it map[string]types.AttributeValue) time.Time {
	if n := dynamo.Number(it[dynamo.AttrHeldUntil]); n > 0 {
		return time.Unix(int64(n), 0).UTC()
	}
	return time.Time{}
}

// CreateReceipt writes the receipt unless one exists for the request (a
// concurrent delivery of the same message wrote it).
func (e *Store) CreateReceipt(ctx context.Context, r erasure.Receipt) error {
	item := dynamo.ReceiptItem(dynamo.ReceiptIDPrefix, dynamo.KindReceipt, r.RequestID, r.At, r.ExpiresAt, map[string]types.AttributeValue{
		dynamo.AttrSource:      &types.AttributeValueMemberS{Value: r.Source},
		dynamo.AttrErasedCount: dynamo.Num(int64(r.Count)),
		dynamo.AttrHeldCount:   dynamo.Num(int64(r.Held)),
		dynamo.AttrErasedFiles: dynamo.Num(int64(r.Files)),
	})
	if r.Held > 0 {
		item[dynamo.AttrHeldUntil] = dynamo.Num(r.HeldUntil.Unix())
	}
	return dynamo.PutReceipt(ctx, e.Client, e.Table, "create receipt", item)
}

// CompleteReceipt records when the deletes finished.
func (e *Store) CompleteReceipt(ctx context.Context, requestID string, at time.Time) error {
	_, err := e.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.Table),
		Key:                       receiptKey(requestID),
		UpdateExpression:          aws.String("SET #c = :t"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#c": dynamo.AttrCompletedAt, "#id": dynamo.AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": dynamo.Num(at.Unix())},
	})
	if err != nil {
		return dynamo.Wrap("complete receipt", err)
	}
	return nil
}
