package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/erasure"
)

// Receipt items live in the same table under their own id prefix; they
// carry no lookup key and no pending flag, so neither index sees them.
const (
	KindReceipt       = "erasure_receipt"
	ReceiptIDPrefix   = "receipt#"
	receiptPrefix     = ReceiptIDPrefix
	AttrRequestID     = "request_id"
	AttrSource        = "source"
	AttrErasedCount   = "erased_count"
	AttrRequestedAt   = "requested_at"
	AttrCompletedAt   = "completed_at"
	AttrHeldCount     = "held_count"
	AttrErasedFiles   = "erased_files"
	batchWriteMax     = 25
	maxUnprocessedTry = 8
)

// EraseIAMActions are the DynamoDB actions the erase function calls.
var EraseIAMActions = []string{"dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}

// ErasureAPI is the part of the DynamoDB client erasure uses.
type ErasureAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Erasure implements erasure's Finder, Deleter and Receipts.
type Erasure struct {
	Client ErasureAPI
	Table  string
	// Backoff is the first wait before retrying unprocessed deletes.
	Backoff time.Duration
}

var (
	_ erasure.Finder   = (*Erasure)(nil)
	_ erasure.Deleter  = (*Erasure)(nil)
	_ erasure.Receipts = (*Erasure)(nil)
)

// FindByLookupKey queries the lookup index, every page, and reads each
// copy's files and hold end. The cost follows the person's number of
// copies, not the table's size.
func (e *Erasure) FindByLookupKey(ctx context.Context, key string) ([]erasure.Copy, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(e.Table),
		IndexName:                 aws.String(LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrLookupKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: key}},
	}
	var copies []erasure.Copy
	p := dynamodb.NewQueryPaginator(e.Client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("query lookup index", err)
		}
		for _, it := range out.Items {
			c := erasure.Copy{
				ID:         str(it[AttrID]),
				FormID:     str(it[AttrFormID]),
				ReceivedAt: time.Unix(int64(number(it[AttrReceivedAt])), 0).UTC(),
			}
			// The index carries neither the copy's files nor, for a copy
			// under a legal hold (its TTL lifted), the hold's end: the item
			// does. One read per copy; a person has few.
			if c.HeldUntil, c.Files, err = erasureDetails(ctx, e.Client, e.Table, c.ID); err != nil {
				return nil, err
			}
			copies = append(copies, c)
		}
	}
	return copies, nil
}

// DeleteCopies deletes in batches of 25 and retries what DynamoDB left
// unprocessed (throttling), with exponential backoff.
func (e *Erasure) DeleteCopies(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += batchWriteMax {
		end := min(start+batchWriteMax, len(ids))
		reqs := make([]types.WriteRequest, 0, end-start)
		for _, id := range ids[start:end] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(id)}})
		}
		pending := map[string][]types.WriteRequest{e.Table: reqs}
		wait := e.Backoff
		if wait == 0 {
			wait = 50 * time.Millisecond
		}
		for try := 0; len(pending[e.Table]) > 0; try++ {
			if try == maxUnprocessedTry {
				return &Error{Op: "delete copies", Class: "throttled", Err: fmt.Errorf("%d deletes still unprocessed", len(pending[e.Table]))}
			}
			if try > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return wrap("delete copies", ctx.Err())
				}
				wait *= 2
			}
			out, err := e.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return wrap("delete copies", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func receiptKey(requestID string) map[string]types.AttributeValue {
	return key(receiptPrefix + requestID)
}

// GetReceipt reads a receipt, or nil.
func (e *Erasure) GetReceipt(ctx context.Context, requestID string) (*erasure.Receipt, error) {
	out, err := e.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Table), Key: receiptKey(requestID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("get receipt", err)
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
		RequestID: str(it[AttrRequestID]),
		Source:    str(it[AttrSource]),
		Count:     number(it[AttrErasedCount]),
		Held:      number(it[AttrHeldCount]),
		Files:     number(it[AttrErasedFiles]),
		HeldUntil: heldUntilOf(it),
		At:        time.Unix(int64(number(it[AttrRequestedAt])), 0).UTC(),
		ExpiresAt: time.Unix(int64(number(it[TTLAttribute])), 0).UTC(),
		Complete:  it[AttrCompletedAt] != nil,
	}
}

func heldUntilOf(it map[string]types.AttributeValue) time.Time {
	if n := number(it[AttrHeldUntil]); n > 0 {
		return time.Unix(int64(n), 0).UTC()
	}
	return time.Time{}
}

// CreateReceipt writes the receipt unless one exists for the request.
func (e *Erasure) CreateReceipt(ctx context.Context, r erasure.Receipt) error {
	item := map[string]types.AttributeValue{
		AttrID:          &types.AttributeValueMemberS{Value: receiptPrefix + r.RequestID},
		AttrKind:        &types.AttributeValueMemberS{Value: KindReceipt},
		AttrRequestID:   &types.AttributeValueMemberS{Value: r.RequestID},
		AttrSource:      &types.AttributeValueMemberS{Value: r.Source},
		AttrErasedCount: &types.AttributeValueMemberN{Value: strconv.Itoa(r.Count)},
		AttrRequestedAt: num(r.At.Unix()),
		TTLAttribute:    num(r.ExpiresAt.Unix()),
		AttrHeldCount:   &types.AttributeValueMemberN{Value: strconv.Itoa(r.Held)},
		AttrErasedFiles: &types.AttributeValueMemberN{Value: strconv.Itoa(r.Files)},
	}
	if r.Held > 0 {
		item[AttrHeldUntil] = num(r.HeldUntil.Unix())
	}
	_, err := e.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(e.Table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
	})
	if err != nil {
		if e, ok := wrap("", err).(*Error); ok && e.Class == "conflict" {
			return nil // a concurrent delivery of the same message wrote it
		}
		return wrap("create receipt", err)
	}
	return nil
}

// CompleteReceipt records when the deletes finished.
func (e *Erasure) CompleteReceipt(ctx context.Context, requestID string, at time.Time) error {
	_, err := e.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.Table),
		Key:                       receiptKey(requestID),
		UpdateExpression:          aws.String("SET #c = :t"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#c": AttrCompletedAt, "#id": AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": num(at.Unix())},
	})
	if err != nil {
		return wrap("complete receipt", err)
	}
	return nil
}
