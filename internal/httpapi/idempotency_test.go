package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/submission"
)

// The key comes from the Idempotency-Key header (fetch clients) or the
// _idempotency_key field (plain HTML forms); the header wins. The field is
// an instruction: never content.
func TestIdempotencyKeyReachesTheDomain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		headers []string
		want    string
	}{
		{"header", `{"message":"Hei"}`, []string{"idempotency-key", "9f1c-44"}, "9f1c-44"},
		{"field", `{"message":"Hei","_idempotency_key":"form-77"}`, nil, "form-77"},
		{"header wins", `{"message":"Hei","_idempotency_key":"form-77"}`, []string{"Idempotency-Key", "9f1c-44"}, "9f1c-44"},
		{"none", `{"message":"Hei"}`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{}
			h, _ := newHandler(t, svc)
			resp, _ := h.Handle(context.Background(), post("application/json", tc.body, tc.headers...))
			if resp.StatusCode != 200 || len(svc.got) != 1 {
				t.Fatalf("status %d, %d accepted: %s", resp.StatusCode, len(svc.got), resp.Body)
			}
			s := svc.got[0]
			if s.IdempotencyKey != tc.want {
				t.Errorf("key = %q, want %q", s.IdempotencyKey, tc.want)
			}
			for _, f := range s.Fields {
				if f.Name == "_idempotency_key" {
					t.Error("the key field became content")
				}
			}
		})
	}
}

func TestOverlongIdempotencyKey(t *testing.T) {
	svc := &fakeService{}
	h, _ := newHandler(t, svc)
	long := strings.Repeat("k", submission.MaxIdempotencyKey+1)
	resp, _ := h.Handle(context.Background(), post("application/json", `{"message":"Hei"}`, "idempotency-key", long))
	if resp.StatusCode != 400 || len(svc.got) != 0 {
		t.Fatalf("status %d, accepted %d; want 400 and nothing accepted", resp.StatusCode, len(svc.got))
	}
	if b := decode(t, resp); b.Error != httpapi.CodeIdempotencyKey {
		t.Errorf("error %q, want %q", b.Error, httpapi.CodeIdempotencyKey)
	}
}

// A repeat answered by the domain carries the first submission's id.
func TestRepeatAnswersWithTheFirstID(t *testing.T) {
	h, _ := newHandler(t, nil)
	h.Service = acceptFunc(func(s *submission.Submission) (submission.Outcome, error) {
		s.ID = "first-id"
		return submission.Stored, nil
	})
	resp, _ := h.Handle(context.Background(), post("application/json", `{"message":"Hei"}`, "idempotency-key", "k"))
	if b := decode(t, resp); resp.StatusCode != 202 || b.ID != "first-id" || b.Status != "queued" {
		t.Errorf("status %d, body %+v; want 202 queued with the first id", resp.StatusCode, b)
	}
}

type acceptFunc func(s *submission.Submission) (submission.Outcome, error)

func (f acceptFunc) Accept(_ context.Context, _ *config.Form, s *submission.Submission, _ submission.Gate) (submission.Outcome, error) {
	return f(s)
}
