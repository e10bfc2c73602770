package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/disclosure"
	"github.com/opt-e/kontakt/internal/dynamo/disclosurestore"
	"github.com/opt-e/kontakt/internal/submission"
)

func exportCommand() *command {
	c := newCommand("export", "disclose stored copies to a JSON file for an authority or a dispute, with a reason kept in a receipt",
		"[--local | --stack NAME] (--email ADDRESS | --id ID | --form ID --from DATE --to DATE) --reason TEXT --output FILE",
		`Writes stored copies, whole, to a new JSON file: a person's copies (--email),
one submission (--id), or a form's copies received from --from to --to
inclusive (dates, UTC; read through the form index, never a scan). Besides
the staff emails this is the only way content leaves the table, so it needs a
--reason, and it leaves a receipt in the table first: who ran it (your AWS
identity, or the local user with --local), when, why, what was asked for
(never the address) and how many copies, and no content. The receipt id is
printed and is in the file. An existing --output file is never overwritten.

example: kontakt export --local --email kari@example.no --reason "Tvist, sak 2026-17" --output kari.json`)
	email := c.Flags.String("email", "", "export every stored copy for this reply address")
	id := c.Flags.String("id", "", "export this one submission")
	form := c.Flags.String("form", "", "export this form's copies between --from and --to")
	from := c.Flags.String("from", "", "with --form: first day, YYYY-MM-DD")
	to := c.Flags.String("to", "", "with --form: last day, YYYY-MM-DD")
	reason := c.Flags.String("reason", "", "why the copies are disclosed (required; kept in the receipt)")
	output := c.Flags.String("output", "", "the JSON file to create (required)")
	c.Run = func(ctx context.Context, e *env) error {
		sel := disclosure.ExportSelector{Email: *email, SubmissionID: *id, FormID: *form}
		if *form != "" {
			var err1, err2 error
			sel.From, err1 = time.Parse(time.DateOnly, *from)
			sel.To, err2 = time.Parse(time.DateOnly, *to)
			if err1 != nil || err2 != nil {
				return usagef("%v", disclosure.ErrRange)
			}
		} else if *from != "" || *to != "" {
			return usagef("--from and --to go with --form")
		}
		if *output == "" {
			return usagef("no --output file")
		}
		if *reason == "" {
			return usagef("%v", disclosure.ErrNoReason)
		}
		c, cancel := context.WithTimeout(ctx, operatorTimeout)
		defer cancel()
		by, err := caller(c, e)
		if err != nil {
			return err
		}
		var keys *submission.LookupKeys
		if *email != "" {
			if keys, err = lookupKeys(c, e); err != nil {
				return err
			}
		}
		f, err := os.OpenFile(*output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("create the output file: %w", err)
		}
		db := &disclosurestore.Store{Client: dynamodb.NewFromConfig(e.Stack.AWS), Table: e.Stack.Table}
		x := &disclosure.Exporter{Reader: db, Receipts: db, LookupKeys: keys, Retention: receiptRetention(e), Now: time.Now,
			Log: slog.New(slog.NewTextHandler(e.Err, nil))}
		r, err := x.Export(c, sel, *reason, by, f)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write the output file: %w", cerr)
		}
		if err != nil {
			if r.ID == "" {
				os.Remove(*output) // nothing was disclosed
			}
			for _, u := range []error{disclosure.ErrSelector, disclosure.ErrRange, disclosure.ErrInvalidEmail, disclosure.ErrInvalidCopyID} {
				if errors.Is(err, u) {
					return usagef("%v", err)
				}
			}
			return err
		}
		fmt.Fprintf(e.Out, "exported %d stored copies to %s (receipt %s)\n", r.Count, *output, r.ID)
		return nil
	}
	return c
}

// caller is who runs an export: the AWS identity (STS GetCallerIdentity,
// which needs no permission), or the local user against make dev, where
// there is no STS.
func caller(ctx context.Context, e *env) (string, error) {
	if e.Stack.Local {
		u, err := user.Current()
		if err != nil {
			return "local", nil
		}
		return "local:" + u.Username, nil
	}
	out, err := sts.NewFromConfig(e.Stack.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("who is running this (sts get-caller-identity): %w", err)
	}
	if aws.ToString(out.Arn) == "" {
		return "", errors.New("sts get-caller-identity returned no ARN")
	}
	return aws.ToString(out.Arn), nil
}

// receiptRetention is the stack's ReceiptRetentionDays, as the erase
// function keeps its receipts.
func receiptRetention(e *env) time.Duration {
	if n, err := strconv.Atoi(e.Stack.Parameters["ReceiptRetentionDays"]); err == nil && n > 0 {
		return time.Duration(n) * 24 * time.Hour
	}
	return config.DefaultReceiptRetention
}
