package main

import (
	"context"
	"time"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/doctor"
)

func statusCommand() *command {
	c := newCommand("status", "the last 24 hours: submissions by outcome, blocked posts by rule, the oldest pending copy",
		"[--local | --stack NAME]",
		`Counts the copies received in the last 24 hours by outcome (sent;
queued: stored, the email still to be sent; held: over the form's ceiling,
released at a pace; failed: the email given up), the posts the abuse
rules blocked, by rule (the Blocked metric in CloudWatch; make dev has
none and says so), and names the oldest copy still waiting for its email.
It reads the table with one scan filtered to the day: the table holds
only the retention period's copies.

example: kontakt status --stack kontakt --region eu-north-1`)
	c.Run = func(ctx context.Context, e *env) error {
		d := &doctor.Doctor{Stack: e.Stack, Clients: newDoctorClients(e.Stack)}
		r, err := d.Status(ctx)
		if err != nil {
			return err
		}
		doctor.WriteStatus(e.Out, e.Stack, r, time.Now())
		return nil
	}
	return c
}
