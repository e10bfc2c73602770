// Command erase enqueues an erasure request on the local stack's queue
// (`make erase EMAIL=...`), the same message the AWS CLI line in docs/operators.md sends
// in production. It reads the queue URL from .dev/stack.json.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/erasure"
)

func main() {
	email := flag.String("email", "", "address whose copies to erase")
	flag.Parse()
	if err := run(*email); err != nil {
		fmt.Fprintln(os.Stderr, "make erase:", err)
		os.Exit(1)
	}
}

func run(email string) error {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), ".dev", "stack.json"))
	if err != nil {
		return fmt.Errorf("is `make dev` running? %w", err)
	}
	var stack struct {
		SQS    string `json:"sqs"`
		Queue  string `json:"erasure_queue_url"`
		Region string `json:"region"`
	}
	if err := json.Unmarshal(data, &stack); err != nil {
		return fmt.Errorf(".dev/stack.json: %w", err)
	}
	req := erasure.Request{Email: email, RequestID: "op-" + time.Now().UTC().Format("20060102T150405Z") + "-" + rand.Text()[:6], Source: erasure.SourceOperator}
	body, _ := json.Marshal(req)
	// Check it the way the erase function will, so a typo fails here.
	if _, err := erasure.ParseRequest(string(body)); err != nil {
		return err
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_SQS": stack.SQS, "AWS_REGION": stack.Region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"} {
		os.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := app.AWSConfig(ctx)
	if err != nil {
		return err
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(stack.Queue), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send to the erasure queue: %w", err)
	}
	fmt.Printf("queued erasure request %s; the receipt and the privacy contact's email follow within seconds\n", req.RequestID)
	return nil
}
