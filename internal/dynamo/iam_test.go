package dynamo_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/dynamo"
)

// Direct uploads run in the submit function: their actions must be in its
// policy's list, which the template test checks.
func TestUploadActionsAreSubmits(t *testing.T) {
	for _, a := range dynamo.UploadIAMActions {
		if !slices.Contains(dynamo.SubmitIAMActions, a) {
			t.Errorf("%s is in UploadIAMActions but not in SubmitIAMActions", a)
		}
	}
}

// The operator's commands run under the operator's own IAM identity, not a
// template role: docs/operators.md is where the operator learns what that
// identity needs, so every action the commands call is named there.
func TestOperatorActionsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(doc), "IAM for the operator")
	if i < 0 {
		t.Fatal("docs/operators.md has no \"IAM for the operator\" item")
	}
	section := string(doc[i:min(len(doc), i+1500)])
	for _, a := range slices.Concat(dynamo.HoldIAMActions, dynamo.ExportIAMActions) {
		if name := strings.TrimPrefix(a, "dynamodb:"); !strings.Contains(section, "`"+name+"`") {
			t.Errorf("docs/operators.md's IAM for the operator does not name %s", name)
		}
	}
}
