package samtemplate_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
)

// Assertions on the template's wiring. Each takes the expected values as
// arguments so that a test can pass the code's own constants.

const templatePath = "../../../template.yaml"

func load(t *testing.T) *cloudformation.Template {
	t.Helper()
	tpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", templatePath, err)
	}
	return tpl
}

func loadRaw(t *testing.T) map[string]any {
	t.Helper()
	raw, err := samtemplate.LoadRaw(templatePath)
	if err != nil {
		t.Fatalf("LoadRaw(%s): %v", templatePath, err)
	}
	return raw
}

// read gets one resource's part through a samtemplate accessor
// (FunctionEnv, Table, RawProperties…) from the template, parsed or raw,
// failing t at once when the template has no such part.
func read[Template, Part any](t *testing.T, get func(Template, string) (Part, error), tpl Template, logicalID string) Part {
	t.Helper()
	part, err := get(tpl, logicalID)
	if err != nil {
		t.Fatal(err)
	}
	return part
}

// assertFunctionEnv checks that the function sets exactly the variables in
// want, each to something (a literal or a placeholder), and no others: a
// variable the code does not read is drift too.
func assertFunctionEnv(t *testing.T, tpl *cloudformation.Template, fn string, want []string) {
	t.Helper()
	env := read(t, samtemplate.FunctionEnv, tpl, fn)
	for _, k := range want {
		v, ok := env[k]
		switch {
		case !ok:
			t.Errorf("%s: environment variable %s is not set", fn, k)
		case v == "":
			t.Errorf("%s: environment variable %s is set to nothing (a Ref that goformation could not render?)", fn, k)
		}
	}
	for k := range env {
		if !slices.Contains(want, k) {
			t.Errorf("%s: environment variable %s is set but not expected", fn, k)
		}
	}
}

// assertEnvValue checks one variable's value, e.g. samtemplate.Ref("SubmissionsTable").
func assertEnvValue(t *testing.T, tpl *cloudformation.Template, fn, name, want string) {
	t.Helper()
	env := read(t, samtemplate.FunctionEnv, tpl, fn)
	if got := env[name]; got != want {
		t.Errorf("%s: %s = %q, want %q", fn, name, got, want)
	}
}

// assertPolicyActions checks that the function's inline policies allow
// exactly the actions in want, none with a wildcard.
func assertPolicyActions(t *testing.T, tpl *cloudformation.Template, fn string, want []string) {
	t.Helper()
	got := read(t, samtemplate.PolicyActions, tpl, fn)
	for _, a := range got {
		if strings.Contains(a, "*") {
			t.Errorf("%s: policy action %q has a wildcard", fn, a)
		}
	}
	want = slices.Clone(want)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: policy actions = %q, want exactly %q", fn, got, want)
	}
}

// allowing returns the function's statements that allow action, failing
// the test when none does.
func allowing(t *testing.T, tpl *cloudformation.Template, fn, action string) []samtemplate.Statement {
	t.Helper()
	stmts := read(t, samtemplate.PolicyStatements, tpl, fn)
	var out []samtemplate.Statement
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.Contains(s.Actions, action) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Errorf("%s: no statement allows %s", fn, action)
	}
	return out
}

// assertActionResources checks the resources of every statement that allows
// action.
func assertActionResources(t *testing.T, tpl *cloudformation.Template, fn, action string, want []string) {
	t.Helper()
	for _, s := range allowing(t, tpl, fn, action) {
		if !reflect.DeepEqual(s.Resources, want) {
			t.Errorf("%s: %s is allowed on %q, want %q", fn, action, s.Resources, want)
		}
	}
}

// assertActionCondition checks that every statement allowing action has
// Condition: {operator: {key: want}}.
func assertActionCondition(t *testing.T, tpl *cloudformation.Template, fn, action, operator, key, want string) {
	t.Helper()
	for _, s := range allowing(t, tpl, fn, action) {
		got, ok := samtemplate.Lookup(s.Condition, operator, key)
		if !ok || got != want {
			t.Errorf("%s: statement %q allowing %s has Condition %v, want %s: {%s: %s}", fn, s.Sid, action, s.Condition, operator, key, want)
		}
	}
}

// assertRoutes checks the function's HttpApi routes ("METHOD PATH"), that
// they are on api (a placeholder such as samtemplate.Ref("HttpApi")) and use
// payload format version.
func assertRoutes(t *testing.T, tpl *cloudformation.Template, fn, api, version string, want []string) {
	t.Helper()
	got := read(t, samtemplate.Routes, tpl, fn)
	want = slices.Clone(want)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: routes = %q, want %q", fn, got, want)
	}
	evs := read(t, samtemplate.HTTPAPIEvents, tpl, fn)
	for _, e := range evs {
		if e.API != api {
			t.Errorf("%s: event %s is on API %q, want %q", fn, e.Name, e.API, api)
		}
		if e.PayloadFormatVersion != version {
			t.Errorf("%s: event %s has payload format %q, want %q", fn, e.Name, e.PayloadFormatVersion, version)
		}
	}
}

// assertTTL checks the table's TTL attribute.
func assertTTL(t *testing.T, tpl *cloudformation.Template, table, want string) {
	t.Helper()
	got := read(t, samtemplate.TTLAttribute, tpl, table)
	if got != want {
		t.Errorf("%s: TTL attribute = %q, want %q", table, got, want)
	}
}

// assertIndex checks a global secondary index's keys (with their attribute
// types), projection type and non-key attributes.
func assertIndex(t *testing.T, tpl *cloudformation.Template, table, index string, hash, hashType, rng, rngType, projection string, nonKey []string) {
	t.Helper()
	tb := read(t, samtemplate.Table, tpl, table)
	types := map[string]string{}
	for _, a := range tb.AttributeDefinitions {
		types[a.AttributeName] = a.AttributeType
	}
	for _, g := range tb.GlobalSecondaryIndexes {
		if g.IndexName != index {
			continue
		}
		var keys []string
		for _, k := range g.KeySchema {
			keys = append(keys, k.KeyType+" "+k.AttributeName+" "+types[k.AttributeName])
		}
		wantKeys := []string{"HASH " + hash + " " + hashType}
		if rng != "" {
			wantKeys = append(wantKeys, "RANGE "+rng+" "+rngType)
		}
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Errorf("%s.%s: keys = %q, want %q", table, index, keys, wantKeys)
		}
		gotProj := ""
		var gotNonKey []string
		if g.Projection != nil {
			if g.Projection.ProjectionType != nil {
				gotProj = *g.Projection.ProjectionType
			}
			gotNonKey = g.Projection.NonKeyAttributes
		}
		if gotProj != projection {
			t.Errorf("%s.%s: projection %q, want %q", table, index, gotProj, projection)
		}
		if !reflect.DeepEqual(sorted(gotNonKey), sorted(nonKey)) {
			t.Errorf("%s.%s: non-key attributes %q, want %q", table, index, gotNonKey, nonKey)
		}
		return
	}
	t.Errorf("%s: no global secondary index %s", table, index)
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}
