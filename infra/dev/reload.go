package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/httpapi"
)

// liveSubmit is the submit handler built from the forms file as it is now:
// an operator who edits infra/dev/forms.json sees the change on the next
// request, without restarting the emulators (and losing the mail in them).
type liveSubmit struct {
	path string
	// build wires the handler for a configuration (app.Submit).
	build   func(context.Context, *config.Config) (*httpapi.Handler, error)
	out     io.Writer
	current atomic.Pointer[httpapi.Handler]
	last    []byte // the file's content the current handler was built from
}

// load builds the handler from the file. A file that does not load leaves
// the previous handler serving.
func (l *liveSubmit) load(ctx context.Context) error {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return &config.Error{Key: config.EnvFormsFile, Reason: err.Error()}
	}
	l.last = data
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	h, err := l.build(ctx, cfg)
	if err != nil {
		return err
	}
	l.current.Store(h)
	return nil
}

// config is the configuration being served.
func (l *liveSubmit) config() *config.Config { return l.current.Load().Config }

// Handle serves a request with the current handler.
func (l *liveSubmit) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return l.current.Load().Handle(ctx, ev)
}

// watch reloads the file whenever its content changes. Polling (once a
// second) needs no file-notification library and sees editors that replace
// the file as well as those that write it in place.
func (l *liveSubmit) watch(ctx context.Context, every time.Duration) {
	schedule(ctx, every, func() {
		changed, err := l.reloadIfChanged(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(l.out, "kontakt: %s not reloaded, still serving the previous forms: %v\n", l.path, err)
		case changed:
			fmt.Fprintf(l.out, "kontakt: reloaded %s: %s\n", l.path, formList(l.config()))
		}
	})
}

// reloadIfChanged loads the file if its content differs from what the
// current handler was built from.
func (l *liveSubmit) reloadIfChanged(ctx context.Context) (bool, error) {
	data, err := os.ReadFile(l.path)
	if err != nil || bytes.Equal(data, l.last) {
		return false, nil // mid-save, or unchanged
	}
	return true, l.load(ctx)
}

// formList names the forms and where each may be posted from.
func formList(cfg *config.Config) string {
	var parts []string
	for _, f := range cfg.Forms {
		parts = append(parts, fmt.Sprintf("%s (from %s)", f.ID, strings.Join(f.AllowedOrigins, ", ")))
	}
	return strings.Join(parts, "; ")
}
