// Package chromium starts a real browser, Debian's chromium, headless and
// driven by chromedp, for the browser tests: the tests that show what only
// a browser shows (CORS, redirects, what a visitor reads on the page).
//
// The browser is kept on loopback: every host name except localhost
// resolves to nothing, and the features that call home (updates, sync,
// safe browsing lists, metrics, QUIC) are off, so it runs the same on a
// closed CI machine as on a laptop.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// Names chromium goes by on Debian and elsewhere; KONTAKT_CHROMIUM
// overrides them.
var execNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNotInstalled is returned when no chromium is found.
var ErrNotInstalled = errors.New("chromium not found: install it (Debian: apt-get install chromium) or set KONTAKT_CHROMIUM to its path")

// Options for Start.
type Options struct {
	// Language is the browser's language: navigator.languages and every
	// request's Accept-Language, e.g. "nb". Empty keeps chromium's default.
	Language string
}

// ExecPath finds chromium.
func ExecPath() (string, error) {
	if p := os.Getenv("KONTAKT_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range execNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Start launches chromium with a fresh profile and returns a chromedp
// context for it; tabs are chromedp.NewContext(ctx). stop closes the
// browser and removes the profile.
func Start(parent context.Context, opt Options) (ctx context.Context, stop func(), err error) {
	path, err := ExecPath()
	if err != nil {
		return nil, nil, err
	}
	profile, err := os.MkdirTemp("", "kontakt-chromium-")
	if err != nil {
		return nil, nil, fmt.Errorf("browser profile: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		// Root in a container has no user namespace sandbox to use.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1024, 768),
		// Off the network: nothing but loopback resolves, and nothing
		// phones home.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,AutofillServerCommunication"),
	)
	if opt.Language != "" {
		// Headless chromium ignores --lang for Accept-Language and
		// navigator.languages; --accept-lang sets both.
		opts = append(opts, chromedp.Flag("lang", opt.Language), chromedp.Flag("accept-lang", opt.Language))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(profile)
	}
	// Start the browser now, bound to parent rather than to the first
	// test's deadline.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return ctx, stop, nil
}
