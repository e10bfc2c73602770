package samtemplate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/dynamo"
)

// Direct uploads run in the submit function: their actions must be in its
// policy's lists, which TestSubmitFunctionPolicy checks.
func TestUploadActionsAreSubmits(t *testing.T) {
	for _, l := range []struct{ upload, submit []string }{
		{dynamo.UploadIAMActions, dynamo.SubmitIAMActions},
		{bucket.UploadIAMActions, bucket.SubmitIAMActions},
	} {
		for _, a := range l.upload {
			if !slices.Contains(l.submit, a) {
				t.Errorf("%s is an upload's action but not in the submit function's list", a)
			}
		}
	}
}

// The operator's commands run under the operator's own IAM identity, not a
// template role: docs/operators.md is where the operator learns what that
// identity needs, so every DynamoDB and S3 action the commands call is
// named there.
func TestOperatorActionsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(templatePath), "docs", "operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(doc), "IAM for the operator")
	if i < 0 {
		t.Fatal("docs/operators.md has no \"IAM for the operator\" item")
	}
	section := string(doc[i:min(len(doc), i+1500)])
	for _, a := range slices.Concat(dynamo.HoldIAMActions, dynamo.ExportIAMActions, bucket.HoldIAMActions) {
		_, name, _ := strings.Cut(a, ":")
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("docs/operators.md's IAM for the operator does not name %s", a)
		}
	}
}
