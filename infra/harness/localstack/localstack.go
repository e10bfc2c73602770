// Package localstack runs the pinned AWS-API emulators from infra/
// (dynalite, aws-ses-v2-local, local-aws-sqs) as child processes on
// 127.0.0.1, and S3 (gofakes3) and a Secrets Manager stand-in in this
// process, for `make dev`, integration and end-to-end tests.
//
// Code under test reaches the emulators only through the SDK's standard
// AWS_ENDPOINT_URL_<SERVICE> variables (see Stack.Env), never through custom
// endpoint resolvers.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opt-e/kontakt/infra/harness/gomod"
)

// Region is the fixed region of the local stack.
const Region = "eu-north-1"

const (
	host         = "127.0.0.1"
	startTimeout = 30 * time.Second
	stopGrace    = 5 * time.Second
)

// Options selects the emulators to start and their ports.
type Options struct {
	// InfraDir holds package.json, node_modules and sqs.mjs. Empty means
	// the infra directory of the module that contains the working directory.
	InfraDir string
	// Ports to listen on; 0 picks a free loopback port.
	DynamoPort, SESPort, SQSPort int
	// Which emulators to start. Secrets is the in-process Secrets Manager
	// stand-in (secrets.go), on SecretsPort; S3 the in-process S3 emulator
	// (s3.go), on S3Port.
	Dynamo, SES, SQS, Secrets, S3 bool
	SecretsPort, S3Port           int
	// Log receives the emulators' output, each line prefixed with the
	// emulator's name. May be nil.
	Log io.Writer
	// Moto serves every service from one moto_server (StartMoto) instead
	// of the npm emulators and the Secrets Manager stand-in: the stricter
	// implementation `make test-aws` runs the suites against. The other
	// fields but Log are ignored; moto listens on DynamoPort (0: any) and
	// serves S3 too.
	Moto bool
}

// Stack is a set of running emulators. URLs are empty for emulators that
// were not started.
type Stack struct {
	DynamoURL, SESURL, SQSURL string
	// S3URL is S3's endpoint (AWS_ENDPOINT_URL_S3): the in-process
	// emulator, S3, or moto.
	S3URL string
	// Secrets is the Secrets Manager stand-in, when started.
	Secrets *Secrets
	// S3 is the in-process S3 emulator, when started (nil on moto).
	S3 *S3
	// Moto serves every URL above when Options.Moto was set; Secrets is
	// then nil and secrets are created through the SDK.
	Moto *Moto

	procs []*child
}

// emulator describes how to run one emulator from infraDir.
type emulator struct {
	name  string
	ready string // printed once listening
	args  func(infra string, port int) []string
	env   []string // added to its environment
}

// SESAccount is what the SES emulator answers to SESv2 GetAccount (it
// answers 400 without one): an account out of the sandbox, sending enabled,
// so that `kontakt doctor --local` checks the same call it makes on AWS.
const SESAccount = `{"DedicatedIpAutoWarmupEnabled":false,"Details":{"AdditionalContactEmailAddresses":[],` +
	`"ContactLanguage":"EN","MailType":"TRANSACTIONAL","ReviewDetails":{"CaseId":"local","Status":"GRANTED"},` +
	`"UseCaseDescription":"kontakt local stack","WebsiteURL":"http://127.0.0.1"},"EnforcementStatus":"HEALTHY",` +
	`"ProductionAccessEnabled":true,"SendingEnabled":true,` +
	`"SendQuota":{"Max24HourSend":50000,"MaxSendRate":14,"SentLast24Hours":0},` +
	`"SuppressionAttributes":{"SuppressedReasons":[]}}`

var (
	dynalite = emulator{
		name:  "dynamodb",
		ready: "Dynalite listening at:",
		args: func(infra string, port int) []string {
			return []string{filepath.Join(infra, "node_modules", "dynalite", "cli.js"),
				"--host", host, "--port", strconv.Itoa(port),
				// Tables are ACTIVE at once; real AWS takes seconds.
				"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
		},
	}
	sesLocal = emulator{
		name:  "ses",
		ready: "aws-ses-v2-local: server running at",
		args: func(infra string, port int) []string {
			return []string{filepath.Join(infra, "node_modules", "aws-ses-v2-local", "dist", "cli.js"),
				"--host", host, "--port", strconv.Itoa(port)}
		},
		env: []string{"AWS_SES_ACCOUNT=" + SESAccount},
	}
	sqsLocal = emulator{
		name:  "sqs",
		ready: "local-aws-sqs listening at:",
		args: func(infra string, port int) []string {
			return []string{filepath.Join(infra, "sqs.mjs"),
				"--host", host, "--port", strconv.Itoa(port), "--region", Region}
		},
	}
)

// Start starts the selected emulators and waits until each answers HTTP.
// ctx bounds the startup only; the emulators run until Stop. If any fails
// to start, the others are stopped and the error includes its output.
func Start(ctx context.Context, opt Options) (*Stack, error) {
	if opt.Moto {
		m, err := StartMoto(ctx, opt.DynamoPort, opt.Log)
		if err != nil {
			return nil, err
		}
		return &Stack{DynamoURL: m.URL, SESURL: m.URL, SQSURL: m.URL, S3URL: m.URL, Moto: m}, nil
	}
	s := &Stack{}
	var infra, node string
	var err error
	if opt.Dynamo || opt.SES || opt.SQS {
		if infra, err = findInfra(opt.InfraDir); err != nil {
			return nil, err
		}
		if node, err = exec.LookPath("node"); err != nil {
			return nil, errors.New("node not found in PATH: the local stack needs Node.js 20+ (see DESIGN.md, Local stack)")
		}
	}
	type want struct {
		on   bool
		emu  emulator
		port int
		url  *string
	}
	for _, w := range []want{
		{opt.Dynamo, dynalite, opt.DynamoPort, &s.DynamoURL},
		{opt.SES, sesLocal, opt.SESPort, &s.SESURL},
		{opt.SQS, sqsLocal, opt.SQSPort, &s.SQSURL},
	} {
		if !w.on {
			continue
		}
		url, err := s.start(ctx, node, infra, w.emu, w.port, opt.Log)
		if err != nil {
			s.Stop()
			return nil, err
		}
		*w.url = url
	}
	if opt.Secrets {
		if s.Secrets, err = StartSecrets(opt.SecretsPort); err != nil {
			s.Stop()
			return nil, err
		}
	}
	if opt.S3 {
		if s.S3, err = StartS3(opt.S3Port); err != nil {
			s.Stop()
			return nil, err
		}
		s.S3URL = s.S3.URL
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context, node, infra string, e emulator, port int, log io.Writer) (string, error) {
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return "", err
		}
	}
	args := e.args(infra, port)
	if _, err := os.Stat(args[0]); err != nil {
		return "", fmt.Errorf("%s not installed in %s (run EnsureInstalled or npm ci): %w", e.name, infra, err)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = infra
	cmd.Env = append(childEnv(), e.env...)
	p, err := startProc(e.name, cmd, e.ready, log)
	if err != nil {
		return "", err
	}
	s.procs = append(s.procs, p)
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	if err := p.waitReady(ctx, url+"/", startTimeout); err != nil {
		return "", err
	}
	return url, nil
}

// childEnv is this process's environment without SMTP_TRANSPORT, which
// would make aws-ses-v2-local relay every stored email to a real server.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SMTP_TRANSPORT=") {
			env = append(env, kv)
		}
	}
	return env
}

