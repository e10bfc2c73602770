package app_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/infra/harness/faultproxy"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
)

// A double click: two identical posts at the same moment produce one
// email, and both visitors' answers carry the same id.
func TestIdenticalPostsAtOnceSendOneEmail(t *testing.T) {
	integration(t)
	s := newStack(t)
	// SES slow enough that the second post arrives while the first sends.
	s.ses.Set(faultproxy.Fault{Delay: 300e6})
	ev := s.visitor(t, 1)
	answers := make([]answer, 4)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.post(t, ctx(t), ev)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 || a.ID != answers[0].ID {
			t.Errorf("answer %d: %+v, want 200 with id %s", i, a, answers[0].ID)
		}
	}
	assertEmailedOnce(t, []string{answers[0].ID})
}

// keyed is visitor i's post with the Idempotency-Key header key.
func (s *stack) keyed(t *testing.T, i int, key string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := s.visitor(t, i)
	ev.Headers["idempotency-key"] = key
	return ev
}

// A client retry with the same Idempotency-Key and the same message is
// answered like the first request and sends nothing.
func TestIdempotencyKeyRetry(t *testing.T) {
	integration(t)
	s := newStack(t)
	a := s.post(t, ctx(t), s.keyed(t, 1, "order-4711"))
	retry := s.keyed(t, 1, "order-4711")
	retry.RequestContext.HTTP.SourceIP = "203.0.113.99" // another network, same message
	s.logs.Secret(retry.RequestContext.HTTP.SourceIP)
	b := s.post(t, ctx(t), retry)
	if a.status != 200 || b.status != 200 || b.ID != a.ID {
		t.Fatalf("answers %+v / %+v, want the retry answered with the first id", a, b)
	}
	assertEmailedOnce(t, []string{a.ID})
}

// A second visitor's message with a key already used (a page with a fixed
// key) is refused with a 422 of its own, not answered "sent": nothing of it
// is emailed or stored, the first is untouched, and sent again with a new
// key it reaches staff.
func TestIdempotencyKeyReusedWithOtherContent(t *testing.T) {
	integration(t)
	s := newStack(t)
	a := s.post(t, ctx(t), s.keyed(t, 1, "static-key"))
	items := s.items(t)
	second := s.keyed(t, 2, "static-key")
	resp, err := s.submit.Handle(ctx(t), second)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		ID     string `json:"id"`
		Errors []struct {
			Code string `json:"kontakt_code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatal(err)
	}
	if a.status != 200 || resp.StatusCode != 422 || b.OK || b.ID != "" || b.Error != httpapi.CodeKeyReused || len(b.Errors) != 1 || b.Errors[0].Code != httpapi.CodeKeyReused {
		t.Fatalf("first %+v, second %d %s; want 422 %s", a, resp.StatusCode, resp.Body, httpapi.CodeKeyReused)
	}
	if got := s.items(t); got != items {
		t.Errorf("items %d after the refusal, %d before: something was stored", got, items)
	}
	if c := s.copyOf(t, a.ID); c == nil || c.Status != dynamo.StatusSent {
		t.Errorf("first copy %+v, want it sent and untouched", c)
	}
	second.Headers["idempotency-key"] = "static-key-2"
	c := s.post(t, ctx(t), second)
	if c.status != 200 || c.ID == a.ID {
		t.Fatalf("sent again with a new key: %+v", c)
	}
	assertEmailedOnce(t, []string{a.ID, c.ID})
}

// Two people who send the same short text at the same time both reach
// staff: the duplicate window counts the source.
func TestSameTextFromTwoSourcesIsTwoMessages(t *testing.T) {
	integration(t)
	s := newStack(t)
	var ids []string
	for _, ip := range []string{"198.51.100.31", "198.51.100.32"} {
		ev := s.visitor(t, 1) // the same fields
		ev.RequestContext.HTTP.SourceIP = ip
		s.logs.Secret(ip)
		a := s.post(t, ctx(t), ev)
		if a.status != 200 {
			t.Fatalf("post from %s: %+v", ip, a)
		}
		ids = append(ids, a.ID)
	}
	if ids[0] == ids[1] {
		t.Fatal("the second person's message was merged into the first's")
	}
	assertEmailedOnce(t, ids)
}

// The first post was stored (SES down): the repeat is answered 202 like it,
// and redrive sends the one copy once.
func TestRepeatOfAStoredPost(t *testing.T) {
	integration(t)
	s := newStack(t)
	s.ses.Down()
	ev := s.visitor(t, 1)
	a := s.post(t, ctx(t), ev)
	b := s.post(t, ctx(t), ev)
	if a.status != 202 || b.status != 202 || a.ID != b.ID {
		t.Fatalf("answers %+v / %+v, want both 202 with one id", a, b)
	}
	if err := s.ses.Up(); err != nil {
		t.Fatal(err)
	}
	s.redriveSends(t, 1)
	assertEmailedOnce(t, []string{a.ID})
}
