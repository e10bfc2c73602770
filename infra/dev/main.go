// Command dev runs kontakt's whole stack on loopback for `make dev`: the
// pinned AWS-API emulators, the table as template.yaml defines it, the
// submit handler behind a local HTTP → API Gateway adapter on the template's
// routes, the erase function on the erasure queue, the redrive function on a
// schedule, and a demo page. It reloads the forms file when it changes.
// Ctrl-C stops everything it started.
package main

import (
	"context"
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

	"github.com/opt-e/kontakt/infra/harness/apigw"
	"github.com/opt-e/kontakt/infra/harness/esm"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/app/erase"
	"github.com/opt-e/kontakt/internal/app/privacy"
	"github.com/opt-e/kontakt/internal/app/redrive"
	"github.com/opt-e/kontakt/internal/app/submit"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/httpapi"
)

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
		s3Port     = flag.Int("s3-port", 8010, "S3 emulator port (files sent with forms)")
		formsFile  = flag.String("forms", filepath.Join(testenv.RepoRoot(), "infra", "dev", "forms.json"), "forms configuration file")
		redriveInt = flag.Duration("redrive-every", 30*time.Second, "how often the redrive function runs (every 5 minutes on AWS)")
		devDir     = flag.String("dev-dir", filepath.Join(testenv.RepoRoot(), ".dev"), "where stack.json and the emulators' log go (kontakt --local --dev-dir reads it)")
	)
	flag.Parse()
	// Shown relative to where make dev runs, so it reads like the README.
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, *formsFile); err == nil && !strings.HasPrefix(rel, "..") {
			*formsFile = rel
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Fail before starting anything when the API port is taken.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *apiPort))
	if err != nil {
		return fmt.Errorf("API port %d: %w\n(another make dev? choose another port with make dev DEV_FLAGS='-port 3100', and add http://127.0.0.1:3100 to the form's allowed_origins in %s)", *apiPort, err, *formsFile)
	}
	if err := os.MkdirAll(*devDir, 0o755); err != nil {
		return err
	}
	emuLog, err := os.Create(filepath.Join(*devDir, "emulators.log"))
	if err != nil {
		return err
	}
	defer emuLog.Close()

	fmt.Println("kontakt: installing and starting the emulators (first run downloads npm packages)…")
	env, err := testenv.Start(ctx, testenv.Options{DynamoPort: *dynamoPort, SESPort: *sesPort, SQSPort: *sqsPort, S3Port: *s3Port, SQS: true, Log: emuLog})
	if err != nil {
		return fmt.Errorf("%w (emulator output: %s)", err, emuLog.Name())
	}
	defer env.Stop()

	os.Setenv(config.EnvTable, env.Table)
	os.Setenv(config.EnvFilesBucket, env.Bucket)
	if os.Getenv(config.EnvSender) == "" {
		os.Setenv(config.EnvSender, "kontakt@example.no")
	}
	os.Setenv(config.EnvFormsFile, *formsFile)
	os.Setenv(config.EnvSecretID, env.SecretID)
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	submit := &liveSubmit{path: *formsFile, out: os.Stdout, build: func(ctx context.Context, cfg *config.Config) (*httpapi.Handler, error) {
		return submit.Handler(ctx, cfg, submit.NewClients(env.AWS, cfg), log, os.Stdout)
	}}
	if err := submit.load(ctx); err != nil {
		return fmt.Errorf("%s: %w", *formsFile, err)
	}
	go submit.watch(ctx, time.Second)

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
	eraseHandler, err := erase.Handler(ctx, eraseCfg, erase.NewClients(env.AWS), log, os.Stderr, "kontakt-local-erase")
	if err != nil {
		return err
	}
	poller := &esm.Poller{
		Client: sqs.NewFromConfig(env.AWS), QueueURL: queues.Erasure.URL, QueueARN: queues.Erasure.ARN,
		Handler: eraseHandler.Handle, BatchSize: 10, Wait: 1,
		RetryAfter: 10 * time.Second, Timeout: 30 * time.Second, Log: log,
	}
	go poller.Run(ctx)

	// The redrive function on its schedule, as EventBridge Scheduler runs it
	// on AWS: each run gets the function's 60 s timeout.
	redriveCfg, err := config.LoadRedrive(os.LookupEnv)
	if err != nil {
		return err
	}
	rd := redrive.Service(redriveCfg, redrive.NewClients(env.AWS), log, os.Stderr, "kontakt-local-redrive")
	go schedule(ctx, *redriveInt, func() {
		run, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		rd.Handle(run, nil)
	})

	api := fmt.Sprintf("http://127.0.0.1:%d", *apiPort)
	privacyCfg, err := config.LoadPrivacy(func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, ok
		}
		return map[string]string{
			config.EnvPrivacyContact: eraseCfg.PrivacyContact, config.EnvErasureQueueURL: queues.Erasure.URL,
			config.EnvTokenSecret: testenv.TokenSecretID, config.EnvPublicURL: api,
		}[k], true
	})
	if err != nil {
		return err
	}
	privacyHandler, err := privacy.Handler(ctx, privacyCfg, privacy.NewClients(env.AWS), log, os.Stderr, "kontakt-local-privacy")
	if err != nil {
		return err
	}

	// Exactly the routes template.yaml gives the submit function, as API
	// Gateway would route them.
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		return err
	}
	routes, err := samtemplate.Routes(tpl, "SubmitFunction")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	apigw.Mount(mux, submit.Handle, 10*time.Second, routes...)
	erasurePages := &apigw.Adapter{Handler: privacyHandler.Handle, Timeout: 10 * time.Second}
	mux.Handle("/erasure", erasurePages)
	mux.Handle("/erasure/confirm", erasurePages)
	mux.Handle("/privacy", erasurePages)
	mux.Handle("/privacy/confirm", erasurePages)
	mux.Handle("GET /{$}", &demo{api: api, mail: env.SESURL, formsFile: *formsFile, forms: submit.config})
	mux.Handle("GET "+formspreeAjaxPath, formspreeAjax(filepath.Join(testenv.RepoRoot(), "infra")))
	mux.HandleFunc("GET /thanks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="nb"><meta charset="utf-8"><title>Takk!</title><body style="font-family:system-ui;max-width:36rem;margin:3rem auto"><h1>Takk!</h1><p>Meldingen er sendt. Se den i <a href="%s">e-postvisningen</a>.</p><p><a href="/">Tilbake til skjemaet</a></p></body></html>`, env.SESURL)
	})
	form := submit.config().Forms[0]

	info := map[string]any{
		"api":               api,
		"form_url":          api + "/f/" + form.ID,
		"script_url":        api + "/f/" + form.ID + "/" + httpapi.ScriptFile,
		"demo_page":         api + "/",
		"mail_viewer":       env.SESURL,
		"ses":               env.SESURL,
		"sender":            os.Getenv(config.EnvSender),
		"mail_store":        env.SESURL + "/store",
		"dynamodb":          env.DynamoURL,
		"sqs":               env.SQSURL,
		"s3":                env.S3URL,
		"files_bucket":      env.Bucket,
		"erasure_queue_url": queues.Erasure.URL,
		"erasure_dlq_url":   queues.DeadLetter.URL,
		"privacy_contact":   eraseCfg.PrivacyContact,
		"redrive_every":     redriveInt.String(),
		"table":             env.Table,
		"secrets":           env.Secrets.URL,
		"secret_id":         env.SecretID,
		"forms_file":        *formsFile,
		"region":            os.Getenv("AWS_REGION"),
		"emulator_log":      emuLog.Name(),
		// So that a test can stop one emulator and see kontakt doctor say so.
		"emulator_pids": map[string]int{"dynamodb": env.PID("dynamodb"), "ses": env.PID("ses"), "sqs": env.PID("sqs")},
	}
	data, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(*devDir, "stack.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	stackFile := filepath.Join(*devDir, "stack.json")
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, stackFile); err == nil && !strings.HasPrefix(rel, "..") {
			stackFile = rel
		}
	}
	fmt.Printf(`
kontakt is running on loopback (Ctrl-C stops everything):
  demo page     %s/
  form endpoint %s/f/%s     (POST JSON, urlencoded or multipart)
                also /f/protected (abuse rules; tokens at /f/protected/token)
  script        %s/f/%s/%s
  mail viewer   %s               (sent mail as JSON: %s/store)
  DynamoDB      %s   table %s
  SQS           %s
  S3            %s   bucket %s   (files sent with forms)
  erasure queue %s   (make erase EMAIL=…; notices go to %s)
  self-service  %s/privacy   (a copy of one's data, or its erasure; /erasure as before)
  redrive       every %s; a pending email is re-sent from %s after its post
  forms config  %s   (reloaded when you save it)
  forms         %s
  health        go run ./cmd/kontakt doctor --local   (and status, erase, requeue)
  written to    %s

`, api, api, form.ID, api, form.ID, httpapi.ScriptFile, env.SESURL, env.SESURL, env.DynamoURL, env.Table, env.SQSURL, env.S3URL, env.Bucket,
		queues.Erasure.URL, eraseCfg.PrivacyContact, api, *redriveInt, dynamo.FirstRetryDelay, *formsFile, formList(submit.config()), stackFile)
	if !form.OriginAllowed(api) {
		fmt.Printf("warning: the demo page's origin %s is not in allowed_origins of form %q in %s: kontakt will refuse its posts (403). Add it there.\n\n", api, form.ID, *formsFile)
	}

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
