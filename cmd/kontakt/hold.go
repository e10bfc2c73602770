package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/holdstore"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/submission"
)

// operatorTimeout bounds one operator action's calls to DynamoDB.
const operatorTimeout = 30 * time.Second

// holdService builds the service; sel's address, when it has one (and no
// id, which checkSelector refuses), needs the stack's lookup keys.
func holdService(ctx context.Context, e *env, sel hold.Selector) (*hold.Service, error) {
	var keys *submission.LookupKeys
	if sel.Email != "" && sel.SubmissionID == "" {
		var err error
		if keys, err = lookupKeys(ctx, e); err != nil {
			return nil, err
		}
	}
	store := &holdstore.Store{Client: dynamodb.NewFromConfig(e.Stack.AWS), Table: e.Stack.Table}
	// The log goes to stderr and carries no personal data, as the
	// functions' logs.
	svc := &hold.Service{Store: store, FileStore: store, LookupKeys: keys,
		Now: time.Now, Log: slog.New(slog.NewTextHandler(e.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	// A held copy's files are held with it. A stack without a files bucket
	// (deployed before files) has no files to hold; one whose copies have
	// files and whose bucket is unknown fails on them (hold.ErrNoFilesBucket).
	if e.Stack.FilesBucket != "" {
		svc.Files = &bucket.Tagger{Client: s3.NewFromConfig(e.Stack.AWS), Name: e.Stack.FilesBucket}
	}
	return svc, nil
}

// withHolds calls do with the hold service for sel, under the operator's
// deadline; its errors are the hold commands' answers (holdError).
func withHolds(ctx context.Context, e *env, sel hold.Selector, do func(context.Context, *hold.Service, hold.Selector) (hold.Hold, error)) (hold.Hold, error) {
	c, cancel := context.WithTimeout(ctx, operatorTimeout)
	defer cancel()
	svc, err := holdService(c, e, sel)
	if err != nil {
		return hold.Hold{}, err
	}
	h, err := do(c, svc, sel)
	if errors.Is(err, hold.ErrNoFilesBucket) {
		// Nothing was changed on the copy; say where the bucket is missing.
		if e.Stack.Local {
			return hold.Hold{}, fmt.Errorf("%w: the local stack names no files bucket (files_bucket in .dev/stack.json): restart make dev to rewrite it", err)
		}
		return hold.Hold{}, fmt.Errorf("%w: stack %q has no %s output: deploy the current template.yaml", err, e.Stack.Name, stack.OutputFilesBucket)
	}
	if err != nil {
		return hold.Hold{}, holdError(err)
	}
	return h, nil
}

// lookupKeys derives the lookup keys the stack's functions index copies
// by, from its generated secret (the GeneratedSecretArn output; with
// --local, .dev/stack.json's secret_id in make dev's Secrets Manager
// stand-in). Reading it needs secretsmanager:GetSecretValue on it.
func lookupKeys(ctx context.Context, e *env) (*submission.LookupKeys, error) {
	if e.Stack.SecretID == "" {
		if e.Stack.Local {
			return nil, errors.New("the local stack names no generated secret (secret_id in .dev/stack.json): restart make dev to rewrite it")
		}
		return nil, fmt.Errorf("stack %q has no %s output: deploy the current template.yaml", e.Stack.Name, stack.OutputSecret)
	}
	secret, err := app.GeneratedSecret(ctx, e.Stack.SecretID, &secrets.Reader{Client: secretsmanager.NewFromConfig(e.Stack.AWS)})
	if err != nil {
		return nil, fmt.Errorf("read the generated secret: %w", err)
	}
	return app.LookupKeys(secret)
}

func holdCommand() *command {
	c := newCommand("hold", "put a person's stored copies, or one submission, under a legal hold",
		"[--local | --stack NAME] (--email ADDRESS | --id ID) --reason TEXT --until YYYY-MM-DD",
		`Keeps stored copies that the law requires kept: a held copy does not
expire (its expires_at is lifted until the hold ends), and an erasure request
skips it and tells the person and the privacy contact how many copies are
kept and until when. --email holds every copy of that reply address stored
now; --id holds one submission. The hold lasts through the --until day (UTC)
and then ends by itself (the redrive schedule restores the copies' expiry),
or earlier with kontakt release. The hold is an item of its own with the
reason and the dates, no content; holding the same address or id again
replaces its reason and end. The copies' files are held too: their
retention tag becomes kontakt-retention=held, which no lifecycle rule of the
files bucket matches (S3 PutObjectTagging).

example: kontakt hold --local --email kari@example.no --reason "Politiets begjæring 2026-123" --until 2027-06-30`)
	email := c.Flags.String("email", "", "hold every stored copy for this reply address")
	id := c.Flags.String("id", "", "hold this one submission")
	reason := c.Flags.String("reason", "", "why the law requires keeping it (required; kept with the hold)")
	until := c.Flags.String("until", "", "last day of the hold, YYYY-MM-DD (required)")
	c.Run = func(ctx context.Context, e *env) error {
		end, err := hold.ParseUntil(*until)
		if err != nil {
			return usagef("--until: %v", err)
		}
		h, err := withHolds(ctx, e, hold.Selector{Email: *email, SubmissionID: *id}, func(c context.Context, svc *hold.Service, sel hold.Selector) (hold.Hold, error) {
			return svc.Place(c, sel, *reason, end)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Out, "held %d stored copies through %s (hold %s)\n", h.Held, end.Add(-time.Second).Format(time.DateOnly), h.ID)
		if n := len(h.Copies) - h.Held; n > 0 {
			// A hold asked for and not placed is a failure, though the
			// others are held: the operator must look.
			return fmt.Errorf("%d of the %d copies could not be held: deleted since, or being deleted by an erasure request that came first. "+
				"If that erasure failed (kontakt doctor: erasure dead-letter queue), run this again after %v and the hold keeps what is left",
				n, len(h.Copies), dynamo.ClaimLifetime)
		}
		return nil
	}
	return c
}

func releaseCommand() *command {
	c := newCommand("release", "end a legal hold now: its copies expire again as they would have",
		"[--local | --stack NAME] (--email ADDRESS | --id ID)",
		`Ends the legal hold placed with kontakt hold on the same --email or --id.
Each copy it covered gets its expires_at back (and is deleted by DynamoDB if
its retention has passed), unless another hold still covers it; its files get
their retention tag back, and the bucket deletes them at that age (at once if
it has passed). An erasure
asked for while the copy was held does not run again by itself: the copy
expires with its retention.

example: kontakt release --local --email kari@example.no`)
	email := c.Flags.String("email", "", "the reply address of the hold")
	id := c.Flags.String("id", "", "the submission id of the hold")
	c.Run = func(ctx context.Context, e *env) error {
		h, err := withHolds(ctx, e, hold.Selector{Email: *email, SubmissionID: *id}, func(c context.Context, svc *hold.Service, sel hold.Selector) (hold.Hold, error) {
			return svc.Release(c, sel)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Out, "released hold %s on %d stored copies\n", h.ID, len(h.Copies))
		return nil
	}
	return c
}

// holdError makes wrong use a usage error (exit 2); the rest (an unknown
// id, nothing held, DynamoDB trouble) fail with exit 1.
func holdError(err error) error {
	for _, u := range []error{hold.ErrSelector, hold.ErrNoReason, hold.ErrPastEnd, hold.ErrInvalidEmail, hold.ErrInvalidCopyID} {
		if errors.Is(err, u) {
			return usagef("%v", err)
		}
	}
	return err
}
