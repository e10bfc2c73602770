package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/submission"
)

// Uploads implements submission.Uploads.
type Uploads struct {
	Client MarkerAPI
	Table  string
}

// Direct uploads are recorded in the same table under their own id prefix,
// with the TTL of submission.UploadRecordTTL: the form, the field, the
// declared name, size and type, until when the id may be posted, and who
// claimed it. No lookup key and no pending flag, so neither index sees
// them. A claimed record is never claimed again: the id is single use.
const (
	KindUpload       = "upload"
	UploadPrefix     = "upload#"
	AttrField        = "field"
	AttrName         = "name"
	AttrType         = "type"
	AttrSize         = "size"
	AttrClaimUntil   = "claim_until"
	AttrClaimedBy    = "claimed_by" // and AttrClaimedAt, as redrive's claims
	uploadsCondition = "attribute_exists(#id) AND #form = :form AND attribute_not_exists(#by) AND #until > :now"
)

var _ submission.Uploads = (*Uploads)(nil)

// Create records u, refusing an id that exists.
func (t *Uploads) Create(ctx context.Context, u submission.Upload) error {
	_, err := t.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.Table),
		Item: map[string]types.AttributeValue{
			AttrID:         strAV(UploadPrefix + u.ID),
			AttrKind:       strAV(KindUpload),
			AttrFormID:     strAV(u.FormID),
			AttrField:      strAV(u.Field),
			AttrName:       strAV(u.Name),
			AttrType:       strAV(u.Type),
			AttrSize:       num(u.Size),
			AttrClaimUntil: num(u.ClaimUntil.Unix()),
			TTLAttribute:   num(u.ExpiresAt.Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
	})
	if err != nil {
		return wrap("record upload", err)
	}
	return nil
}

// Claim takes the record with one conditional UpdateItem: of two posts
// with the same id at the same moment exactly one gets it. A record past
// its claim time counts as absent, whether or not TTL has removed it.
func (t *Uploads) Claim(ctx context.Context, id, formID, claimant string, now time.Time) (*submission.Upload, error) {
	out, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(t.Table),
		Key:                 Key(UploadPrefix + id),
		UpdateExpression:    aws.String("SET #by = :by, #at = :now"),
		ConditionExpression: aws.String(uploadsCondition),
		ExpressionAttributeNames: map[string]string{
			"#id": AttrID, "#form": AttrFormID, "#by": AttrClaimedBy, "#until": AttrClaimUntil, "#at": AttrClaimedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":form": strAV(formID), ":by": strAV(claimant), ":now": num(now.Unix()),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if IsConflict(err) {
		return nil, submission.ErrUploadInvalid
	}
	if err != nil {
		return nil, wrap("claim upload", err)
	}
	it := out.Attributes
	return &submission.Upload{
		ID: id, FormID: str(it[AttrFormID]), Field: str(it[AttrField]), Name: str(it[AttrName]), Type: str(it[AttrType]),
		Size:       int64(number(it[AttrSize])),
		ClaimUntil: time.Unix(int64(number(it[AttrClaimUntil])), 0), ExpiresAt: time.Unix(int64(number(it[TTLAttribute])), 0),
	}, nil
}

// Forget removes the declared name from a record claimant holds.
func (t *Uploads) Forget(ctx context.Context, id, claimant string) error {
	return t.claimants(ctx, id, claimant, "REMOVE #name", map[string]string{"#name": AttrName}, "forget upload name")
}

// Release removes the claim if it is still claimant's.
func (t *Uploads) Release(ctx context.Context, id, claimant string) error {
	return t.claimants(ctx, id, claimant, "REMOVE #by, #at", map[string]string{"#at": AttrClaimedAt}, "release upload")
}

// claimants makes update to the record of id if claimant holds it; a
// record claimant no longer holds is left alone, and that is no error.
func (t *Uploads) claimants(ctx context.Context, id, claimant, update string, names map[string]string, op string) error {
	names["#by"] = AttrClaimedBy
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.Table),
		Key:                       Key(UploadPrefix + id),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#by = :by"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":by": strAV(claimant)},
	})
	if err != nil && !IsConflict(err) {
		return wrap(op, err)
	}
	return nil
}
