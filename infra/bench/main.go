// Command bench measures the submission path against its physical floor, in
// one run on this machine, for `make bench`: CPU per submission, end-to-end
// latency under the Lambda runtime emulator against the raw calls it makes,
// cold starts and binary sizes against a hello-world Lambda built the same
// way, erasure as the table grows, and the cost per million submissions. It
// prints a table and writes .bench/results.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/opt-e/kontakt/infra/harness/rie"
	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/infra/harness/testenv"
)

type options struct {
	out          string
	benchtime    string
	benchCount   int
	initSamples  int
	e2eSamples   int
	smallTable   int
	largeTable   int
	eraseSamples int
	// memoryInvokes is how many events each function handles before its
	// peak resident memory is read.
	memoryInvokes int
	phases        string
	floodBilled   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "results file (default <repo>/.bench/results.json)")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the handler benchmarks")
	flag.IntVar(&o.benchCount, "bench-count", 7, "runs of each handler benchmark (the median is kept)")
	flag.IntVar(&o.initSamples, "init-samples", 25, "cold starts per function (the median is kept)")
	flag.IntVar(&o.e2eSamples, "e2e-samples", 200, "end-to-end submissions (and raw calls) measured")
	flag.IntVar(&o.smallTable, "small-table", 1000, "other submissions in the small table")
	flag.IntVar(&o.largeTable, "large-table", 50000, "other submissions in the large table")
	flag.IntVar(&o.eraseSamples, "erase-samples", 7, "erasures timed per table size (the median is kept)")
	flag.IntVar(&o.memoryInvokes, "memory-invokes", 1000, "invokes of each function before its peak memory (VmHWM) is read")
	flag.StringVar(&o.phases, "phases", "cpu,size,init,memory,e2e,erase,flood", "phases to run (comma-separated); cost needs e2e; flood uses e2e's billed duration when it ran")
	flag.DurationVar(&o.floodBilled, "flood-billed", 50*time.Millisecond, "billed duration per invoke for the flood's price when e2e did not run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "make bench:", err)
		os.Exit(1)
	}
}

// bench is one run: its options, where it works, and what it found.
type bench struct {
	options
	root, dir string
	phase     map[string]bool
	res       results
	// billed is the e2e phase's mean billed duration, when it ran.
	billed  time.Duration
	notes   []string
	started time.Time
}

