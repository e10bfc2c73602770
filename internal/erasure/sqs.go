package erasure

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/deadline"
	"github.com/opt-e/kontakt/internal/submission"
)

// QueueHandler is the erase function's SQS handler. Each message succeeds or
// fails on its own: failures are reported with ReportBatchItemFailures so
// Lambda deletes the rest of the batch, and a failing message comes back
// until the queue's redrive policy moves it to the dead-letter queue.
type QueueHandler struct {
	Service *Service
	Log     *slog.Logger
	// PerMessage bounds each message's work, so one slow message cannot use
	// up the batch's time and fail the others by timeout.
	PerMessage time.Duration
}

// Handle processes a batch.
func (h *QueueHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := h.handleMessage(ctx, m); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *QueueHandler) handleMessage(ctx context.Context, m events.SQSMessage) error {
	req, err := ParseRequest(m.Body)
	if err != nil {
		// The reason names the broken part, never the submitted value.
		h.Log.ErrorContext(ctx, "erasure message refused", slog.String("message_id", m.MessageId), slog.String("reason", err.Error()),
			slog.String("receive_count", m.Attributes["ApproximateReceiveCount"]))
		return err
	}
	c, cancel := deadline.Bound(ctx, h.perMessage(), time.Second)
	defer cancel()
	if _, err := h.Service.Erase(c, req); err != nil {
		h.Log.ErrorContext(ctx, "erasure failed", slog.String("message_id", m.MessageId), slog.String("request_id", req.RequestID),
			slog.String("error_class", submission.ErrorClass(err)), slog.String("receive_count", m.Attributes["ApproximateReceiveCount"]))
		return err
	}
	return nil
}

// perMessage is PerMessage or its default. The last second of the batch
// is kept for the answer that lists the failed messages.
func (h *QueueHandler) perMessage() time.Duration {
	if h.PerMessage == 0 {
		return 20 * time.Second
	}
	return h.PerMessage
}
