// Package esm plays Lambda's SQS event source mapping for the local stack
// and tests: it receives batches from a queue, hands them to the function's
// handler as an events.SQSEvent, and deletes exactly the messages the
// handler did not report as failed (ReportBatchItemFailures). Failed
// messages stay on the queue, come back after the visibility timeout and,
// past the queue's maxReceiveCount, move to its dead-letter queue.
package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// API is the part of the SQS client the poller uses.
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Handler is an SQS Lambda handler with partial batch responses.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Poller polls one queue.
type Poller struct {
	Client    API
	QueueURL  string
	QueueARN  string
	Handler   Handler
	BatchSize int32
	// Wait is the long-poll time. The local SQS emulator waits all of it
	// unless a full batch is there, so keep it short.
	Wait int32
	// RetryAfter, when set, shortens a failed message's visibility timeout
	// so tests see redelivery (and the dead-letter queue) quickly; Lambda
	// leaves it at the queue's timeout.
	RetryAfter time.Duration
	// Timeout is the function's timeout, given to the handler as a deadline.
	Timeout time.Duration
	Log     *slog.Logger
}

// Result counts what one poll did.
type Result struct{ Received, Deleted, Failed int }

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := p.Once(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("poll failed", slog.String("error", err.Error()))
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

// Once receives one batch (possibly empty) and processes it.
func (p *Poller) Once(ctx context.Context) (Result, error) {
	out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.QueueURL),
		MaxNumberOfMessages:         max(p.BatchSize, 1),
		WaitTimeSeconds:             p.Wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return Result{}, fmt.Errorf("receive: %w", err)
	}
	res := Result{Received: len(out.Messages)}
	if len(out.Messages) == 0 {
		return res, nil
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
	receipts := make(map[string]string, len(out.Messages))
	for i, m := range out.Messages {
		id := aws.ToString(m.MessageId)
		receipts[id] = aws.ToString(m.ReceiptHandle)
		ev.Records[i] = events.SQSMessage{
			MessageId: id, ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes,
			EventSource: "aws:sqs", EventSourceARN: p.QueueARN, AWSRegion: "local",
		}
	}
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if p.Timeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, p.Timeout)
	}
	resp, err := p.Handler(hctx, ev)
	cancel()
	failed := map[string]bool{}
	if err != nil {
		// A function error fails the whole batch, as on Lambda.
		for id := range receipts {
			failed[id] = true
		}
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for id, rh := range receipts {
		if failed[id] {
			res.Failed++
			if p.RetryAfter > 0 {
				p.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(p.QueueURL), ReceiptHandle: aws.String(rh), VisibilityTimeout: int32(p.RetryAfter / time.Second),
				})
			}
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(del))), ReceiptHandle: aws.String(rh)})
	}
	if len(del) > 0 {
		dout, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del})
		if err != nil {
			return res, fmt.Errorf("delete: %w", err)
		}
		if len(dout.Failed) > 0 {
			return res, errors.New("delete: some messages were not deleted")
		}
		res.Deleted = len(del)
	}
	return res, nil
}
