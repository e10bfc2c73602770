// Command dev runs kontakt's whole stack on loopback for `make dev`: the
// pinned AWS-API emulators, the table as template.yaml defines it, the
// submit handler behind a local HTTP → API Gateway adapter, the erase
// function on the erasure queue, the redrive function on a schedule, and a
// demo page.
// Ctrl-C stops everything it started.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/internal/apigw"
	"github.com/opt-e/kontakt/internal/app"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/esm"
	"github.com/opt-e/kontakt/internal/testenv"
)

//go:embed demo.html
var demoPage string

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		apiPort    = flag.Int("port", 3000, "API and demo page port")
		dynamoPort = flag.Int("dynamo-port", 8000, "DynamoDB emulator port")
		sesPort    = flag.Int("ses-port", 8005, "SES emulator and mail viewer port")
		sqsPort    = flag.Int("sqs-port", 9324, "SQS emulator port")
		formsFile  = flag.String("forms", filepath.Join(testenv.RepoRoot(), "infra", "dev", "forms.json"), "forms configuration file")
		redriveInt = flag.Duration("redrive-every", 30*time.Second, "how often the redrive function runs (every 5 minutes on AWS)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Fail before starting anything when the API port is taken.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *apiPort))
	if err != nil {
		return fmt.Errorf("API port: %w", err)
	}
	devDir := filepath.Join(testenv.RepoRoot(), ".dev")
	if err := os.MkdirAll(devDir, 0o755); err != nil {
		return err
	}
	emuLog, err := os.Create(filepath.Join(devDir, "emulators.log"))
	if err != nil {
		return err
	}
	defer emuLog.Close()

	fmt.Println("kontakt: installing and starting the emulators (first run downloads npm packages)…")
	env, err := testenv.Start(ctx, testenv.Options{DynamoPort: *dynamoPort, SESPort: *sesPort, SQSPort: *sqsPort, SQS: true, Log: emuLog})
	if err != nil {
		return fmt.Errorf("%w (emulator output: %s)", err, emuLog.Name())
	}
	defer env.Stop()

	os.Setenv(config.EnvTable, env.Table)
	if os.Getenv(config.EnvSender) == "" {
		os.Setenv(config.EnvSender, "kontakt@example.no")
	}
	os.Setenv(config.EnvFormsFile, *formsFile)
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	submit := app.Submit(cfg, env.AWS, log)

	// The erase function, fed by a local event source mapping from the
	// erasure queue (created as template.yaml defines it).
	queues, err := env.CreateQueues(ctx, "")
	if err != nil {
		return err
	}
	eraseCfg, err := config.LoadErase(func(k string) (string, bool) {
		if k == config.EnvPrivacyContact && os.Getenv(k) == "" {
			return "personvern@example.no", true
		}
		return os.LookupEnv(k)
	})
	if err != nil {
		return err
	}
	poller := &esm.Poller{
		Client: sqs.NewFromConfig(env.AWS), QueueURL: queues.Erasure.URL, QueueARN: queues.Erasure.ARN,
		Handler: app.Erase(eraseCfg, env.AWS, log).Handle, BatchSize: 10, Wait: 1,
		RetryAfter: 10 * time.Second, Timeout: 30 * time.Second, Log: log,
	}
	go poller.Run(ctx)

	// The redrive function on its schedule, as EventBridge Scheduler runs it
	// on AWS: each run gets the function's 60 s timeout.
	redriveCfg, err := config.LoadRedrive(os.LookupEnv)
	if err != nil {
		return err
	}
	rd := app.Redrive(redriveCfg, env.AWS, log, os.Stderr, "kontakt-local-redrive")
	go schedule(ctx, *redriveInt, func() {
		run, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		rd.Handle(run, nil)
	})

	api := fmt.Sprintf("http://127.0.0.1:%d", *apiPort)
	mux := http.NewServeMux()
	mux.Handle("/f/{form}", &apigw.Adapter{Handler: submit.Handle, Params: []string{"form"}, Timeout: 10 * time.Second})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page := strings.NewReplacer("{{API}}", api, "{{MAIL}}", env.SESURL).Replace(demoPage)
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("GET /thanks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="nb"><meta charset="utf-8"><title>Takk!</title><body style="font-family:system-ui;max-width:36rem;margin:3rem auto"><h1>Takk!</h1><p>Meldingen er sendt. Se den i <a href="%s">e-postvisningen</a>.</p><p><a href="/">Tilbake til skjemaet</a></p></body></html>`, env.SESURL)
	})

	info := map[string]any{
		"api":               api,
		"form_url":          api + "/f/contact",
		"demo_page":         api + "/",
		"mail_viewer":       env.SESURL,
		"mail_store":        env.SESURL + "/store",
		"dynamodb":          env.DynamoURL,
		"sqs":               env.SQSURL,
		"erasure_queue_url": queues.Erasure.URL,
		"erasure_dlq_url":   queues.DeadLetter.URL,
		"privacy_contact":   eraseCfg.PrivacyContact,
		"redrive_every":     redriveInt.String(),
		"table":             env.Table,
		"forms_file":        *formsFile,
		"region":            os.Getenv("AWS_REGION"),
		"emulator_log":      emuLog.Name(),
	}
	data, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(devDir, "stack.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf(`
kontakt is running on loopback (Ctrl-C stops everything):
  demo page     %s/
  form endpoint %s/f/contact     (POST JSON, urlencoded or multipart)
  mail viewer   %s               (sent mail as JSON: %s/store)
  DynamoDB      %s   table %s
  SQS           %s
  erasure queue %s   (make erase EMAIL=…; notices go to %s)
  redrive       every %s; a pending email is re-sent from %s after its post
  forms config  %s
  written to    .dev/stack.json

`, api, api, env.SESURL, env.SESURL, env.DynamoURL, env.Table, env.SQSURL, queues.Erasure.URL, eraseCfg.PrivacyContact,
		*redriveInt, dynamo.FirstRetryDelay, *formsFile)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		fmt.Println("\nkontakt: stopping…")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// schedule calls run every interval until ctx ends, never two at once (on
// AWS the redrive function's reserved concurrency of 1 does the same).
func schedule(ctx context.Context, every time.Duration, run func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
