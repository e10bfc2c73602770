package dynamo

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/hold"
)

// Legal holds. On a held copy expires_at is removed (DynamoDB's TTL never
// deletes it) and kept in held_expires_at; hold_ids names the holds on it
// and held_until is the latest of their ends. A hold is an item under
// HoldPrefix with no content; it expires with the hold. The registry item
// maps every hold to its end, for the sweep that ends holds on their date.
const (
	AttrHeldUntil     = "held_until"
	AttrHeldExpiresAt = "held_expires_at"
	AttrHoldIDs       = "hold_ids"

	KindHoldRegistry = "legal_hold_registry"
	HoldRegistryID   = "holds#registry"
	AttrHoldEnds     = "hold_ends"

	KindHold             = "legal_hold"
	HoldPrefix           = "hold#"
	AttrHoldReason       = "hold_reason"
	AttrHoldCreatedAt    = "hold_created_at"
	AttrHoldUntil        = "hold_until"
	AttrHoldLookupKey    = "hold_lookup_key"
	AttrHoldSubmissionID = "hold_submission_id"
	AttrHoldCopies       = "hold_copies"
	holdUpdateTries      = 4
)

// HoldIAMActions are the DynamoDB actions the operator's hold and release
// commands call.
var HoldIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}

// HoldAPI is the part of the DynamoDB client holds use.
type HoldAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Holds implements hold.Store.
type Holds struct {
	Client HoldAPI
	Table  string
}

var _ hold.Store = (*Holds)(nil)

// CopyIDs queries the lookup index for every copy of an address.
func (h *Holds) CopyIDs(ctx context.Context, lookupKey string) ([]string, error) {
	return queryIDs(ctx, h.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(h.Table),
		IndexName:                 aws.String(LookupIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ProjectionExpression:      aws.String("#id"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrLookupKey, "#id": AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: lookupKey}},
	}, "query lookup index")
}

func queryIDs(ctx context.Context, client dynamodb.QueryAPIClient, in *dynamodb.QueryInput, op string) ([]string, error) {
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

// CopyExists reads the item and checks that it is a submission.
func (h *Holds) CopyExists(ctx context.Context, id string) (bool, error) {
	it, err := h.copyState(ctx, id)
	return it != nil, err
}

// copyState reads what holding a copy needs, or nil when there is no
// submission with that id.
func (h *Holds) copyState(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(h.Table), Key: key(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#kind, #exp, #until, #saved, #ids"),
		ExpressionAttributeNames: map[string]string{"#kind": AttrKind, "#exp": TTLAttribute, "#until": AttrHeldUntil,
			"#saved": AttrHeldExpiresAt, "#ids": AttrHoldIDs},
	})
	if err != nil {
		return nil, wrap("read copy", err)
	}
	if out.Item == nil || str(out.Item[AttrKind]) != KindSubmission {
		return nil, nil
	}
	return out.Item, nil
}

func holdKey(id string) map[string]types.AttributeValue { return key(HoldPrefix + id) }

// GetHold reads a hold, or nil.
func (h *Holds) GetHold(ctx context.Context, id string) (*hold.Hold, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.Table), Key: holdKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("get hold", err)
	}
	if out.Item == nil || str(out.Item[AttrKind]) != KindHold {
		return nil, nil
	}
	it := out.Item
	hd := &hold.Hold{
		ID: id, Reason: str(it[AttrHoldReason]), LookupKey: str(it[AttrHoldLookupKey]), SubmissionID: str(it[AttrHoldSubmissionID]),
		CreatedAt: time.Unix(int64(number(it[AttrHoldCreatedAt])), 0).UTC(),
		Until:     time.Unix(int64(number(it[AttrHoldUntil])), 0).UTC(),
	}
	if ss, ok := it[AttrHoldCopies].(*types.AttributeValueMemberSS); ok {
		hd.Copies = ss.Value
	}
	return hd, nil
}

