package main

import (
	"context"
	"strings"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/doctor"
)

// newDoctorClients builds the doctor's AWS clients; tests replace it.
var newDoctorClients = doctor.NewClients

func doctorCommand() *command {
	c := newCommand("doctor", "check, read-only, that the deployment can deliver: SES, alarms, queues, copies",
		"[--local | --stack NAME] [--only GROUPS]",
		`Runs read-only checks and prints a checklist, with the fix for each
failure, and exits 1 when any check fails (warnings do not fail it):
  ses        the sender identity is verified (and DKIM, for a domain); the
             account is out of the SES sandbox in this region, or which
             recipients are unverified and the daily quota; the configuration
             set sends bounces and complaints to the feedback topic
  alarms     every subscription of the alarm and feedback topics is
             confirmed; no alarm is in ALARM
  data       the table's TTL is on expires_at; the erasure dead-letter queue
             is empty; copies pending or failed, by reason
  functions  the redrive function's reserved concurrency fits the account's
             Lambda quota
With --local, checks that do not apply to make dev's stack say "skipped
locally" and why; they are not failures.

example: kontakt doctor --stack kontakt --region eu-north-1`)
	only := c.Flags.String("only", "", "comma-separated groups to check (ses, alarms, data, functions); default all")
	c.Run = func(ctx context.Context, e *env) error {
		var groups []string
		for _, g := range strings.Split(*only, ",") {
			if g = strings.TrimSpace(g); g == "" {
				continue
			}
			switch g {
			case doctor.GroupSES, doctor.GroupAlarms, doctor.GroupData, doctor.GroupFunctions:
				groups = append(groups, g)
			default:
				return usagef("no check group %q (ses, alarms, data, functions)", g)
			}
		}
		d := &doctor.Doctor{Stack: e.Stack, Clients: newDoctorClients(e.Stack)}
		results := d.Run(ctx, groups)
		doctor.Write(e.Out, e.Stack, results)
		if doctor.Failed(results) {
			return exitError{1}
		}
		return nil
	}
	return c
}
