package faultproxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/internal/ses"
)

// backend plays the emulator: it counts requests and answers SES's success.
func backend(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>m-1</MessageId></SendEmailResult></SendEmailResponse>`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func start(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func awsConfig() aws.Config {
	return aws.Config{Region: "eu-north-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
}

func sesClient(url string) *sesapi.Client {
	return sesapi.NewFromConfig(awsConfig(), func(o *sesapi.Options) { o.BaseEndpoint = aws.String(url) })
}

func send(ctx context.Context, c *sesapi.Client) error {
	_, err := c.SendEmail(ctx, &sesapi.SendEmailInput{
		Source:      aws.String("kontakt@example.no"),
		Destination: &sestypes.Destination{ToAddresses: []string{"post@example.no"}},
		Message:     &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("t")}}},
	})
	return err
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// The canned answers parse, through the real SDK clients, into the error
// codes production code switches on.
func TestAnswersParseAsTheServicesErrors(t *testing.T) {
	srv, hits := backend(t)
	p := start(t, srv.URL)
	ctx := context.Background()
	c := sesClient(p.URL())
	if err := send(ctx, c); err != nil {
		t.Fatalf("pass-through: %v", err)
	}

	p.Set(faultproxy.Fault{Answer: &faultproxy.SESThrottling})
	err := send(ctx, c)
	if errorCode(err) != "Throttling" || ses.Classify(err) != ses.ClassThrottled {
		t.Errorf("SES throttling: code %q class %q (%v)", errorCode(err), ses.Classify(err), err)
	}
	p.Set(faultproxy.Fault{Answer: &faultproxy.SESMessageRejected})
	if err := send(ctx, c); ses.Classify(err) != ses.ClassRejected {
		t.Errorf("SES rejected: class %q (%v)", ses.Classify(err), err)
	}

	db := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL()) })
	for _, tc := range []struct {
		answer faultproxy.Answer
		code   string
	}{
		{faultproxy.DynamoDBThrottling, "ThrottlingException"},
		{faultproxy.DynamoDBThroughputExceeded, "ProvisionedThroughputExceededException"},
	} {
		p.Set(faultproxy.Fault{Answer: &tc.answer})
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
		if got := errorCode(err); got != tc.code {
			t.Errorf("DynamoDB answer: code %q, want %q (%v)", got, tc.code, err)
		}
	}
	if fwd, faulted := p.Counts(); fwd != 1 || faulted != 4 || hits.Load() != 1 {
		t.Errorf("forwarded %d, faulted %d, backend hits %d", fwd, faulted, hits.Load())
	}
}

func TestEveryNthRequest(t *testing.T) {
	srv, hits := backend(t)
	p := start(t, srv.URL)
	p.Set(faultproxy.Fault{Answer: &faultproxy.SESThrottling, Every: 3})
	c := sesClient(p.URL())
	failed := 0
	for range 9 {
		if send(context.Background(), c) != nil {
			failed++
		}
	}
	if failed != 3 || hits.Load() != 6 {
		t.Errorf("%d of 9 failed, %d forwarded; want 3 and 6", failed, hits.Load())
	}
}

// Down refuses connections, even ones the client kept alive; Up serves
// again on the same address.
func TestDownRefusesConnections(t *testing.T) {
	srv, _ := backend(t)
	p := start(t, srv.URL)
	c := sesClient(p.URL())
	if err := send(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	p.Down()
	err := send(context.Background(), c)
	if err == nil || ses.Classify(err) != ses.ClassUnavailable {
		t.Errorf("while down: %v (class %q), want a refused connection", err, ses.Classify(err))
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	if err := send(context.Background(), c); err != nil {
		t.Errorf("after Up: %v", err)
	}
}

// A slow service: the client's deadline ends the call, and the request
// never reaches the backend.
func TestSlowResponses(t *testing.T) {
	srv, hits := backend(t)
	p := start(t, srv.URL)
	p.Set(faultproxy.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := send(ctx, sesClient(p.URL()))
	if !errors.Is(err, context.DeadlineExceeded) || ses.Classify(err) != ses.ClassTimeout {
		t.Errorf("err %v (class %q), want the deadline", err, ses.Classify(err))
	}
	p.Set(faultproxy.Fault{})
	if err := send(context.Background(), sesClient(p.URL())); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("backend hits %d, want only the request after the delay was lifted", hits.Load())
	}
}

func TestLoopbackOnly(t *testing.T) {
	if _, err := faultproxy.Start("http://email.eu-north-1.amazonaws.com"); !errors.Is(err, faultproxy.ErrNotLoopback) {
		t.Errorf("Start on a remote target: %v", err)
	}
}

// A request the service already took still gets its answer when the proxy
// goes down: the client must not be left unsure whether it went through.
func TestDownLetsRequestsInFlightFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>m-1</MessageId></SendEmailResult></SendEmailResponse>`))
	}))
	defer srv.Close()
	p := start(t, srv.URL)
	done := make(chan error, 1)
	go func() { done <- send(context.Background(), sesClient(p.URL())) }()
	<-entered
	p.Down()
	if err := send(context.Background(), sesClient(p.URL())); ses.Classify(err) != ses.ClassUnavailable {
		t.Errorf("a new request while down: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the request in flight failed: %v", err)
	}
}

// Every request the proxy forwards before or while it goes down gets its
// answer: clients keep kept-alive connections busy while Down is called,
// round after round, and the backend must have taken exactly the requests
// the clients saw answered. (A request read as Down closed its connection
// used to be forwarded with its answer lost: a duplicate once the client
// sent it again.) The race is narrow, so this finds a regression in some
// rounds, not in each; it cannot fail while the invariant holds.
func TestDownAnswersEveryRequestItForwards(t *testing.T) {
	if testing.Short() {
		t.Skip("rounds of concurrent requests")
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	const rounds, clients = 150, 4
	for round := range rounds {
		p, err := faultproxy.Start(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		before := hits.Load()
		var answered atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := &http.Transport{MaxIdleConnsPerHost: 1}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := c.Post(p.URL(), "text/plain", strings.NewReader("Action=SendEmail"))
					if err != nil {
						time.Sleep(100 * time.Microsecond) // down: refused at once
						continue
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode == 200 && string(body) == "ok" {
						answered.Add(1)
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%7+1) * time.Millisecond)
		p.Down()
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
		p.Close()
		if got, want := hits.Load()-before, answered.Load(); got != want {
			t.Fatalf("round %d: the backend took %d requests, the clients saw %d answered", round, got, want)
		}
	}
}