// PutHold writes the hold; it expires when the hold ends.
func (h *Holds) PutHold(ctx context.Context, hd hold.Hold) error {
	item := map[string]types.AttributeValue{
		AttrID:            &types.AttributeValueMemberS{Value: HoldPrefix + hd.ID},
		AttrKind:          &types.AttributeValueMemberS{Value: KindHold},
		AttrHoldReason:    &types.AttributeValueMemberS{Value: hd.Reason},
		AttrHoldCreatedAt: num(hd.CreatedAt.Unix()),
		AttrHoldUntil:     num(hd.Until.Unix()),
		TTLAttribute:      num(hd.Until.Unix()),
	}
	if len(hd.Copies) > 0 {
		item[AttrHoldCopies] = &types.AttributeValueMemberSS{Value: hd.Copies}
	}
	if hd.LookupKey != "" {
		item[AttrHoldLookupKey] = &types.AttributeValueMemberS{Value: hd.LookupKey}
	}
	if hd.SubmissionID != "" {
		item[AttrHoldSubmissionID] = &types.AttributeValueMemberS{Value: hd.SubmissionID}
	}
	if _, err := h.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.Table), Item: item}); err != nil {
		return wrap("put hold", err)
	}
	// The registry the sweep reads. One map entry per hold, set in one
	// atomic update; the map is created with the first hold.
	_, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: key(HoldRegistryID),
		UpdateExpression:         aws.String("SET #kind = :kind, #ends = if_not_exists(#ends, :empty)"),
		ExpressionAttributeNames: map[string]string{"#kind": AttrKind, "#ends": AttrHoldEnds},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":kind": &types.AttributeValueMemberS{Value: KindHoldRegistry}, ":empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		},
	})
	if err == nil {
		_, err = h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(h.Table), Key: key(HoldRegistryID),
			UpdateExpression:          aws.String("SET #ends.#hold = :until"),
			ExpressionAttributeNames:  map[string]string{"#ends": AttrHoldEnds, "#hold": hd.ID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":until": num(hd.Until.Unix())},
		})
	}
	if err != nil {
		return wrap("register hold", err)
	}
	return nil
}

// DeleteHold deletes the hold item.
func (h *Holds) DeleteHold(ctx context.Context, id string) error {
	if _, err := h.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.Table), Key: holdKey(id)}); err != nil {
		return wrap("delete hold", err)
	}
	_, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: key(HoldRegistryID),
		UpdateExpression:         aws.String("REMOVE #ends.#hold"),
		ConditionExpression:      aws.String("attribute_exists(#ends)"),
		ExpressionAttributeNames: map[string]string{"#ends": AttrHoldEnds, "#hold": id},
	})
	if err != nil && !isConflict(err) {
		return wrap("unregister hold", err)
	}
	return nil
}

// HoldCopy reads the copy and writes the hold on condition that it is
// unchanged since: the TTL moves to held_expires_at exactly once, however
// many holds come and go.
func (h *Holds) HoldCopy(ctx context.Context, copyID, holdID string, until time.Time) (bool, error) {
	for try := 0; try < holdUpdateTries; try++ {
		it, err := h.copyState(ctx, copyID)
		if err != nil || it == nil {
			return false, err
		}
		u := until.Unix()
		if cur := it[AttrHeldUntil]; cur != nil && int64(number(cur)) > u {
			u = int64(number(cur))
		}
		names := map[string]string{"#until": AttrHeldUntil, "#ids": AttrHoldIDs, "#saved": AttrHeldExpiresAt}
		values := map[string]types.AttributeValue{
			":u": num(u), ":ids": &types.AttributeValueMemberSS{Value: []string{holdID}},
		}
		in := &dynamodb.UpdateItemInput{TableName: aws.String(h.Table), Key: key(copyID), ExpressionAttributeNames: names, ExpressionAttributeValues: values}
		if saved, ok := it[AttrHeldExpiresAt]; ok {
			// Held already: add this hold, keep the later end.
			in.UpdateExpression = aws.String("SET #until = :u ADD #ids :ids")
			values[":saved"] = saved
			in.ConditionExpression = aws.String("#saved = :saved")
		} else {
			exp, ok := it[TTLAttribute]
			if !ok {
				// Never happens for a copy the submit function wrote; if it
				// does, the copy expires when the hold ends.
				exp = num(u)
			}
			names["#exp"] = TTLAttribute
			values[":exp"] = exp
			in.UpdateExpression = aws.String("SET #until = :u, #saved = :exp ADD #ids :ids REMOVE #exp")
			in.ConditionExpression = aws.String("attribute_not_exists(#saved) AND (attribute_not_exists(#exp) OR #exp = :exp)")
		}
		_, err = h.Client.UpdateItem(ctx, in)
		if err == nil {
			return true, nil
		}
		if !isConflict(err) {
			return false, wrap("hold copy", err)
		}
		// Changed meanwhile (another hold, a release, erasure): read again.
	}
	return false, &Error{Op: "hold copy", Class: "conflict", Err: errors.New("the copy kept changing")}
}

