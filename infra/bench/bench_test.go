package main

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/config"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for p, want := range map[float64]time.Duration{50: 5, 99: 10, 10: 1, 11: 2, 100: 10} {
		if got := percentile(ds, p); got != want {
			t.Errorf("percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if ds[0] != 5 {
		t.Error("percentile sorted its input in place")
	}
}

func TestParseBenchmarks(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkSubmitJSON 	   44893	     24008 ns/op	     24248 cpu-ns/op	   14995 B/op	      96 allocs/op
BenchmarkSubmitJSON 	   53094	     30000 ns/op	     25000 cpu-ns/op	   14995 B/op	      96 allocs/op
BenchmarkSubmitJSON 	   53094	     90000 ns/op	     29000 cpu-ns/op	   14995 B/op	      96 allocs/op
BenchmarkSubmitForm-2 	   46870	     24911 ns/op	   15642 B/op	     101 allocs/op
BenchmarkOther 	   1	     1 ns/op	   1 B/op	     1 allocs/op
PASS
`)
	got, err := parseBenchmarks(out, map[string]string{"BenchmarkSubmitJSON": "submit", "BenchmarkSubmitForm": "submit_form"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"submit_cpu_ns_per_op": 25000, "submit_bytes_per_op": 14995, "submit_allocs_per_op": 96,
		// Without cpu-ns/op, ns/op is what there is.
		"submit_form_cpu_ns_per_op": 24911, "submit_form_bytes_per_op": 15642, "submit_form_allocs_per_op": 101,
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := parseBenchmarks(out, map[string]string{"BenchmarkMissing": "x"}); err == nil {
		t.Error("a benchmark that did not run was not reported")
	}
}

func TestFormatAndRound(t *testing.T) {
	for v, want := range map[float64]string{9500000: "9,500,000", 24248: "24,248", 150: "150", 12.34: "12.3", 1.234: "1.23", 0.5312: "0.531"} {
		if got := format(v); got != want {
			t.Errorf("format(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]float64{8519842: 8519842, 1.23456: 1.235, 0.000123456: 0.0001235, 106.8437: 106.8} {
		if got := round(v); math.Abs(got-want) > want*1e-9 {
			t.Errorf("round(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestTableMarksMissedTargets(t *testing.T) {
	var b bytes.Buffer
	results{"submit_allocs_per_op": 251, "init_over_hello": 1.2, "e2e_p50_ms": 3, "init_over_sdkhello_erase": 1.3, "init_over_sdkhello_submit": 1.2004}.table(&b, []string{"erase", "submit"})
	out := b.String()
	for _, want := range []string{"submit_allocs_per_op", "MISSED", "init_over_hello", "met", "e2e_p50_ms", "init_over_sdkhello_erase"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "init_over_sdkhello_erase") && !strings.Contains(line, "≤ 1.20  MISSED") {
			t.Errorf("every function's init over its SDK hello-world has the budget 1.2: %q", line)
		}
		// Just over the budget shows a digit that says so.
		if strings.Contains(line, "init_over_sdkhello_submit") && !strings.Contains(line, "1.200  ≤ 1.20  MISSED") {
			t.Errorf("a ratio just over its budget: %q", line)
		}
	}
	if strings.Index(out, "submit_allocs") > strings.Index(out, "e2e_p50") {
		t.Errorf("table out of order:\n%s", out)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestItemSizeFollowsDynamoDBRules(t *testing.T) {
	item := map[string]types.AttributeValue{
		"id":    s("abc"),   // 2 + 3
		"n":     n("12345"), // 1 + (5+1)/2+1 = 1 + 4
		"ok":    &types.AttributeValueMemberBOOL{Value: true},
		"list":  &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), s("yz")}},      // 4 + 3 + (1+1) + (1+2) = 12
		"map":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}}, // 3 + 3 + 1 + 1 + 1
		"blank": &types.AttributeValueMemberNULL{Value: true},                                      // 5 + 1
	}
	if got, want := itemSize(item), 5+5+3+12+9+6; got != want {
		t.Errorf("itemSize = %d, want %d", got, want)
	}
	if got := numberSize("-0.001200"); got != 2 { // significant digits "12"
		t.Errorf("numberSize = %d", got)
	}
}

// A new pending item is written to the table and both indexes; marking it
// sent rewrites the table item and deletes it from the sparse index only,
// since nothing the lookup index projects changes.
func TestWriteUnits(t *testing.T) {
	table := &dynamodb.CreateTableInput{
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName:  aws.String("by_lookup_key"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("lookup_key"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"form_id"}},
			},
			{
				IndexName:  aws.String("by_pending"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("pending"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
		},
	}
	big := strings.Repeat("x", 1500)
	saved := map[string]types.AttributeValue{"id": s("a"), "lookup_key": s("k"), "form_id": s("f"), "pending": s("p"), "status": s("pending"), "message": s(big)}
	sent := map[string]types.AttributeValue{"id": s("a"), "lookup_key": s("k"), "form_id": s("f"), "status": s("sent"), "message": s(big)}
	// 2 KB table item + 1 lookup entry + 2 KB pending entry.
	if got := writeUnits(nil, saved, table); got != 5 {
		t.Errorf("put = %v units, want 5", got)
	}
	// 2 KB table item + deleting the 2 KB pending entry.
	if got := writeUnits(saved, sent, table); got != 4 {
		t.Errorf("mark sent = %v units, want 4", got)
	}
	moved := map[string]types.AttributeValue{"id": s("a"), "lookup_key": s("other"), "form_id": s("f"), "status": s("sent"), "message": s(big)}
	// A changed index key deletes the old entry and puts the new one.
	if got := writeUnits(sent, moved, table); got != 2+2 {
		t.Errorf("moved = %v units, want 4", got)
	}
}

func TestCostOf(t *testing.T) {
	c := costOf(10*time.Millisecond, 128, 9)
	want := priceLambdaRequest + 0.125*0.010*priceLambdaGBSecond + priceHTTPAPIRequest + 9*priceDynamoWriteUnit + priceSESMessage
	if math.Abs(c.total()-want) > 1e-15 {
		t.Errorf("total = %v, want %v", c.total(), want)
	}
	// SES dominates: about 95% of a submission's price (DESIGN.md).
	if share := c.ses / c.total(); share < 0.9 {
		t.Errorf("SES share %.2f", share)
	}
}

// A 1 MB file kept 30 days costs about as much again as the email that
// carries it: S3 storage and SES's charge for the bytes, not requests.
func TestCostOfAttachment(t *testing.T) {
	c := costOfAttachment(1<<20, 30)
	want := priceS3Put + priceS3Get + priceS3GBMonth/1024 + priceSESDataGB/1024
	if math.Abs(c.total()-want) > 1e-12 {
		t.Errorf("total = %v, want %v", c.total(), want)
	}
	if !strings.Contains(c.String(), "1024 KB attachments kept 30 days") {
		t.Errorf("String = %q", c.String())
	}
}

func TestMakeTarget(t *testing.T) {
	for name, want := range map[string]string{"submit": "build-SubmitFunction", "erase": "build-EraseFunction", "redrive": "build-RedriveFunction", helloName: "build-hello"} {
		if got := makeTarget(name); got != want {
			t.Errorf("makeTarget(%s) = %s, want %s", name, got, want)
		}
	}
}

// The flood figures come from the rules' decisions: the form's ceiling is
// all that is emailed within the window, each address's posts past its
// limit are refused, and the rest is held, not lost.
func TestFloodFollowsTheRules(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	table, err := samtemplate.TableInput(tpl, testenv.TableLogicalID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flood(table)
	if err != nil {
		t.Fatal(err)
	}
	perAddress := floodPosts / floodSources
	if f.sent != config.DefaultRatePerForm || f.refused != floodSources*(perAddress-config.DefaultRatePerIP) ||
		f.held != floodPosts-f.sent-f.refused {
		t.Errorf("flood: %d sent, %d held, %d refused", f.sent, f.held, f.refused)
	}
	figs, _ := f.figures(50 * time.Millisecond)
	if figs["flood_emails_sent_within_window"] != float64(config.DefaultRatePerForm) || figs["flood_usd_per_10k"] <= 0 ||
		figs["flood_usd_per_10k"] > 0.10 {
		t.Errorf("figures %v", figs)
	}
}
