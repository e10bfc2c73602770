package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
)

// An edited forms file is served from the next request on; a broken edit
// is reported and the last good forms keep being served.
func TestLiveSubmitReloadsChangedForms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forms.json")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	form := func(origin string) string {
		return `{"forms":[{"id":"contact","recipients":["post@example.no"],"allowed_origins":["` + origin + `"]}]}`
	}
	t.Setenv(config.EnvTable, "t")
	t.Setenv(config.EnvSender, "kontakt@example.no")
	t.Setenv(config.EnvFormsFile, path)
	write(form("http://127.0.0.1:3000"))
	build := func(_ context.Context, cfg *config.Config) (*httpapi.Handler, error) {
		return &httpapi.Handler{Config: cfg}, nil
	}
	l := &liveSubmit{path: path, build: build, out: io.Discard}
	ctx := context.Background()
	if err := l.load(ctx); err != nil {
		t.Fatal(err)
	}
	allowed := func(origin string) bool { return l.config().Form("contact").OriginAllowed(origin) }

	if changed, err := l.reloadIfChanged(ctx); changed || err != nil {
		t.Errorf("unchanged file: changed=%v err=%v", changed, err)
	}
	write(form("http://localhost:4000"))
	if changed, err := l.reloadIfChanged(ctx); !changed || err != nil {
		t.Fatalf("edited file: changed=%v err=%v", changed, err)
	}
	if !allowed("http://localhost:4000") || allowed("http://127.0.0.1:3000") {
		t.Error("the edit is not served")
	}

	write(strings.Replace(form("http://localhost:5000"), "allowed_origins", "allowed_origin", 1))
	changed, err := l.reloadIfChanged(ctx)
	if !changed || err == nil || !strings.Contains(err.Error(), "allowed_origin") {
		t.Errorf("broken edit: changed=%v err=%v, want an error naming the key", changed, err)
	}
	if !allowed("http://localhost:4000") {
		t.Error("a broken edit replaced the last good forms")
	}
	if changed, err := l.reloadIfChanged(ctx); changed || err != nil {
		t.Errorf("the same broken file is reported again: changed=%v err=%v", changed, err)
	}
}
