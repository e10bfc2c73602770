package localstack_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/localstack"
)

// moto starts on loopback and answers its own API; a missing moto_server
// is a loud failure with the command that installs it.
func TestStartMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := localstack.StartMoto(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	resp, err := http.Get(m.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("moto answered %d", resp.StatusCode)
	}
	m.Stop()
	m.Stop()
}