func run(ctx context.Context, o options) error {
	b := &bench{options: o, root: testenv.RepoRoot(), phase: map[string]bool{}, res: results{}, started: time.Now()}
	b.dir = filepath.Join(b.root, ".bench")
	if b.out == "" {
		b.out = filepath.Join(b.dir, "results.json")
	}
	for _, p := range strings.Split(o.phases, ",") {
		b.phase[strings.TrimSpace(p)] = true
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	b.notes = []string{machine(), "load average at start: " + loadAverage()}
	names, err := functions(b.root)
	if err != nil {
		return err
	}
	if err := b.measure(ctx, names); err != nil {
		return err
	}
	b.step("done")
	b.notes = append(b.notes, "load average at end: "+loadAverage())
	if err := b.res.write(b.out, names); err != nil {
		return err
	}
	for _, n := range b.notes {
		fmt.Println("bench:", n)
	}
	return nil
}

func (b *bench) step(format string, args ...any) {
	fmt.Printf("bench: [%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) measure(ctx context.Context, names []string) error {
	if b.phase["cpu"] {
		b.step("handler benchmarks (go test -bench, %d × %s each)", b.benchCount, b.benchtime)
		cpu, note, err := handlerBenchmarks(ctx, b.root, b.benchtime, b.benchCount)
		if err != nil {
			return err
		}
		b.res.add(cpu)
		b.notes = append(b.notes, note)
	}
	if b.phase["size"] {
		b.step("building %s and hello for linux/arm64", strings.Join(names, ", "))
		arm, err := buildAll(ctx, b.root, filepath.Join(b.dir, "build"), "arm64", append([]string{helloName}, names...))
		if err != nil {
			return err
		}
		sz, err := sizes(arm)
		if err != nil {
			return err
		}
		b.res.add(sz)
	}
	if b.phase["init"] || b.phase["memory"] || b.phase["e2e"] || b.phase["erase"] {
		if err := b.underEmulators(ctx, names); err != nil {
			return err
		}
	}
	if b.phase["flood"] {
		b.step("flood: %d posts from %d addresses against one form, through the real rules", floodPosts, floodSources)
		table, err := b.table()
		if err != nil {
			return err
		}
		f, err := flood(table)
		if err != nil {
			return err
		}
		billed := b.floodBilled
		if b.billed > 0 {
			billed = b.billed
		}
		figs, note := f.figures(billed)
		b.res.add(figs)
		b.notes = append(b.notes, note)
	}
	return nil
}

// underEmulators measures what needs the functions running under the
// Lambda runtime emulator and the AWS-API emulators.
func (b *bench) underEmulators(ctx context.Context, names []string) error {
	b.step("building %s and hello for linux/%s (this machine)", strings.Join(names, ", "), runtime.GOARCH)
	var sdkHellos []string
	for _, n := range names {
		sdkHellos = append(sdkHellos, sdkHelloPrefix+n)
	}
	native, err := buildAll(ctx, b.root, filepath.Join(b.dir, "build"), runtime.GOARCH, slices.Concat([]string{helloName}, sdkHellos, names))
	if err != nil {
		return err
	}
	rieBin, err := rie.Ensure(ctx, b.root)
	if err != nil {
		return err
	}
	b.step("starting the emulators (output in .bench/emulators.log)")
	emuLog, err := os.Create(filepath.Join(b.dir, "emulators.log"))
	if err != nil {
		return err
	}
	defer emuLog.Close()
	env, err := testenv.Start(ctx, testenv.Options{Log: emuLog})
	if err != nil {
		return err
	}
	defer env.Stop()
	if err := writeBenchForms(b.dir); err != nil {
		return err
	}

	if b.phase["init"] {
		b.step("cold starts: %d per function, each under a fresh emulator", b.initSamples)
		// Each function right after its yardstick, so each pair meets the
		// same moment of the machine.
		order := []string{helloName}
		for _, n := range names {
			order = append(order, sdkHelloPrefix+n, n)
		}
		inits, err := coldStarts(ctx, rieBin, env, native, order, b.initSamples)
		if err != nil {
			return err
		}
		for n, ds := range inits {
			if !strings.HasPrefix(n, sdkHelloPrefix) { // the yardsticks are notes
				b.res["init_ms_"+n] = ms(median(ds))
			}
		}
		// Not paired: hello and submit are not neighbours in a round.
		b.res["init_over_hello"] = ms(median(inits["submit"])) / ms(median(inits[helloName]))
		// Each function over the hello-world that builds only the SDK
		// clients it uses: what kontakt's own code adds to a cold start.
		for _, n := range names {
			sdk := inits[sdkHelloPrefix+n]
			b.res["init_over_sdkhello_"+n] = pairedRatio(inits[n], sdk)
			b.notes = append(b.notes, fmt.Sprintf("cold start of hello-world plus %s's SDK set-up (infra/bench/testdata/sdkhello): %.1f ms = %.2f × hello",
				n, ms(median(sdk)), pairedRatio(sdk, inits[helloName])))
		}
	}
	if b.phase["memory"] {
		b.step("peak memory: %d invokes of each function under one emulator", b.memoryInvokes)
		mem, err := peakMemory(ctx, rieBin, env, native, names, b.memoryInvokes)
		if err != nil {
			return err
		}
		b.res.add(mem)
	}
	if b.phase["e2e"] {
		b.step("end-to-end: %d submissions through the submit function, each followed by the raw calls", b.e2eSamples)
		l, err := measureLatency(ctx, rieBin, env, native["submit"], native[helloName], b.e2eSamples, 20)
		if err != nil {
			return err
		}
		table, err := b.table()
		if err != nil {
			return err
		}
		figs, cost := l.figures(table)
		file := costOfAttachment(typicalFileBytes, typicalRetention)
		figs["cost_per_million_attachments_usd"] = file.total() * 1e6
		b.res.add(figs)
		b.billed = mean(l.billed)
		b.notes = append(b.notes,
			fmt.Sprintf("e2e p50 minus max(raw p50s) = %.2f ms; raw UpdateItem (mark sent) p50 %.2f ms; "+
				"hello-world invoke p50 (the emulator's own share) %.2f ms; submit handler in this process p50 %.2f ms",
				figs["e2e_p50_ms"]-max(figs["raw_putitem_p50_ms"], figs["raw_sendemail_p50_ms"]),
				ms(median(l.update)), ms(median(l.hello)), ms(median(l.inProcess))),
			cost.String(), file.String())
	}
	if b.phase["erase"] {
		b.step("erasure: %d and %d other submissions in the table", b.smallTable, b.largeTable)
		er, err := measureErasure(ctx, env, b.smallTable, b.largeTable, b.eraseSamples, b.step)
		if err != nil {
			return err
		}
		b.res.add(er)
	}
	return nil
}

// table is the table as template.yaml defines it, for sizing items by
// DynamoDB's rules with its indexes.
func (b *bench) table() (*dynamodb.CreateTableInput, error) {
	tpl, err := samtemplate.Load(filepath.Join(b.root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	return samtemplate.TableInput(tpl, testenv.TableLogicalID)
}

// machine describes where the figures come from: they mean little without.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("machine: %d CPUs (nproc), %s, %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// loadAverage is the 1, 5 and 15 minute load: on a shared machine it says
// how much the timings are to be trusted.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
