package localstack

import (
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
)

// MotoInstall is the one command that installs moto where it is missing
// (see DESIGN.md: moto 5.2.1 with the system Python 3.11).
const MotoInstall = `python3 -m pip install "moto[server]==5.2.1"`

// Moto is a running moto_server: one process that speaks every AWS API
// kontakt uses, stricter than the npm emulators (expression rules,
// unverified SES senders, the 50-recipient limit).
type Moto struct {
	URL string
	p   *child

	mu      sync.Mutex
	cleared map[string]bool // message ids ClearEmails has hidden (motomail.go)
}

// StartMoto starts `moto_server` on 127.0.0.1 (port 0 picks a free one)
// and waits until it answers. ctx bounds the start only.
func StartMoto(ctx context.Context, port int, log io.Writer) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found in PATH; install it with: " + MotoInstall)
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "-H", host, "-p", strconv.Itoa(port))
	cmd.Env = childEnv()
	p, err := startProc("moto", cmd, "Running on", log)
	if err != nil {
		return nil, err
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	if err := p.waitReady(ctx, url+"/moto-api/", startTimeout); err != nil {
		p.stop(stopGrace)
		return nil, err
	}
	return &Moto{URL: url, p: p}, nil
}

// Env points every AWS service kontakt calls at moto, with dummy
// credentials and the fixed region, through the SDK's standard variable.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.URL,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Stop stops moto (SIGTERM, then SIGKILL). Safe to call more than once.
func (m *Moto) Stop() {
	if m != nil && m.p != nil {
		m.p.stop(stopGrace)
		m.p = nil
	}
}
