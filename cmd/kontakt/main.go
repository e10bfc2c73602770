// Command kontakt is the operator's tool for a kontakt deployment: it says
// whether the deployment is healthy (doctor, status) and does the operator's
// tasks (requeue, erase, ...), with the operator's own AWS credentials
// (profiles, SSO: the SDK's standard chain) or against `make dev` (--local).
//
//	go install github.com/opt-e/kontakt/cmd/kontakt@latest
//	kontakt [global options] <command> [options]
//
// Layout: one file per subcommand (cmd/kontakt/<name>.go) defining a
// func that returns a *command with its own flag.FlagSet and help text, and
// one line in the commands table below. What the stack's resources are
// called, and the SDK configuration that reaches them, come from package
// cmd/kontakt/internal/stack; a subcommand builds the clients it needs from
// env.Stack.AWS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/opt-e/kontakt/cmd/kontakt/internal/stack"
)

// commands is the dispatch table: every subcommand, in the order `kontakt
// help` lists them.
var commands = []func() *command{
	doctorCommand,
	statusCommand,
	requeueCommand,
	eraseCommand,
	holdCommand,
	releaseCommand,
	exportCommand,
}

// command is one subcommand.
type command struct {
	Name string
	// Summary is its line in `kontakt help`.
	Summary string
	// Usage follows "kontakt <name>" in its synopsis, e.g. "--id ID".
	Usage string
	// Help is printed by --help above the flags: what it does, what it
	// changes, an example.
	Help string
	// Flags are the subcommand's own; the global options are added to them
	// so that they may come after the subcommand's name too.
	Flags *flag.FlagSet
	// NoStack: Run gets no resolved stack (env.Stack is nil).
	NoStack bool
	// Run does the work. An error is printed as "kontakt <name>: <error>"
	// and exits 1; a usageError exits 2; an exitError exits with its code
	// and prints nothing more (Run has said why).
	Run func(ctx context.Context, env *env) error
}

// newCommand makes a command with an empty flag set of its name.
func newCommand(name, summary, usage, help string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &command{Name: name, Summary: summary, Usage: usage, Help: help, Flags: fs}
}

// env is what Run gets.
type env struct {
	Stack *stack.Stack
	// Args are the arguments left after the flags.
	Args     []string
	Out, Err io.Writer
}

// usageError is wrong use of a command: exit status 2 and a pointer to --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError ends the command with a status and no further message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// globals are the options every subcommand takes, before or after its name.
type globals struct {
	region, stack, devDir string
	local                 bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.region, "region", g.region, "AWS region of the stack (default: the profile's or AWS_REGION)")
	fs.StringVar(&g.stack, "stack", g.stack, "CloudFormation stack name given to sam deploy (default $KONTAKT_STACK, else \""+stack.DefaultName+"\")")
	fs.BoolVar(&g.local, "local", g.local, "work on the local stack of make dev (.dev/stack.json) instead of AWS")
	fs.StringVar(&g.devDir, "dev-dir", g.devDir, "with --local: the directory holding stack.json (default: .dev in this directory or above)")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stack: os.Getenv("KONTAKT_STACK")}
	top := flag.NewFlagSet("kontakt", flag.ContinueOnError)
	top.SetOutput(stderr)
	g.register(top)
	top.Usage = func() { topUsage(stderr, top) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := top.Args()
	if len(rest) == 0 {
		topUsage(stderr, top)
		return 2
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			topUsage(stdout, top)
			return 0
		}
		c := find(rest[0])
		if c == nil {
			fmt.Fprintf(stderr, "kontakt: no command %q (kontakt help lists them)\n", rest[0])
			return 2
		}
		g.register(c.Flags)
		c.Flags.SetOutput(stdout)
		commandUsage(c)
		return 0
	}
	c := find(name)
	if c == nil {
		fmt.Fprintf(stderr, "kontakt: no command %q (kontakt help lists them)\n", name)
		return 2
	}
	g.register(c.Flags)
	c.Flags.SetOutput(stderr)
	c.Flags.Usage = func() { commandUsage(c) }
	positional, err := parseInterspersed(c.Flags, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	e := &env{Args: positional, Out: stdout, Err: stderr}
	if !c.NoStack {
		st, err := stack.Resolve(ctx, stack.Options{Region: g.region, Name: g.stack, Local: g.local, DevDir: g.devDir})
		if err != nil {
			fmt.Fprintf(stderr, "kontakt %s: %v\n", c.Name, err)
			return 1
		}
		e.Stack = st
	}
	err = c.Run(ctx, e)
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "kontakt %s: %v\nusage: kontakt %s %s (kontakt %s --help explains)\n", c.Name, err, c.Name, c.Usage, c.Name)
		return 2
	default:
		fmt.Fprintf(stderr, "kontakt %s: %v\n", c.Name, err)
		return 1
	}
}

// parseInterspersed parses flags wherever they are among the arguments
// (kontakt requeue ID --local), as far as "--", and returns the others.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func find(name string) *command {
	for _, mk := range commands {
		if c := mk(); c.Name == name {
			return c
		}
	}
	return nil
}

func topUsage(w io.Writer, top *flag.FlagSet) {
	fmt.Fprint(w, `kontakt: the operator's tool for a kontakt deployment.

usage: kontakt [global options] <command> [options]

commands:
`)
	var names []string
	width := 0
	byName := map[string]*command{}
	for _, mk := range commands {
		c := mk()
		names = append(names, c.Name)
		byName[c.Name] = c
		width = max(width, len(c.Name))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, byName[n].Summary)
	}
	fmt.Fprint(w, `
global options (before or after the command):
`)
	top.SetOutput(w)
	top.PrintDefaults()
	fmt.Fprint(w, `
AWS credentials come from the SDK's standard chain: environment, profiles
(AWS_PROFILE), SSO (aws sso login). "kontakt <command> --help" explains one.
`)
}

func commandUsage(c *command) {
	w := c.Flags.Output()
	fmt.Fprintf(w, "usage: kontakt %s %s\n\n%s\n\noptions:\n", c.Name, c.Usage, strings.TrimSpace(c.Help))
	c.Flags.PrintDefaults()
}
