// Package load sends many submissions through the local stack (the
// submit handler behind the local HTTP adapter, the emulators) while SES
// fails for part of the run, then runs redrive, and proves that every
// submission was emailed exactly once: none lost, none duplicated.
//
// `make test` runs a small load; `make loadtest` the full one:
//
//	go test ./test/load -run TestLoad -v -load.n=5000 -load.c=32
package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/opt-e/kontakt/infra/harness/apigw"
	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/infra/harness/logcheck"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/app/redrive"
	submithandler "github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
)

var (
	submissions = flag.Int("load.n", 300, "submissions to send")
	concurrency = flag.Int("load.c", 8, "clients posting at once")
	repeatEvery = flag.Int("load.repeat-every", 50, "every n-th submission is also posted a second time at once (a double click); 0: none")
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, testing.Short, &env) }

// phase says what SES does while a share of the submissions is sent.
type phase struct {
	from  float64 // share of submissions sent before it starts
	name  string
	apply func(p *faultproxy.Proxy)
}

var phases = []phase{
	{0, "SES up", func(p *faultproxy.Proxy) { p.Up(); p.Set(faultproxy.Fault{}) }},
	{0.3, "SES throttling", func(p *faultproxy.Proxy) { p.Set(faultproxy.Fault{Answer: &faultproxy.SESThrottling}) }},
	{0.45, "SES throttling every 3rd", func(p *faultproxy.Proxy) {
		p.Set(faultproxy.Fault{Answer: &faultproxy.SESThrottling, Every: 3})
	}},
	{0.55, "SES refusing connections", func(p *faultproxy.Proxy) { p.Down() }},
	{0.65, "SES up", func(p *faultproxy.Proxy) { p.Up(); p.Set(faultproxy.Fault{}) }},
}

type result struct {
	status int
	id     string
}

