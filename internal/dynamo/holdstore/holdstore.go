package holdstore

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/hold"
)

// API is the part of the DynamoDB client holds use.
type API interface {
	dynamodb.QueryAPIClient
	dynamo.GetItemAPI
	dynamo.PutItemAPI
	dynamo.UpdateItemAPI
	dynamo.DeleteItemAPI
}

// holdUpdateTries bounds how often HoldCopy reads a copy that keeps
// changing under it.
const holdUpdateTries = 4

// Store implements hold.Store.
type Store struct {
	Client API
	Table  string
	// Now is the clock that tells a fresh erasure claim from a stale one
	// (dynamo.ClaimLifetime); nil is time.Now.
	Now func() time.Time
}

func (h *Store) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

var _ hold.Store = (*Store)(nil)

// CopyIDs queries the lookup index for every copy of an address.
func (h *Store) CopyIDs(ctx context.Context, lookupKey string) ([]string, error) {
	return dynamo.CopyIDs(ctx, h.Client, h.Table, lookupKey)
}

// CopyExists reads the item and checks that it is a submission.
func (h *Store) CopyExists(ctx context.Context, id string) (bool, error) {
	it, err := h.copyState(ctx, id)
	return it != nil, err
}

// copyState reads what holding a copy needs, or nil when there is no
// submission with that id.
func (h *Store) copyState(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#kind, #exp, #until, #saved, #ids, #erasing, #at"),
		ExpressionAttributeNames: map[string]string{"#kind": dynamo.AttrKind, "#exp": dynamo.TTLAttribute, "#until": dynamo.AttrHeldUntil,
			"#saved": dynamo.AttrHeldExpiresAt, "#ids": dynamo.AttrHoldIDs, "#erasing": dynamo.AttrErasingRequest, "#at": dynamo.AttrErasingAt},
	})
	if err != nil {
		return nil, dynamo.Wrap("read copy", err)
	}
	if out.Item == nil || dynamo.Str(out.Item[dynamo.AttrKind]) != dynamo.KindSubmission {
		return nil, nil
	}
	return out.Item, nil
}

func holdKey(id string) map[string]types.AttributeValue { return dynamo.Key(dynamo.HoldPrefix + id) }

// GetHold reads a hold, or nil.
func (h *Store) GetHold(ctx context.Context, id string) (*hold.Hold, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.Table), Key: holdKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, dynamo.Wrap("get hold", err)
	}
	if out.Item == nil || dynamo.Str(out.Item[dynamo.AttrKind]) != dynamo.KindHold {
		return nil, nil
	}
	it := out.Item
	hd := &hold.Hold{
		ID: id, Reason: dynamo.Str(it[dynamo.AttrHoldReason]), LookupKey: dynamo.Str(it[dynamo.AttrHoldLookupKey]), SubmissionID: dynamo.Str(it[dynamo.AttrHoldSubmissionID]),
		CreatedAt: time.Unix(int64(dynamo.Number(it[dynamo.AttrHoldCreatedAt])), 0).UTC(),
		Until:     time.Unix(int64(dynamo.Number(it[dynamo.AttrHoldUntil])), 0).UTC(),
	}
	if ss, ok := it[dynamo.AttrHoldCopies].(*types.AttributeValueMemberSS); ok {
		hd.Copies = ss.Value
	}
	return hd, nil
}

// PutHold writes the hold; it expires when the hold ends.
func (h *Store) PutHold(ctx context.Context, hd hold.Hold) error {
	item := map[string]types.AttributeValue{
		dynamo.AttrID:            &types.AttributeValueMemberS{Value: dynamo.HoldPrefix + hd.ID},
		dynamo.AttrKind:          &types.AttributeValueMemberS{Value: dynamo.KindHold},
		dynamo.AttrHoldReason:    &types.AttributeValueMemberS{Value: hd.Reason},
		dynamo.AttrHoldCreatedAt: dynamo.Num(hd.CreatedAt.Unix()),
		dynamo.AttrHoldUntil:     dynamo.Num(hd.Until.Unix()),
		dynamo.TTLAttribute:      dynamo.Num(hd.Until.Unix()),
	}
	if len(hd.Copies) > 0 {
		item[dynamo.AttrHoldCopies] = &types.AttributeValueMemberSS{Value: hd.Copies}
	}
	if hd.LookupKey != "" {
		item[dynamo.AttrHoldLookupKey] = &types.AttributeValueMemberS{Value: hd.LookupKey}
	}
	if hd.SubmissionID != "" {
		item[dynamo.AttrHoldSubmissionID] = &types.AttributeValueMemberS{Value: hd.SubmissionID}
	}
	if _, err := h.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.Table), Item: item}); err != nil {
		return dynamo.Wrap("put hold", err)
	}
	// The registry the sweep reads. One map entry per hold, set in one
	// atomic update; the map is created with the first hold.
	_, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(dynamo.HoldRegistryID),
		UpdateExpression:         aws.String("SET #kind = :kind, #ends = if_not_exists(#ends, :empty)"),
		ExpressionAttributeNames: map[string]string{"#kind": dynamo.AttrKind, "#ends": dynamo.AttrHoldEnds},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":kind": &types.AttributeValueMemberS{Value: dynamo.KindHoldRegistry}, ":empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		},
	})
	if err == nil {
		_, err = h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(h.Table), Key: dynamo.Key(dynamo.HoldRegistryID),
			UpdateExpression:          aws.String("SET #ends.#hold = :until"),
			ExpressionAttributeNames:  map[string]string{"#ends": dynamo.AttrHoldEnds, "#hold": hd.ID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":until": dynamo.Num(hd.Until.Unix())},
		})
	}
	if err != nil {
		return dynamo.Wrap("register hold", err)
	}
	return nil
}

