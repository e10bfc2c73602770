// Command validate checks the operator's forms file and template.yaml
// without AWS: `make validate`. It prints what it checked and exits non-zero
// with a message naming the bad key.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
)

func main() {
	var forms []string
	flag.Func("forms", "forms configuration file (JSON); may be repeated", func(s string) error {
		forms = append(forms, s)
		return nil
	})
	template := flag.String("template", "template.yaml", "SAM template")
	flag.Parse()
	if err := run(forms, *template); err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		os.Exit(1)
	}
}

func run(forms []string, template string) error {
	for _, f := range forms {
		cfg, err := config.ParseFile(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Printf("ok  %s: %d form(s)\n", f, len(cfg.Forms))
	}
	tpl, err := samtemplate.Load(template)
	if err != nil {
		return fmt.Errorf("%s: %w", template, err)
	}
	for _, fn := range []struct {
		id   string
		vars []string
	}{
		{"SubmitFunction", config.EnvVars},
		{"EraseFunction", config.EraseEnvVars},
		{"RedriveFunction", config.RedriveEnvVars},
	} {
		env, err := samtemplate.FunctionEnv(tpl, fn.id)
		if err != nil {
			return fmt.Errorf("%s: %w", template, err)
		}
		for _, v := range fn.vars {
			if _, ok := env[v]; !ok {
				return fmt.Errorf("%s: %s does not set %s", template, fn.id, v)
			}
		}
	}
	ttl, err := samtemplate.TTLAttribute(tpl, "SubmissionsTable")
	if err != nil {
		return fmt.Errorf("%s: %w", template, err)
	}
	if ttl != dynamo.TTLAttribute {
		return fmt.Errorf("%s: table TTL attribute is %q, the code writes %q", template, ttl, dynamo.TTLAttribute)
	}
	in, err := samtemplate.TableInput(tpl, "SubmissionsTable")
	if err != nil {
		return fmt.Errorf("%s: %w", template, err)
	}
	var indexes []string
	for _, g := range in.GlobalSecondaryIndexes {
		indexes = append(indexes, *g.IndexName)
	}
	for _, want := range []string{dynamo.LookupIndex, dynamo.PendingIndex, dynamo.FormIndex} {
		if !slices.Contains(indexes, want) {
			return fmt.Errorf("%s: table has no index %q", template, want)
		}
	}
	fmt.Printf("ok  %s: functions, table, TTL and indexes agree with the code\n", template)
	return nil
}
