// Command requeue puts a copy the redrive function gave up on back in its
// queue, after the operator has fixed what made SES refuse it:
//
//	make requeue TABLE=<TableName output> ID=<submission id>
//
// It uses the standard AWS configuration (credentials, region; or
// AWS_ENDPOINT_URL_DYNAMODB for the local stack). The next redrive run sends
// the email.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/internal/dynamo"
)

func main() {
	table := flag.String("table", "", "the submissions table (the stack's TableName output)")
	id := flag.String("id", "", "the submission id (from the alarm's log line)")
	flag.Parse()
	if *table == "" || *id == "" {
		fmt.Fprintln(os.Stderr, "usage: requeue -table <table> -id <submission id>")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An operator's machine, not Lambda: the SDK's whole chain of
	// credentials (profiles, SSO), which the functions leave out.
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "requeue:", err)
		os.Exit(1)
	}
	r := &dynamo.Redrive{Client: dynamodb.NewFromConfig(cfg), Table: *table}
	if err := r.Requeue(ctx, *id, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "requeue:", err)
		os.Exit(1)
	}
	fmt.Printf("requeued %s: the next redrive run sends it\n", *id)
}
