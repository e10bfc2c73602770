// Package erasurequeue puts erasure requests on the SQS erasure queue.
package erasurequeue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/internal/erasure"
)

// IAMActions are the SQS actions this adapter calls.
var IAMActions = []string{"sqs:SendMessage"}

// API is the part of the SQS client the adapter uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue implements erasure.Enqueuer.
type Queue struct {
	Client API
	URL    string
}

var _ erasure.Enqueuer = (*Queue)(nil)

// Enqueue sends r as the erase function expects it.
func (q *Queue) Enqueue(ctx context.Context, r erasure.Request) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode erasure request: %w", err)
	}
	if _, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send erasure request: %w", err)
	}
	return nil
}
