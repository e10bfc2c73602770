package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// results are the figures of one run, by the key names of issue 6 (units
// in the names).
type results map[string]float64

func (r results) add(m map[string]float64) {
	for k, v := range m {
		r[k] = v
	}
}

// targets are the figures' budgets: each must stay at or below its value.
// The handler's CPU and allocations are a guard against regressions (issue
// 11), not a target to chase: SES takes tens of milliseconds per submission.
var targets = map[string]float64{
	"submit_cpu_ns_per_op": 60000,
	"submit_allocs_per_op": 250,
	"e2e_over_max_raw":     1.25,
	"init_over_hello":      1.5,
	// Issue 11's guards: kontakt's own share of a cold start, and memory.
	"max_rss_mb_submit":      30,
	"binary_bytes_submit":    9500000,
	"erase_large_over_small": 1.5,
}

// order is how the table lists the figures; per-function keys follow the
// function list.
func order(names []string) []string {
	keys := []string{
		"submit_cpu_ns_per_op", "submit_allocs_per_op", "submit_bytes_per_op", "submit_gogc100_cpu_ns_per_op",
		"submit_form_cpu_ns_per_op", "submit_form_allocs_per_op", "submit_form_bytes_per_op",
		"e2e_p50_ms", "e2e_p99_ms", "raw_putitem_p50_ms", "raw_sendemail_p50_ms", "e2e_over_max_raw",
		"hello_invoke_p50_ms", "raw_gate_round_p50_ms", "raw_record_round_p50_ms", "e2e_floor_ms", "e2e_over_floor",
		"handler_p50_ms",
	}
	all := append([]string{helloName}, names...)
	for _, n := range all {
		keys = append(keys, "init_ms_"+n)
	}
	keys = append(keys, "init_over_hello")
	for _, n := range names {
		keys = append(keys, "init_over_sdkhello_"+n)
	}
	for _, n := range names {
		keys = append(keys, "max_rss_mb_"+n)
	}
	for _, n := range all {
		keys = append(keys, "binary_bytes_"+n)
	}
	return append(keys,
		"erase_ms_small_table", "erase_ms_large_table", "erase_large_over_small",
		"cost_usd_per_million_submissions",
		"flood_usd_per_10k", "flood_emails_sent_within_window", "flood_held", "flood_refused")
}

// table prints the figures with their targets.
func (r results) table(w io.Writer, names []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tvalue\ttarget\t\t")
	seen := map[string]bool{}
	keys := order(names)
	// Anything not in the fixed order (a figure added later) still shows.
	var rest []string
	for k := range r {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range append(keys, rest...) {
		v, ok := r[k]
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		shown, target, verdict := format(v), "", ""
		if t, ok := budget(k); ok {
			target = "≤ " + format(t)
			verdict = "met"
			if v > t {
				verdict = "MISSED"
			}
			if math.Abs(v) < 10 {
				// A ratio next to its budget: one digit more than format's,
				// or 1.201 would read "1.20 MISSED" against "≤ 1.20".
				shown = fmt.Sprintf("%.3f", v)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", k, shown, target, verdict)
	}
	tw.Flush()
}

// budget is k's budget: from targets, or per function for the keys that
// have one for every function.
func budget(k string) (float64, bool) {
	if t, ok := targets[k]; ok {
		return t, true
	}
	if strings.HasPrefix(k, "init_over_sdkhello_") {
		return 1.2, true
	}
	return 0, false
}

// format prints whole numbers with thousands separators and others with
// three significant decimals at most.
func format(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) >= 1000 {
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// write prints the table and writes the JSON (keys sorted, values rounded
// to what the measurement can tell).
func (r results) write(path string, names []string) error {
	fmt.Println()
	r.table(os.Stdout, names)
	rounded := make(map[string]float64, len(r))
	for k, v := range r {
		rounded[k] = round(v)
	}
	b, err := json.MarshalIndent(rounded, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nbench: wrote %s\n", path)
	return nil
}

// round keeps four significant digits: more would be noise.
func round(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	mag := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	if mag < 1 {
		return math.Round(v)
	}
	return math.Round(v*mag) / mag
}
