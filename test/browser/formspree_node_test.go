package browser_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// @formspree/core's submitForm from Node (no browser, no CORS): JSON and
// FormData posts are sent and read as successes, field errors and an
// unknown form come back with Formspree's codes.
func TestFormspreeCoreFromNode(t *testing.T) {
	integration(t)
	msg := marker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	core := filepath.Join(env.Root, "infra", "node_modules", "@formspree", "core", "dist", "index.mjs")
	out, err := exec.CommandContext(ctx, "node", filepath.Join("testdata", "formspree-node.mjs"), api, core, msg).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]fsResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, name := range []string{"json", "formData"} {
		// Without Origin or Referer, next is the form's own site.
		if r := got[name]; r.Kind != "success" || r.Next != site+"/" {
			t.Errorf("%s: %+v, want success with next %s/", name, r, site)
		}
	}
	invalid := got["invalid"]
	if !slices.Equal(invalid.FieldErrors["email"], []fsError{{"TYPE_EMAIL", "Enter a valid email address."}}) ||
		!slices.Equal(invalid.FieldErrors["message"], []fsError{{"REQUIRED_FIELD_MISSING", "This field is required."}}) {
		t.Errorf("invalid: %+v", invalid)
	}
	if r := got["unknownForm"]; r.Kind != "error" || len(r.FormErrors) != 1 || r.FormErrors[0].Code != "FORM_NOT_FOUND" || r.FormErrors[0].Message == "" {
		t.Errorf("unknown form: %+v", r)
	}
	for _, kind := range []string{"(JSON)", "(FormData)"} {
		if n := len(emailsWith(t, msg+" "+kind)); n != 1 {
			t.Errorf("%d emails for the %s post, want 1", n, strings.Trim(kind, "()"))
		}
	}
}