// ReleaseCopy takes holdID off the copy; with no hold left its TTL comes
// back, otherwise its hold end becomes the latest of the remaining holds'.
func (h *Holds) ReleaseCopy(ctx context.Context, copyID, holdID string) error {
	out, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: key(copyID),
		UpdateExpression:          aws.String("DELETE #ids :ids"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#ids": AttrHoldIDs, "#id": AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ids": &types.AttributeValueMemberSS{Value: []string{holdID}}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		if isConflict(err) {
			return nil // erased or expired meanwhile: nothing to restore
		}
		return wrap("release copy", err)
	}
	it := out.Attributes
	if rest, ok := it[AttrHoldIDs].(*types.AttributeValueMemberSS); ok && len(rest.Value) > 0 {
		var latest int64
		for _, id := range rest.Value {
			other, err := h.GetHold(ctx, id)
			if err != nil {
				return err
			}
			if other != nil && other.Until.Unix() > latest {
				latest = other.Until.Unix()
			}
		}
		if latest == 0 {
			// The other holds are gone: the sweep restores the copy.
			latest = time.Now().Unix()
		}
		_, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(h.Table), Key: key(copyID),
			UpdateExpression:          aws.String("SET #until = :u"),
			ConditionExpression:       aws.String("attribute_exists(#ids)"),
			ExpressionAttributeNames:  map[string]string{"#until": AttrHeldUntil, "#ids": AttrHoldIDs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": num(latest)},
		})
		if err != nil && !isConflict(err) {
			return wrap("shorten hold", err)
		}
		return nil
	}
	saved, ok := it[AttrHeldExpiresAt]
	if !ok {
		return nil // restored already (the sweep)
	}
	_, err = h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: key(copyID),
		UpdateExpression:    aws.String("SET #exp = :saved REMOVE #saved, #until"),
		ConditionExpression: aws.String("#saved = :saved AND attribute_not_exists(#ids)"),
		ExpressionAttributeNames: map[string]string{"#exp": TTLAttribute, "#saved": AttrHeldExpiresAt,
			"#until": AttrHeldUntil, "#ids": AttrHoldIDs},
		ExpressionAttributeValues: map[string]types.AttributeValue{":saved": saved},
	})
	if err != nil && !isConflict(err) {
		return wrap("restore expiry", err)
	}
	return nil
}

// Ended reads the registry of hold ends and returns the holds that have
// ended. One small item rather than an index: holds are few, and a table
// gains only one new index per deploy (the export's).
func (h *Holds) Ended(ctx context.Context, now time.Time) ([]string, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.Table), Key: key(HoldRegistryID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("read hold registry", err)
	}
	ends, _ := out.Item[AttrHoldEnds].(*types.AttributeValueMemberM)
	if ends == nil {
		return nil, nil
	}
	var ended []string
	for id, until := range ends.Value {
		if int64(number(until)) <= now.Unix() {
			ended = append(ended, id)
		}
	}
	sort.Strings(ended)
	return ended, nil
}