// PID is the process id of the emulator named name ("dynamodb", "ses",
// "sqs"), or 0 when it was not started; a test that must see an emulator
// go away (kontakt doctor's red line) stops it by this id.
func (s *Stack) PID(name string) int {
	for _, p := range s.procs {
		if p.name == name && p.cmd.Process != nil {
			return p.cmd.Process.Pid
		}
	}
	return 0
}

// Stop stops every emulator (SIGTERM, then SIGKILL) and waits for them.
// It is safe to call more than once.
func (s *Stack) Stop() {
	for _, p := range s.procs {
		p.stop(stopGrace)
	}
	s.procs = nil
	s.Secrets.Close()
	s.S3.Close()
	s.Moto.Stop()
}

// Env returns the variables that point the AWS SDK at the started
// emulators, with dummy credentials and the fixed region.
func (s *Stack) Env() []string {
	var env []string
	for _, e := range []struct{ key, url string }{
		{"AWS_ENDPOINT_URL_DYNAMODB", s.DynamoURL},
		{"AWS_ENDPOINT_URL_SES", s.SESURL},
		{"AWS_ENDPOINT_URL_SQS", s.SQSURL},
		{"AWS_ENDPOINT_URL_S3", s.S3URL},
		{"AWS_ENDPOINT_URL_SECRETS_MANAGER", s.secretsURL()},
	} {
		if e.url != "" {
			env = append(env, e.key+"="+e.url)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION="+Region,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func (s *Stack) secretsURL() string {
	if s.Moto != nil {
		return s.Moto.URL
	}
	if s.Secrets == nil {
		return ""
	}
	return s.Secrets.URL
}

// Setenv applies Env to this process and returns a func that restores the
// previous values. Not safe alongside parallel tests that read the env.
func (s *Stack) Setenv() (restore func()) {
	type old struct {
		key, val string
		set      bool
	}
	var olds []old
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		prev, set := os.LookupEnv(k)
		olds = append(olds, old{k, prev, set})
		os.Setenv(k, v)
	}
	return func() {
		for _, o := range olds {
			if o.set {
				os.Setenv(o.key, o.val)
			} else {
				os.Unsetenv(o.key)
			}
		}
	}
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// EnsureInstalled runs `npm ci` in infraDir when node_modules is missing or
// older than package.json or package-lock.json. Concurrent callers (test
// binaries of several packages) are serialised with a lock on infraDir, so
// one never wipes node_modules under another's feet.
func EnsureInstalled(ctx context.Context, infraDir string) error {
	infra, err := findInfra(infraDir)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node not found in PATH: the local stack needs Node.js 20+ (see DESIGN.md, Local stack)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm not found in PATH: the local stack needs Node.js 20+ with npm (see DESIGN.md, Local stack)")
	}
	if !stale(infra) {
		return nil
	}
	unlock, err := lockDir(infra)
	if err != nil {
		return err
	}
	defer unlock()
	if !stale(infra) { // installed by whoever held the lock
		return nil
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = infra
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", infra, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stale reports whether node_modules needs a fresh `npm ci`. npm writes
// node_modules/.package-lock.json at the end of every install.
func stale(infra string) bool {
	stamp, err := os.Stat(filepath.Join(infra, "node_modules", ".package-lock.json"))
	if err != nil {
		return true
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		if fi, err := os.Stat(filepath.Join(infra, f)); err == nil && fi.ModTime().After(stamp.ModTime()) {
			return true
		}
	}
	return false
}

// lockDir takes an exclusive flock on dir itself, creating no file.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// findInfra returns dir, or when it is empty the infra directory at the
// module's root.
func findInfra(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	root, err := gomod.Root("")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "infra"), nil
}
