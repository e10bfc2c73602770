package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/disclosure"
)

// FormIndex lists a form's copies by received time (the disclosure export
// between two dates). Keys only: each copy is then read whole.
const FormIndex = "by_form"

// Disclosure receipts: no content, under prefixes of their own.
const (
	KindAccessReceipt    = "access_receipt"
	KindExportReceipt    = "export_receipt"
	AccessReceiptPrefix  = "access-receipt#"
	ExportReceiptPrefix  = "export-receipt#"
	AttrDisclosedBy      = "disclosed_by"
	AttrDisclosureReason = "reason" // on receipts; AttrReason is a held copy's
	AttrSelector         = "selector"
	AttrItemCount        = "item_count"
)

// ExportIAMActions are the DynamoDB actions the operator's export calls:
// Query on the lookup and form indexes, GetItem and PutItem on the table.
var ExportIAMActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}

// DisclosureAPI is the part of the DynamoDB client disclosure uses.
type DisclosureAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Disclosure implements disclosure.Reader and disclosure.Receipts.
type Disclosure struct {
	Client DisclosureAPI
	Table  string
	Now    func() time.Time
}

var (
	_ disclosure.Reader   = (*Disclosure)(nil)
	_ disclosure.Receipts = (*Disclosure)(nil)
)

// ByLookupKey queries the lookup index and reads each copy whole (the
// index carries only a few attributes). A person has few copies.
func (d *Disclosure) ByLookupKey(ctx context.Context, lookupKey string) ([]disclosure.Copy, error) {
	ids, err := queryIDs(ctx, d.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(d.Table),
		IndexName:                 aws.String(LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ProjectionExpression:      aws.String("#id"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrLookupKey, "#id": AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: lookupKey}},
	}, "query lookup index")
	if err != nil {
		return nil, err
	}
	return d.read(ctx, ids)
}

// ByForm queries the form index for copies received in [from, to).
func (d *Disclosure) ByForm(ctx context.Context, formID string, from, to time.Time) ([]disclosure.Copy, error) {
	ids, err := queryIDs(ctx, d.Client, &dynamodb.QueryInput{
		TableName:                aws.String(d.Table),
		IndexName:                aws.String(FormIndex),
		KeyConditionExpression:   aws.String("#f = :f AND #r BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#f": AttrFormID, "#r": AttrReceivedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":f": &types.AttributeValueMemberS{Value: formID}, ":from": num(from.Unix()), ":to": num(to.Unix() - 1),
		},
	}, "query form index")
	if err != nil {
		return nil, err
	}
	return d.read(ctx, ids)
}

// ByID reads one copy, or nil.
func (d *Disclosure) ByID(ctx context.Context, id string) (*disclosure.Copy, error) {
	cs, err := d.read(ctx, []string{id})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

func (d *Disclosure) read(ctx context.Context, ids []string) ([]disclosure.Copy, error) {
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	copies := make([]disclosure.Copy, 0, len(ids))
	for _, id := range ids {
		out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, wrap("read copy", err)
		}
		// Gone since the query, another kind of item, or past its TTL:
		// none of these is a stored copy any more.
		if out.Item == nil || str(out.Item[AttrKind]) != KindSubmission {
			continue
		}
		c := Decode(out.Item)
		if c.Expired(now) {
			continue
		}
		copies = append(copies, disclosure.Copy{Submission: c.Submission, Status: c.Status, HeldUntil: c.HeldUntil})
	}
	return copies, nil
}

// PutReceipt writes an access or export receipt.
func (d *Disclosure) PutReceipt(ctx context.Context, r disclosure.Receipt) error {
	prefix, kind := ExportReceiptPrefix, KindExportReceipt
	if r.Kind == disclosure.KindAccess {
		prefix, kind = AccessReceiptPrefix, KindAccessReceipt
	}
	item := map[string]types.AttributeValue{
		AttrID:          &types.AttributeValueMemberS{Value: prefix + r.ID},
		AttrKind:        &types.AttributeValueMemberS{Value: kind},
		AttrRequestID:   &types.AttributeValueMemberS{Value: r.ID},
		AttrDisclosedBy: &types.AttributeValueMemberS{Value: r.By},
		AttrSelector:    &types.AttributeValueMemberS{Value: r.Selector},
		AttrItemCount:   &types.AttributeValueMemberN{Value: strconv.Itoa(r.Count)},
		AttrRequestedAt: num(r.At.Unix()),
		TTLAttribute:    num(r.ExpiresAt.Unix()),
	}
	if r.Reason != "" {
		item[AttrDisclosureReason] = &types.AttributeValueMemberS{Value: r.Reason}
	}
	_, err := d.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
	})
	if err != nil {
		if isConflict(err) {
			return nil // written by an earlier try of the same request
		}
		return wrap("put disclosure receipt", err)
	}
	return nil
}

// GetDisclosureReceipt reads a receipt by its item id prefix and id, or nil
// (tests and operators checking one).
func (d *Disclosure) GetDisclosureReceipt(ctx context.Context, prefix, id string) (*disclosure.Receipt, error) {
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: key(prefix + id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("get disclosure receipt", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	it := out.Item
	kind := disclosure.KindExport
	if str(it[AttrKind]) == KindAccessReceipt {
		kind = disclosure.KindAccess
	}
	return &disclosure.Receipt{
		ID: str(it[AttrRequestID]), Kind: kind, By: str(it[AttrDisclosedBy]), Reason: str(it[AttrDisclosureReason]),
		Selector: str(it[AttrSelector]), Count: number(it[AttrItemCount]),
		At:        time.Unix(int64(number(it[AttrRequestedAt])), 0).UTC(),
		ExpiresAt: time.Unix(int64(number(it[TTLAttribute])), 0).UTC(),
	}, nil
}
