package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/internal/dynamo/redrivestore"
)

func requeueCommand() *command {
	c := newCommand("requeue", "put failed copies back in the redrive queue, after fixing why SES refused them",
		"[--local | --stack NAME] ID...",
		`Puts each failed copy (a submission whose email the redrive function
gave up on) back in the pending index, due at once and with its attempts
counted afresh; the next redrive run sends the email. Only a failed copy
that has not expired qualifies. Fix what made SES refuse it first (the
alarm's log line has the submission id and the error class; kontakt doctor
shows failed copies by reason).

example: kontakt requeue --stack kontakt --region eu-north-1 01JD7X...`)
	c.Run = func(ctx context.Context, e *env) error {
		if len(e.Args) == 0 {
			return usagef("no submission id")
		}
		r := &redrivestore.Store{Client: dynamodb.NewFromConfig(e.Stack.AWS), Table: e.Stack.Table}
		failed := 0
		for _, id := range e.Args {
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := r.Requeue(c, id, time.Now())
			cancel()
			if err != nil {
				fmt.Fprintf(e.Err, "kontakt requeue: %s: %v\n", id, err)
				failed++
				continue
			}
			fmt.Fprintf(e.Out, "requeued %s: the next redrive run sends it\n", id)
		}
		if failed > 0 {
			return exitError{1}
		}
		return nil
	}
	return c
}
