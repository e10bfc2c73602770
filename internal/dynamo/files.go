package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/internal/submission"
)

// AttrFiles lists a copy's files: where the bucket keeps each, its cleaned
// name, sniffed type and size, and the token of its download link. The
// bytes are in the bucket, never in the table (an item is at most 400 KB).
const AttrFiles = "files"

func encodeFiles(files []submission.File) types.AttributeValue {
	list := make([]types.AttributeValue, len(files))
	for i, f := range files {
		list[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"field": strAV(f.Field), "name": strAV(f.Name), "type": strAV(f.Type),
			"size": num(f.Size), "key": strAV(f.Key), "token": strAV(f.Token),
		}}
	}
	return &types.AttributeValueMemberL{Value: list}
}

// DecodeFiles reads AttrFiles (nil when the copy has none).
func DecodeFiles(v types.AttributeValue) []submission.File {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	files := make([]submission.File, 0, len(l.Value))
	for _, e := range l.Value {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		files = append(files, submission.File{
			Field: str(m.Value["field"]), Name: str(m.Value["name"]), Type: str(m.Value["type"]),
			Size: int64(number(m.Value["size"])), Key: str(m.Value["key"]), Token: str(m.Value["token"]),
		})
	}
	return files
}

// ErasureDetails reads what erasure needs of a copy besides the lookup
// index: its hold end (zero unless held) and its files. Not the lookup
// index's projection: a table's index cannot change its projection in
// place, and the index would then carry every copy's file names.
func ErasureDetails(ctx context.Context, client GetItemAPI, table, id string) (time.Time, []submission.File, error) {
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#until, #files"),
		ExpressionAttributeNames: map[string]string{"#until": AttrHeldUntil, "#files": AttrFiles},
	})
	if err != nil {
		return time.Time{}, nil, wrap("read copy's files", err)
	}
	var until time.Time
	if n := number(out.Item[AttrHeldUntil]); n > 0 {
		until = time.Unix(int64(n), 0).UTC()
	}
	return until, DecodeFiles(out.Item[AttrFiles]), nil
}