// DeleteHold deletes the hold item.
func (h *Store) DeleteHold(ctx context.Context, id string) error {
	if _, err := h.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.Table), Key: holdKey(id)}); err != nil {
		return dynamo.Wrap("delete hold", err)
	}
	_, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(dynamo.HoldRegistryID),
		UpdateExpression:         aws.String("REMOVE #ends.#hold"),
		ConditionExpression:      aws.String("attribute_exists(#ends)"),
		ExpressionAttributeNames: map[string]string{"#ends": dynamo.AttrHoldEnds, "#hold": id},
	})
	if err != nil && !dynamo.IsConflict(err) {
		return dynamo.Wrap("unregister hold", err)
	}
	return nil
}

// HoldCopy reads the copy and writes the hold on condition that it is
// unchanged since: the TTL moves to held_expires_at exactly once, however
// many holds come and go. A copy an erasure has claimed within
// dynamo.ClaimLifetime is not held (false, as for a copy that is gone):
// its files may be deleted already, and the erasure deletes it next
// (erasurestore.ClaimCopy). A stale claim (its erasure failed) is taken
// off, and the hold keeps what is left.
func (h *Store) HoldCopy(ctx context.Context, copyID, holdID string, until time.Time) (bool, error) {
	for try := 0; try < holdUpdateTries; try++ {
		now := h.now()
		it, err := h.copyState(ctx, copyID)
		if err != nil || it == nil || dynamo.Claimed(it, now) {
			return false, err
		}
		u := until.Unix()
		if cur := it[dynamo.AttrHeldUntil]; cur != nil && int64(dynamo.Number(cur)) > u {
			u = int64(dynamo.Number(cur))
		}
		names := map[string]string{"#until": dynamo.AttrHeldUntil, "#ids": dynamo.AttrHoldIDs, "#saved": dynamo.AttrHeldExpiresAt,
			"#erasing": dynamo.AttrErasingRequest, "#at": dynamo.AttrErasingAt}
		values := map[string]types.AttributeValue{
			":u": dynamo.Num(u), ":ids": &types.AttributeValueMemberSS{Value: []string{holdID}},
			":stale": dynamo.Num(now.Add(-dynamo.ClaimLifetime).Unix()),
		}
		// Unless an erasure has claimed the copy since it was read.
		const unclaimed = " AND (attribute_not_exists(#erasing) OR #at <= :stale)"
		in := &dynamodb.UpdateItemInput{TableName: aws.String(h.Table), Key: dynamo.Key(copyID), ExpressionAttributeNames: names, ExpressionAttributeValues: values}
		if saved, ok := it[dynamo.AttrHeldExpiresAt]; ok {
			// Held already: add this hold, keep the later end.
			in.UpdateExpression = aws.String("SET #until = :u ADD #ids :ids REMOVE #erasing, #at")
			values[":saved"] = saved
			in.ConditionExpression = aws.String("#saved = :saved" + unclaimed)
		} else {
			exp, ok := it[dynamo.TTLAttribute]
			if !ok {
				// Never happens for a copy the submit function wrote; if it
				// does, the copy expires when the hold ends.
				exp = dynamo.Num(u)
			}
			names["#exp"] = dynamo.TTLAttribute
			values[":exp"] = exp
			in.UpdateExpression = aws.String("SET #until = :u, #saved = :exp ADD #ids :ids REMOVE #exp, #erasing, #at")
			in.ConditionExpression = aws.String("attribute_not_exists(#saved) AND (attribute_not_exists(#exp) OR #exp = :exp)" + unclaimed)
		}
		_, err = h.Client.UpdateItem(ctx, in)
		if err == nil {
			return true, nil
		}
		if !dynamo.IsConflict(err) {
			return false, dynamo.Wrap("hold copy", err)
		}
		// Changed meanwhile (another hold, a release, an erasure's claim):
		// read again.
	}
	return false, &dynamo.Error{Op: "hold copy", Class: "conflict", Err: errors.New("the copy kept changing")}
}