func TestLoad(t *testing.T) {
	testenv.Gate(t, env, "load test")
	n, conc := *submissions, *concurrency
	ctx := context.Background()
	table, err := env.NewTable(ctx, "-load")
	if err != nil {
		t.Fatal(err)
	}
	ses, err := faultproxy.Start(env.SESURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ses.Close()
	t.Setenv("AWS_ENDPOINT_URL_SES", ses.URL())
	// Without SDK retries a failing SES answers at once; with them each
	// throttled send would wait out its backoff, and the run would measure
	// that instead of kontakt. Production keeps the SDK's retries.
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	awsCfg, err := app.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		config.EnvTable: table, config.EnvSender: "kontakt@example.no", config.EnvRecipients: "post@example.no",
		config.EnvAllowedOrigins: "https://www.example.no", config.EnvSecretID: env.SecretID,
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cfg, err := config.Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	rcfg, err := config.LoadRedrive(lookup)
	if err != nil {
		t.Fatal(err)
	}
	// Every post comes from 127.0.0.1: the load is not what the per-IP
	// limit is for.
	cfg.Form("contact").Abuse.RateLimit.PerIP = 1000000
	cfg.Form("contact").Abuse.RateLimit.PerForm = 1000000
	logs := logcheck.New(t, "127.0.0.1")
	submit, err := submithandler.Handler(ctx, cfg, submithandler.NewClients(awsCfg, cfg), logs.Logger(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, submit.Handle)
	if err := env.ClearEmails(ctx); err != nil {
		t.Fatal(err)
	}

	// The jobs: each submission once, some twice in a row (double clicks).
	type job struct{ i, try int }
	jobs := make(chan job)
	results := make([][]result, n)
	var (
		mu   sync.Mutex
		sent atomic.Int64
		next = 0
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	// The phase changes as the share of submissions handed out passes each
	// boundary, whichever client takes the job.
	advance := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		for next < len(phases) && float64(i) >= phases[next].from*float64(n) {
			phases[next].apply(ses)
			t.Logf("submission %d: %s", i, phases[next].name)
			next++
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				advance(j.i)
				r := post(t, client, url, j.i, logs)
				mu.Lock()
				results[j.i] = append(results[j.i], r)
				mu.Unlock()
				sent.Add(1)
			}
		}()
	}
	repeats := 0
	for i := range n {
		jobs <- job{i, 0}
		if *repeatEvery > 0 && i%*repeatEvery == *repeatEvery-1 {
			jobs <- job{i, 1}
			repeats++
		}
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	ses.Up()
	ses.Set(faultproxy.Fault{})

	// Tally the answers: every post accepted (200 or 202), a repeat with its
	// first's id.
	ids := map[string]int{}
	var ok200, ok202, other int
	for i, rs := range results {
		for _, r := range rs {
			switch r.status {
			case 200:
				ok200++
			case 202:
				ok202++
			default:
				other++
				t.Errorf("submission %d: status %d", i, r.status)
			}
		}
		if len(rs) == 2 && rs[0].id != rs[1].id {
			t.Errorf("submission %d: a double click got two ids, %s and %s", i, rs[0].id, rs[1].id)
		}
		if len(rs) > 0 && rs[0].id != "" {
			ids[rs[0].id] = i
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct ids for %d submissions", len(ids), n)
	}

	// Redrive, on its schedule, after the first-retry delay: runs until
	// nothing is due (one run normally does it).
	svc := redrive.Service(rcfg, redrive.NewClients(awsCfg), logs.Logger(), logs, "kontakt-load-Redrive")
	svc.Now = func() time.Time { return time.Now().Add(dynamo.FirstRetryDelay + time.Second) }
	runs, resent := 0, 0
	redriveStart := time.Now()
	for ; runs < 10; runs++ {
		run, cancel := context.WithTimeout(ctx, 60*time.Second)
		rep, err := svc.Run(run)
		cancel()
		if err != nil {
			t.Fatalf("redrive run %d: %v", runs+1, err)
		}
		resent += rep.Sent
		if rep.Due == 0 {
			break
		}
		if rep.Failed > 0 || rep.Errors > 0 {
			t.Errorf("redrive run %d: %+v", runs+1, rep)
		}
	}
	redriveTook := time.Since(redriveStart)

	// Count the SES emulator's mail by submission id.
	emails, err := env.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perID := map[string]int{}
	for _, e := range emails {
		perID[idOf(e.Body.Text)]++
	}
	lost, dup, stray := 0, 0, 0
	for id, i := range ids {
		switch perID[id] {
		case 1:
			continue
		case 0:
			lost++
		default:
			dup++
		}
		// What the run knows of it, for whoever reads a failure: the
		// answers its posts got and every log line that names it.
		t.Errorf("submission %d (%s): %d emails; answers %v", i, id, perID[id], results[i])
		for _, l := range logs.Lines() {
			if strings.Contains(l, id) {
				t.Log("  " + l)
			}
		}
	}
	for id := range perID {
		if _, ok := ids[id]; !ok {
			stray++
		}
	}
	status := copyStatuses(t, table)
	// Calls to DynamoDB past their deadline: the emulator could not keep up
	// (a busy machine). kontakt then fails open - the email goes out without
	// its marker or copy - which can send a double click twice.
	late := 0
	for _, l := range logs.Lines() {
		if strings.Contains(l, `_error_class":"timeout"`) && !strings.Contains(l, "email failed") {
			late++
		}
	}
	fmt.Printf(`
load: %d submissions (+%d double clicks) at concurrency %d in %v (%.0f posts/s)
  answers   200 sent: %d   202 stored: %d   other: %d
  redrive   %d run(s) until none was due, %d re-sent in %v
  SES store %d emails: %d submissions emailed once, %d lost, %d duplicated, %d unknown
  copies    %v
  DynamoDB  %d calls past their deadline
`, n, repeats, conc, took.Round(time.Millisecond), float64(n+repeats)/took.Seconds(),
		ok200, ok202, other, runs+1, resent, redriveTook.Round(time.Millisecond),
		len(emails), len(ids)-lost-dup, lost, dup, stray, status, late)
	if late > 0 {
		t.Errorf("%d DynamoDB calls missed their deadline: the emulator could not keep up on this machine, so the run did not test SES failures alone", late)
	}

	if lost+dup+stray != 0 || len(emails) != n {
		t.Errorf("%d emails for %d submissions: %d lost, %d duplicated, %d unknown", len(emails), n, lost, dup, stray)
	}
	if ok202 == 0 || resent != ok202-countRepeats202(results) {
		t.Errorf("%d stored (202) answers, %d re-sent: SES never failed, or redrive missed some", ok202, resent)
	}
	if status[dynamo.StatusSent] != n || len(status) != 1 {
		t.Errorf("copies by status %v, want all %d sent", status, n)
	}
}

// countRepeats202 counts double clicks answered 202: they share their
// first's copy, so redrive sends that copy once for both.
func countRepeats202(results [][]result) int {
	n := 0
	for _, rs := range results {
		if len(rs) == 2 && rs[1].status == 202 {
			n++
		}
	}
	return n
}

// serve runs the submit handler behind the local API Gateway adapter, as
// `make dev` does, on a free loopback port.
func serve(t *testing.T, h apigw.LambdaHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/f/{form}", &apigw.Adapter{Handler: h, Params: []string{"form"}, Timeout: 10 * time.Second})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/f/contact"
}

// post sends submission i: unique content (repeats aside), values that
// must never be logged registered with the capture.
func post(t *testing.T, c *http.Client, url string, i int, logs *logcheck.Capture) result {
	name := fmt.Sprintf("Lasttest Person %05d", i)
	addr := fmt.Sprintf("person.%05d@example.no", i)
	msg := fmt.Sprintf("Melding nummer %05d under last.\nHilsen %s", i, name)
	logs.Secret(name, addr, msg)
	body, _ := json.Marshal(map[string]string{"name": name, "email": addr, "message": msg})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://www.example.no")
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("submission %d: %v", i, err)
		return result{}
	}
	defer resp.Body.Close()
	var a struct{ ID string }
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &a)
	return result{status: resp.StatusCode, id: a.ID}
}

// idOf reads the id line staff see at the bottom of each email.
func idOf(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if id, ok := strings.CutPrefix(line, "Innsendings-ID: "); ok {
			return strings.TrimSpace(id)
		}
	}
	return ""
}

// copyStatuses counts the stored submissions by status (markers aside).
func copyStatuses(t *testing.T, table string) map[string]int {
	t.Helper()
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(env.DynamoURL) })
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": dynamo.AttrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: dynamo.KindSubmission}},
	})
	out := map[string]int{}
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[dynamo.Decode(it).Status]++
		}
	}
	return out
}
