package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServiceTagsNameEachClientOnce(t *testing.T) {
	got, err := serviceTags([]string{
		"github.com/aws/aws-sdk-go-v2/service/ses",
		"github.com/aws/aws-sdk-go-v2/service/s3/types",
		"github.com/aws/aws-sdk-go-v2/service/s3",
		"github.com/aws/aws-sdk-go-v2/service/internal/checksum",
		"github.com/aws/aws-sdk-go-v2/service/dynamodb",
		"github.com/opt-e/kontakt/internal/ses",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "sdk_dynamodb,sdk_s3,sdk_ses"; got != want {
		t.Fatalf("tags = %q, want %q", got, want)
	}
}

func TestServiceTagsRefuseAClientSDKHelloCannotBuild(t *testing.T) {
	_, err := serviceTags([]string{"github.com/aws/aws-sdk-go-v2/service/kms"})
	if err == nil || !strings.Contains(err.Error(), "kms.go") {
		t.Fatalf("err = %v, want one naming the file to add", err)
	}
}

// Every function's clients have their sdkhello file, so make bench
// compares each function with a yardstick that builds all it builds.
func TestEveryFunctionHasItsYardstick(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, s := range sdkHelloServices {
		if _, err := os.Stat(filepath.Join(root, sdkHelloPkg, s+".go")); err != nil {
			t.Errorf("sdkHelloServices names %s: %v", s, err)
		}
	}
	fns, err := functions(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, fn := range fns {
		if _, err := sdkHelloTags(ctx, root, fn); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
	}
}

func TestPairedRatioComparesWithinARound(t *testing.T) {
	ms := time.Millisecond
	// The second round ran on a busy machine: both sides slowed alike,
	// and the ratio of each round is what the figure keeps.
	a := []time.Duration{11 * ms, 33 * ms, 12 * ms}
	b := []time.Duration{10 * ms, 30 * ms, 10 * ms}
	if got := pairedRatio(a, b); got < 1.099 || got > 1.101 {
		t.Fatalf("pairedRatio = %v, want 1.1", got)
	}
	if got := pairedRatio(nil, b); got != 0 {
		t.Fatalf("pairedRatio of nothing = %v, want 0", got)
	}
}