// ReleaseCopy takes holdID off the copy; with no hold left its TTL comes
// back, otherwise its hold end becomes the latest of the remaining holds'.
func (h *Store) ReleaseCopy(ctx context.Context, copyID, holdID string) error {
	out, err := h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(copyID),
		UpdateExpression:          aws.String("DELETE #ids :ids"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#ids": dynamo.AttrHoldIDs, "#id": dynamo.AttrID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ids": &types.AttributeValueMemberSS{Value: []string{holdID}}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		if dynamo.IsConflict(err) {
			return nil // erased or expired meanwhile: nothing to restore
		}
		return dynamo.Wrap("release copy", err)
	}
	it := out.Attributes
	if rest, ok := it[dynamo.AttrHoldIDs].(*types.AttributeValueMemberSS); ok && len(rest.Value) > 0 {
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
			TableName: aws.String(h.Table), Key: dynamo.Key(copyID),
			UpdateExpression:          aws.String("SET #until = :u"),
			ConditionExpression:       aws.String("attribute_exists(#ids)"),
			ExpressionAttributeNames:  map[string]string{"#until": dynamo.AttrHeldUntil, "#ids": dynamo.AttrHoldIDs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": dynamo.Num(latest)},
		})
		if err != nil && !dynamo.IsConflict(err) {
			return dynamo.Wrap("shorten hold", err)
		}
		return nil
	}
	saved, ok := it[dynamo.AttrHeldExpiresAt]
	if !ok {
		return nil // restored already (the sweep)
	}
	_, err = h.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(copyID),
		UpdateExpression:    aws.String("SET #exp = :saved REMOVE #saved, #until"),
		ConditionExpression: aws.String("#saved = :saved AND attribute_not_exists(#ids)"),
		ExpressionAttributeNames: map[string]string{"#exp": dynamo.TTLAttribute, "#saved": dynamo.AttrHeldExpiresAt,
			"#until": dynamo.AttrHeldUntil, "#ids": dynamo.AttrHoldIDs},
		ExpressionAttributeValues: map[string]types.AttributeValue{":saved": saved},
	})
	if err != nil && !dynamo.IsConflict(err) {
		return dynamo.Wrap("restore expiry", err)
	}
	return nil
}

// Ended reads the registry of hold ends and returns the holds that have
// ended. One small item rather than an index: holds are few, and a table
// gains only one new index per deploy (the export's).
func (h *Store) Ended(ctx context.Context, now time.Time) ([]string, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.Table), Key: dynamo.Key(dynamo.HoldRegistryID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, dynamo.Wrap("read hold registry", err)
	}
	ends, _ := out.Item[dynamo.AttrHoldEnds].(*types.AttributeValueMemberM)
	if ends == nil {
		return nil, nil
	}
	var ended []string
	for id, until := range ends.Value {
		if int64(dynamo.Number(until)) <= now.Unix() {
			ended = append(ended, id)
		}
	}
	sort.Strings(ended)
	return ended, nil
}

var _ hold.FileStore = (*Store)(nil)

// CopyFiles reads what holding a copy's files needs: their keys, whether a
// hold still covers the copy, and its retention in days (its expiry, or
// the one waiting in held_expires_at, less its receipt: the form's
// retention when it was stored). A copy that is gone has no files.
func (h *Store) CopyFiles(ctx context.Context, copyID string) (hold.CopyFiles, error) {
	out, err := h.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(h.Table), Key: dynamo.Key(copyID), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#kind, #files, #recv, #exp, #saved, #ids, #erasing, #at"),
		ExpressionAttributeNames: map[string]string{"#kind": dynamo.AttrKind, "#files": dynamo.AttrFiles, "#recv": dynamo.AttrReceivedAt,
			"#exp": dynamo.TTLAttribute, "#saved": dynamo.AttrHeldExpiresAt, "#ids": dynamo.AttrHoldIDs,
			"#erasing": dynamo.AttrErasingRequest, "#at": dynamo.AttrErasingAt},
	})
	if err != nil {
		return hold.CopyFiles{}, dynamo.Wrap("read copy's files", err)
	}
	it := out.Item
	if it == nil || dynamo.Str(it[dynamo.AttrKind]) != dynamo.KindSubmission || dynamo.Claimed(it, h.now()) {
		// Gone, or going: an erasure has claimed it and is deleting its
		// files; there is nothing to hold.
		return hold.CopyFiles{}, nil
	}
	var cf hold.CopyFiles
	for _, f := range dynamo.DecodeFiles(it[dynamo.AttrFiles]) {
		if f.Key != "" {
			cf.Keys = append(cf.Keys, f.Key)
		}
	}
	ids, _ := it[dynamo.AttrHoldIDs].(*types.AttributeValueMemberSS)
	cf.Held = ids != nil && len(ids.Value) > 0
	exp := dynamo.Number(it[dynamo.TTLAttribute])
	if exp == 0 {
		exp = dynamo.Number(it[dynamo.AttrHeldExpiresAt])
	}
	if recv := dynamo.Number(it[dynamo.AttrReceivedAt]); exp > recv {
		cf.RetentionDays = int(math.Round(float64(exp-recv) / 86400))
	}
	return cf, nil
}
