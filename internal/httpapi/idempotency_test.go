package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// The key comes from the Idempotency-Key header (fetch clients) or the
// _idempotency_key field (plain HTML forms); the header wins. The field is
// an instruction: never content.
func TestIdempotencyKeyReachesTheDomain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string // the Idempotency-Key header, in the spelling sent
		field   string   // the _idempotency_key field; "" for none
		want    string
	}{
		{"header", []string{"idempotency-key", "9f1c-44"}, "", "9f1c-44"},
		{"field", nil, "form-77", "form-77"},
		{"header wins", []string{"Idempotency-Key", "9f1c-44"}, "form-77", "9f1c-44"},
		{"none", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"message":"Hei"}`
			if tc.field != "" {
				body = `{"message":"Hei","_idempotency_key":"` + tc.field + `"}`
			}
			svc := &fakeService{}
			h, _ := newHandler(t, svc)
			resp, _ := h.Handle(context.Background(), post("application/json", body, tc.headers...))
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

// Repeat: these posts name no direct uploads, so none is asked about.
func (f acceptFunc) Repeat(context.Context, *config.Form, *submission.Submission) (submission.Outcome, bool, error) {
	return 0, false, nil
}

// A key that came with another message is a 422 with its own code and a
// localised message, never the first post's success.
func TestReusedKeyIs422(t *testing.T) {
	h, logs := newHandler(t, nil)
	h.Service = acceptFunc(func(s *submission.Submission) (submission.Outcome, error) {
		s.ID = "first-id" // must not leak into the answer
		return 0, submission.ErrKeyReused
	})
	for _, lang := range []string{"nb", "en"} {
		resp, _ := h.Handle(context.Background(), post("application/json", `{"message":"Hei"}`, "idempotency-key", "k", "accept-language", lang))
		b := decode(t, resp)
		want := i18n.Text(lang, i18n.KeyReused, 0)
		if resp.StatusCode != 422 || b.OK || b.Error != httpapi.CodeKeyReused || b.Message != want || b.ID != "" {
			t.Errorf("%s: %d %+v, want 422 %s %q", lang, resp.StatusCode, b, httpapi.CodeKeyReused, want)
		}
		if len(b.Errors) != 1 || b.Errors[0].KontaktCode != httpapi.CodeKeyReused || b.Errors[0].Message != want {
			t.Errorf("%s: errors %+v", lang, b.Errors)
		}
	}
	if !strings.Contains(logs.String(), `"outcome":"idempotency_key_reused"`) {
		t.Errorf("logs: %s", logs)
	}
	// A plain HTML post gets the page, saying so once.
	resp, _ := h.Handle(context.Background(), post("application/x-www-form-urlencoded", "message=Hei&_idempotency_key=k", "accept", "text/html", "accept-language", "nb"))
	if msg := i18n.Text("nb", i18n.KeyReused, 0); resp.StatusCode != 422 || strings.Count(resp.Body, "nøkkel") != 1 {
		t.Errorf("page %d %q, want 422 with %q once", resp.StatusCode, resp.Body, msg)
	}
}

// The domain gets the source's keyed hash for the duplicate window, never
// the address.
func TestSourceReachesTheDomainHashed(t *testing.T) {
	svc := &fakeService{}
	h, _ := newHandler(t, svc)
	for _, ip := range []string{"198.51.100.7", "198.51.100.8"} {
		ev := post("application/json", `{"message":"Hei"}`)
		ev.RequestContext.HTTP.SourceIP = ip
		h.Handle(context.Background(), ev)
	}
	if len(svc.got) != 2 {
		t.Fatalf("%d accepted", len(svc.got))
	}
	a, b := svc.got[0].Source, svc.got[1].Source
	if a == "" || a == b || strings.Contains(a, "198.51") || a != (*abuse.Guard)(nil).SourceKey("198.51.100.7") {
		t.Errorf("sources %q %q", a, b)
	}
}
