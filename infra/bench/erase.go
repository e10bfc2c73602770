package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/dynamo/erasurestore"
	"github.com/opt-e/kontakt/internal/email/erasuremail"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

const (
	eraseTable  = "BenchErasure"
	copiesEach  = 10 // copies of the person who asks to be erased
	loadWorkers = 4
	batchSize   = 25 // BatchWriteItem's limit
)

// measureErasure times erasing one person's copies through the erasure
// service and its real DynamoDB and SES adapters, first with small and then
// with large other submissions in a table of its own. Each size is timed
// samples times (a new person each time) and the median kept.
func measureErasure(ctx context.Context, env *testenv.Env, small, large, samples int, step func(string, ...any)) (map[string]float64, error) {
	table, err := env.CreateTableNamed(ctx, eraseTable)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(env.AWS)
	keys := env.LookupKeys()
	store := &dynamo.Store{Client: db, Table: table, LookupKeys: keys}
	adapter := &erasurestore.Store{Client: db, Table: table}
	svc := &erasure.Service{
		Finder: adapter, Deleter: adapter, Receipts: adapter, LookupKeys: keys,
		Notifier:  &erasuremail.Notifier{Client: sesapi.NewFromConfig(env.AWS), Sender: "kontakt@example.no", Contact: "personvern@example.no"},
		Retention: 3 * 365 * 24 * time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler),
	}
	// One erasure first, untimed: the first request of a process pays for
	// connections and the SDK's lazy set-up.
	if _, err := eraseOne(ctx, store, adapter, svc, "warm-up"); err != nil {
		return nil, err
	}
	res := map[string]float64{}
	loaded := 0
	for _, size := range []struct {
		key   string
		total int
	}{{"erase_ms_small_table", small}, {"erase_ms_large_table", large}} {
		start := time.Now()
		if err := load(ctx, db, table, keys, loaded, size.total); err != nil {
			return nil, err
		}
		step("loaded %d other submissions in %.1fs", size.total-loaded, time.Since(start).Seconds())
		loaded = size.total
		var ds []time.Duration
		for i := 0; i < samples; i++ {
			if err := env.ClearEmails(ctx); err != nil {
				return nil, err
			}
			d, err := eraseOne(ctx, store, adapter, svc, fmt.Sprintf("%s-%d", size.key, i))
			if err != nil {
				return nil, err
			}
			ds = append(ds, d)
		}
		res[size.key] = ms(median(ds))
	}
	res["erase_large_over_small"] = res["erase_ms_large_table"] / res["erase_ms_small_table"]
	return res, nil
}

// eraseOne stores copiesEach copies for a new person, erases them and
// checks that every one went.
func eraseOne(ctx context.Context, store *dynamo.Store, finder erasure.Finder, svc *erasure.Service, tag string) (time.Duration, error) {
	addr := tag + "@example.no"
	now := time.Now().UTC()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i := 0; i < copiesEach; i++ {
		s := otherSubmission(now, addr, i)
		if err := store.Save(c, s); err != nil {
			return 0, fmt.Errorf("store a copy to erase: %w", err)
		}
	}
	start := time.Now()
	r, err := svc.Erase(c, erasure.Request{Email: addr, RequestID: tag, Source: erasure.SourceOperator})
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("erase: %w", err)
	}
	left, err := finder.FindByLookupKey(c, svc.LookupKeys.Key(addr))
	if err != nil {
		return 0, err
	}
	if r.Count != copiesEach || len(left) != 0 {
		return 0, fmt.Errorf("erased %d of %d copies, %d left", r.Count, copiesEach, len(left))
	}
	return d, nil
}

// otherSubmission is a stored copy as the submit function writes it, with
// a short message: erasure reads the index, so the size of the content does
// not matter, and short items keep loading 50,000 of them quick.
func otherSubmission(now time.Time, addr string, i int) *submission.Submission {
	return &submission.Submission{
		ID: submission.NewID(), FormID: "contact", Language: "nb",
		ReceivedAt: now.Add(-time.Duration(i) * time.Minute), ExpiresAt: now.Add(30 * 24 * time.Hour),
		ReplyTo: addr,
		Fields: []submission.Field{
			{Name: "name", Value: "Besøkende " + addr},
			{Name: "email", Value: addr},
			{Name: "message", Value: "Hei! Jeg lurer på når dere har åpent i romjulen."},
		},
	}
}

// load writes the other submissions from..to (each a different person) with
// BatchWriteItem from a few workers, retrying what the emulator leaves
// unprocessed.
func load(ctx context.Context, db *dynamodb.Client, table string, keys *submission.LookupKeys, from, to int) error {
	now := time.Now().UTC()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	for w := 0; w < loadWorkers; w++ {
		wg.Go(func() {
			for reqs := range batches {
				if err := writeBatch(ctx, db, table, reqs); err != nil {
					cancel(err)
				}
			}
		})
	}
	for start := from; start < to && ctx.Err() == nil; start += batchSize {
		reqs := make([]types.WriteRequest, 0, batchSize)
		for i := start; i < min(start+batchSize, to); i++ {
			addr := fmt.Sprintf("person%d@example.no", i)
			item := dynamo.Item(otherSubmission(now, addr, i%1000), keys.Key(addr))
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		select {
		case batches <- reqs:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

func writeBatch(ctx context.Context, db *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{table: reqs}
	for tries := 0; len(pending[table]) > 0; tries++ {
		if tries == 10 {
			return fmt.Errorf("%d writes still unprocessed", len(pending[table]))
		}
		c, cancel := context.WithTimeout(ctx, time.Minute)
		out, err := db.BatchWriteItem(c, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		cancel()
		if err != nil {
			return err
		}
		pending = out.UnprocessedItems
	}
	return nil
}
