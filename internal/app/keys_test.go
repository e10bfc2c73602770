package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/meeting"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
)

// oneSecret is a secret store that answers every read with value and err.
type oneSecret struct {
	value string
	err   error
}

func (s oneSecret) Get(context.Context, string) (string, error) { return s.value, s.err }

// A missing id, an unreadable secret or one too short to key with stops
// start-up, naming the key.
func TestGeneratedSecretErrorsNameTheKey(t *testing.T) {
	var ce *config.Error
	if _, err := app.GeneratedSecret(context.Background(), "", nil); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("no id: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.GeneratedSecret(context.Background(), "KontaktSecret", oneSecret{err: errors.New("denied")}); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("unreadable: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, err := app.LookupKeys("short"); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("short: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
	if _, _, err := app.Keys(context.Background(), "KontaktSecret", oneSecret{value: "short"}); !errors.As(err, &ce) || ce.Key != config.EnvSecretID {
		t.Errorf("Keys of a short secret: err = %v, want a config error on %s", err, config.EnvSecretID)
	}
}

// Keys hands back the secret it read and the lookup keys derived from it.
func TestKeys(t *testing.T) {
	secret := strings.Repeat("k", 64)
	got, keys, err := app.Keys(context.Background(), "KontaktSecret", oneSecret{value: secret})
	if err != nil || got != secret {
		t.Fatalf("secret %q, %v; want the one read", got, err)
	}
	want, _ := app.LookupKeys(secret)
	if keys.Key("kari@example.no") != want.Key("kari@example.no") {
		t.Error("the lookup keys are not the secret's")
	}
}

// meetingSecrets is a secret store whose reads each wait until every
// other id has been asked for too (meeting.Point): read one after another,
// they never meet.
type meetingSecrets struct {
	at     *meeting.Point
	values map[string]string
	errs   map[string]error
}

func (m meetingSecrets) Get(ctx context.Context, id string) (string, error) {
	if err := m.at.Arrive(ctx, id); err != nil {
		return "", err
	}
	return m.values[id], m.errs[id]
}

// Prefetch reads every secret at once (each read here waits for the
// others), once per id, skips empty ids, hands each error to the Get of
// its own id and sends other ids to the reader behind it.
func TestPrefetchReadsSecretsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := meetingSecrets{at: meeting.New(3), values: map[string]string{"a": "va", "b": "vb"}, errs: map[string]error{"c": errors.New("AccessDeniedException")}}
	p := app.Prefetch(ctx, r, "a", "b", "a", "", "c")
	// Read in the callers' order; the reads themselves already run.
	if v, err := p.Get(ctx, "a"); v != "va" || err != nil {
		t.Errorf("a = %q, %v", v, err)
	}
	if v, err := p.Get(ctx, "b"); v != "vb" || err != nil {
		t.Errorf("b = %q, %v", v, err)
	}
	if _, err := p.Get(ctx, "c"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("c: err = %v, want its own read's error", err)
	}
	if asked := r.at.Arrivals(); asked["a"] != 1 || asked[""] != 0 {
		t.Errorf("asked %v, want a once and no empty id", asked)
	}
	// d was not prefetched: read now, by the reader behind (whose meeting
	// has long been met), and only now.
	if v, err := p.Get(ctx, "d"); v != "" || err != nil || r.at.Arrivals()["d"] != 1 {
		t.Errorf("d (not prefetched) = %q, %v; arrivals %v", v, err, r.at.Arrivals())
	}
}

// A caller whose context ends while a read is still out gets that, not a
// hang.
func TestPrefetchGetHonoursItsContext(t *testing.T) {
	read, cancelRead := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelRead()
	p := app.Prefetch(read, meetingSecrets{at: meeting.New(2)}, "a") // never met: only a is read
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
