package disclosurestore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo"
)

// API is the part of the DynamoDB client disclosure uses.
type API interface {
	dynamodb.QueryAPIClient
	dynamo.GetItemAPI
	dynamo.PutItemAPI
}

// Store implements disclosure.Reader and disclosure.Receipts.
type Store struct {
	Client API
	Table  string
	Now    func() time.Time
}

var (
	_ disclosure.Reader   = (*Store)(nil)
	_ disclosure.Receipts = (*Store)(nil)
)

// ByLookupKey queries the lookup index and reads each copy whole (the
// index carries only a few attributes). A person has few copies.
func (d *Store) ByLookupKey(ctx context.Context, lookupKey string) ([]disclosure.Copy, error) {
	ids, err := dynamo.CopyIDs(ctx, d.Client, d.Table, lookupKey)
	if err != nil {
		return nil, err
	}
	return d.read(ctx, ids)
}

// ByForm queries the form index for copies received in [from, to).
func (d *Store) ByForm(ctx context.Context, formID string, from, to time.Time) ([]disclosure.Copy, error) {
	ids, err := dynamo.QueryIDs(ctx, d.Client, &dynamodb.QueryInput{
		TableName:                aws.String(d.Table),
		IndexName:                aws.String(dynamo.FormIndex),
		KeyConditionExpression:   aws.String("#f = :f AND #r BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#f": dynamo.AttrFormID, "#r": dynamo.AttrReceivedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":f": &types.AttributeValueMemberS{Value: formID}, ":from": dynamo.Num(from.Unix()), ":to": dynamo.Num(to.Unix() - 1),
		},
	}, "query form index")
	if err != nil {
		return nil, err
	}
	return d.read(ctx, ids)
}

// ByID reads one copy, or nil.
func (d *Store) ByID(ctx context.Context, id string) (*disclosure.Copy, error) {
	cs, err := d.read(ctx, []string{id})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

func (d *Store) read(ctx context.Context, ids []string) ([]disclosure.Copy, error) {
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	copies := make([]disclosure.Copy, 0, len(ids))
	for _, id := range ids {
		out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, dynamo.Wrap("read copy", err)
		}
		// Gone since the query, another kind of item, or past its TTL:
		// none of these is a stored copy any more.
		if out.Item == nil || dynamo.Str(out.Item[dynamo.AttrKind]) != dynamo.KindSubmission {
			continue
		}
		c := dynamo.Decode(out.Item)
		if c.Expired(now) {
			continue
		}
		copies = append(copies, disclosure.Copy{Submission: c.Submission, Status: c.Status, HeldUntil: c.HeldUntil})
	}
	return copies, nil
}

// PutReceipt writes an access or export receipt, unless an earlier try of
// the same request wrote it.
func (d *Store) PutReceipt(ctx context.Context, r disclosure.Receipt) error {
	prefix, kind := dynamo.ExportReceiptPrefix, dynamo.KindExportReceipt
	if r.Kind == disclosure.KindAccess {
		prefix, kind = dynamo.AccessReceiptPrefix, dynamo.KindAccessReceipt
	}
	item := dynamo.ReceiptItem(prefix, kind, r.ID, r.At, r.ExpiresAt, map[string]types.AttributeValue{
		dynamo.AttrDisclosedBy: &types.AttributeValueMemberS{Value: r.By},
		dynamo.AttrSelector:    &types.AttributeValueMemberS{Value: r.Selector},
		dynamo.AttrItemCount:   dynamo.Num(int64(r.Count)),
	})
	if r.Reason != "" {
		item[dynamo.AttrDisclosureReason] = &types.AttributeValueMemberS{Value: r.Reason}
	}
	return dynamo.PutReceipt(ctx, d.Client, d.Table, "put disclosure receipt", item)
}

// GetDisclosureReceipt reads a receipt by its item id prefix and id, or nil
// (tests and operators checking one).
func (d *Store) GetDisclosureReceipt(ctx context.Context, prefix, id string) (*disclosure.Receipt, error) {
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: dynamo.Key(prefix + id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, dynamo.Wrap("get disclosure receipt", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	it := out.Item
	kind := disclosure.KindExport
	if dynamo.Str(it[dynamo.AttrKind]) == dynamo.KindAccessReceipt {
		kind = disclosure.KindAccess
	}
	return &disclosure.Receipt{
		ID: dynamo.Str(it[dynamo.AttrRequestID]), Kind: kind, By: dynamo.Str(it[dynamo.AttrDisclosedBy]), Reason: dynamo.Str(it[dynamo.AttrDisclosureReason]),
		Selector: dynamo.Str(it[dynamo.AttrSelector]), Count: dynamo.Number(it[dynamo.AttrItemCount]),
		At:        time.Unix(int64(dynamo.Number(it[dynamo.AttrRequestedAt])), 0).UTC(),
		ExpiresAt: time.Unix(int64(dynamo.Number(it[dynamo.TTLAttribute])), 0).UTC(),
	}, nil
}
