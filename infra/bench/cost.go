package main

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// List prices, AWS region us-east-1 (N. Virginia), on demand, free tiers
// left out, as published on the AWS pricing pages in 2025 (Lambda and HTTP
// API unchanged since 2021, DynamoDB on-demand after the 1 November 2024
// cut, SES since 2011). eu-north-1 may differ by a few percent; look them up
// again before quoting a price to anyone.
const (
	pricesAsOf           = "us-east-1 list prices, 2025"
	priceLambdaRequest   = 0.20 / 1e6   // USD per request
	priceLambdaGBSecond  = 0.0000133334 // USD per GB-second, arm64, first 7.5 billion GB-s a month
	priceHTTPAPIRequest  = 1.00 / 1e6   // USD per request up to 512 KB, first 300 million a month
	priceDynamoWriteUnit = 0.625 / 1e6  // USD per on-demand write request unit
	priceSESMessage      = 0.10 / 1000  // USD per email sent from Lambda
)

// submissionCost is what one accepted submission costs. It is built from
// what the run measured: the mean billed duration of the submit function and
// the items it wrote (for their write units, indexes included).
type submissionCost struct {
	billed        time.Duration
	writeUnits    float64
	lambda, gbsec float64 // USD
	api, dynamo   float64
	ses           float64
}

func (c submissionCost) total() float64 { return c.lambda + c.gbsec + c.api + c.dynamo + c.ses }

// costOf prices one submission: one API request, one Lambda invoke of
// billed duration at memoryMB, the write units of every write (the copy,
// its sent mark, the two rate counters, the idempotency marker and its
// outcome), and one email.
func costOf(billed time.Duration, memoryMB int, writeUnits float64) submissionCost {
	gbs := float64(memoryMB) / 1024 * billed.Seconds()
	return submissionCost{
		billed: billed, writeUnits: writeUnits,
		lambda: priceLambdaRequest, gbsec: gbs * priceLambdaGBSecond,
		api: priceHTTPAPIRequest, dynamo: writeUnits * priceDynamoWriteUnit, ses: priceSESMessage,
	}
}

func (c submissionCost) String() string {
	per := func(usd float64) string { return fmt.Sprintf("$%.4f", usd*1e6) }
	return fmt.Sprintf("cost per million submissions (%s): %s = Lambda requests %s + Lambda %v mean billed × %d MB arm64 %s + HTTP API %s + DynamoDB %.0f write units %s + SES %s",
		pricesAsOf, per(c.total()), per(c.lambda), c.billed, memoryMB, per(c.gbsec), per(c.api), c.writeUnits, per(c.dynamo), per(c.ses))
}

// writeUnits is what DynamoDB charges for writing before → after (before
// nil for a new item): one unit per started KB of the larger version in the
// table, and for each global index one per started KB of the entry it puts
// or deletes. An index entry is rewritten only when its key or a projected
// attribute changes.
func writeUnits(before, after map[string]types.AttributeValue, table *dynamodb.CreateTableInput) float64 {
	units := kbUnits(max(itemSize(before), itemSize(after)))
	tableKeys := keyNames(table.KeySchema)
	for _, g := range table.GlobalSecondaryIndexes {
		old := indexEntry(before, tableKeys, g)
		cur := indexEntry(after, tableKeys, g)
		switch {
		case old == nil && cur == nil:
		case cur == nil:
			units += kbUnits(itemSize(old))
		case old == nil || !sameEntry(old, cur):
			units += kbUnits(itemSize(cur))
			if old != nil && !sameKey(old, cur, keyNames(g.KeySchema)) {
				units += kbUnits(itemSize(old)) // a moved entry is a delete and a put
			}
		}
	}
	return float64(units)
}

func kbUnits(size int) int { return max(1, int(math.Ceil(float64(size)/1024))) }

func keyNames(ks []types.KeySchemaElement) []string {
	var names []string
	for _, k := range ks {
		names = append(names, aws.ToString(k.AttributeName))
	}
	return names
}

// indexEntry is item as the index g holds it, or nil when the item lacks
// one of g's key attributes (sparse indexes).
func indexEntry(item map[string]types.AttributeValue, tableKeys []string, g types.GlobalSecondaryIndex) map[string]types.AttributeValue {
	if item == nil {
		return nil
	}
	entry := map[string]types.AttributeValue{}
	for _, k := range keyNames(g.KeySchema) {
		v, ok := item[k]
		if !ok {
			return nil
		}
		entry[k] = v
	}
	for _, k := range tableKeys {
		entry[k] = item[k]
	}
	switch g.Projection.ProjectionType {
	case types.ProjectionTypeAll:
		return item
	case types.ProjectionTypeInclude:
		for _, k := range g.Projection.NonKeyAttributes {
			if v, ok := item[k]; ok {
				entry[k] = v
			}
		}
	}
	return entry
}

func sameKey(a, b map[string]types.AttributeValue, keys []string) bool {
	for _, k := range keys {
		if render(a[k]) != render(b[k]) {
			return false
		}
	}
	return true
}

func sameEntry(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if render(v) != render(b[k]) {
			return false
		}
	}
	return true
}

// render prints a value for comparison.
func render(v types.AttributeValue) string { return fmt.Sprintf("%#v", v) }

// itemSize follows DynamoDB's item size rules: each attribute name's UTF-8
// length plus its value's size; strings by UTF-8 length, numbers about one
// byte per two significant digits plus one, booleans and nulls one byte,
// lists and maps 3 bytes plus one byte and the size of each element (and,
// for maps, each key's length).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(s), "0")
	return (utf8.RuneCountInString(digits)+1)/2 + 1
}

// What files add (S3 Standard and SES data, us-east-1 list prices, 2025).
const (
	priceS3Put       = 0.005 / 1000 // USD per PUT, COPY, POST or LIST request
	priceS3Get       = 0.0004 / 1000
	priceS3GBMonth   = 0.023 // USD per GB-month, first 50 TB
	priceSESDataGB   = 0.12  // USD per GB of attachments sent
	typicalFileBytes = 1 << 20
	typicalRetention = 30 // days: the default retention
)

// attachmentCost is what one file of size bytes adds to a submission kept
// retentionDays: one PUT, its storage until the lifecycle rule deletes it,
// the delete itself (lifecycle expiration is free), one GET should redrive
// attach it again (counted: the worst case), and the bytes SES sends.
type attachmentCost struct {
	size          int
	days          int
	put, get, gbm float64
	ses           float64
}

func costOfAttachment(size, retentionDays int) attachmentCost {
	gb := float64(size) / (1 << 30)
	return attachmentCost{size: size, days: retentionDays,
		put: priceS3Put, get: priceS3Get, gbm: gb * float64(retentionDays) / 30 * priceS3GBMonth, ses: gb * priceSESDataGB}
}

func (c attachmentCost) total() float64 { return c.put + c.get + c.gbm + c.ses }

func (c attachmentCost) String() string {
	per := func(usd float64) string { return fmt.Sprintf("$%.2f", usd*1e6) }
	return fmt.Sprintf("cost per million %d KB attachments kept %d days (%s): %s = S3 PUT %s + GET (redrive) %s + storage %s + SES attachment data %s",
		c.size>>10, c.days, pricesAsOf, per(c.total()), per(c.put), per(c.get), per(c.gbm), per(c.ses))
}
