package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/internal/erasure"
)

func eraseCommand() *command {
	c := newCommand("erase", "queue an erasure request: every stored copy of one person's submissions is deleted",
		"[--local | --stack NAME] --email ADDRESS",
		`Sends an erasure request for ADDRESS to the stack's erasure queue, as the
operator (source "operator"). The erase function deletes every stored copy
for that reply address, leaves a receipt without personal data, and emails
the privacy contact the ids of the erased submissions so staff can delete
the matching emails. The request id printed here is the receipt's.

example: kontakt erase --local --email kari@example.no`)
	email := c.Flags.String("email", "", "the reply address whose copies to erase")
	c.Run = func(ctx context.Context, e *env) error {
		if *email == "" && len(e.Args) == 1 {
			*email = e.Args[0]
		}
		if *email == "" {
			return usagef("no --email")
		}
		if e.Stack.ErasureQueueURL == "" {
			return fmt.Errorf("stack %s has no %s output", e.Stack.Name, "ErasureQueueUrl")
		}
		req := erasure.Request{Email: *email, RequestID: operatorRequestID(time.Now()), Source: erasure.SourceOperator}
		body, err := json.Marshal(req)
		if err != nil {
			return err
		}
		// Checked the way the erase function will, so that a typo fails
		// here and not in the dead-letter queue.
		if _, err := erasure.ParseRequest(string(body)); err != nil {
			return usagef("%v", err)
		}
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := sqs.NewFromConfig(e.Stack.AWS).SendMessage(c, &sqs.SendMessageInput{
			QueueUrl: aws.String(e.Stack.ErasureQueueURL), MessageBody: aws.String(string(body)),
		}); err != nil {
			return fmt.Errorf("send to the erasure queue: %w", err)
		}
		fmt.Fprintf(e.Out, "queued erasure request %s; the receipt and the privacy contact's email follow within seconds\n", req.RequestID)
		return nil
	}
	return c
}

// operatorRequestID names a request by its time and a random suffix, so
// that two requests in one second differ.
func operatorRequestID(now time.Time) string {
	return "op-" + now.UTC().Format("20060102T150405Z") + "-" + rand.Text()[:6]
}
