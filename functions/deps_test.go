// Package functions_test pins what each Lambda binary links: every linked
// package's initialisation runs at cold start, and a package a function
// does not use is code it carries for nothing. A new import that pulls a
// whole path into another function (the HTTP layer into erase, SQS into
// submit) fails here; a deliberate one updates the list.
package functions_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/opt-e/kontakt/"

// shared is what every function links: the start-up, the configuration,
// the table layout and the copy's adapter, the SES adapter and the staff
// email with the domain types they speak, the deadline helper for their
// calls, metrics, and hostname, with which configuration and addresses are
// put into the ASCII form browsers and SES use; attachment, with which a
// submission's files are checked.
var shared = []string{
	"internal/app", "internal/attachment", "internal/config", "internal/deadline", "internal/dynamo", "internal/email", "internal/gcpolicy",
	"internal/hostname", "internal/metrics", "internal/ses", "internal/submission", "internal/wordscan",
}

var linked = map[string]struct {
	own []string // this function's packages besides the shared ones
	sdk []string // the AWS service clients it builds
}{
	"submit": {
		own: []string{"internal/abuse", "internal/app/submit", "internal/bucket", "internal/httpapi", "internal/i18n", "internal/secrets"},
		sdk: []string{"dynamodb", "s3", "secretsmanager", "ses"},
	},
	// erase reads the generated secret: lookup keys are keyed with it; and
	// deletes a person's files from the bucket with their copies.
	"erase": {
		own: []string{"internal/app/erase", "internal/bucket", "internal/dynamo/erasurestore", "internal/email/erasuremail", "internal/erasure", "internal/secrets"},
		sdk: []string{"dynamodb", "s3", "secretsmanager", "ses"},
	},
	"redrive": {
		own: []string{"internal/app/redrive", "internal/bucket", "internal/dynamo/holdstore", "internal/dynamo/redrivestore", "internal/hold", "internal/redrive"},
		sdk: []string{"dynamodb", "s3", "ses"},
	},
	"privacy": {
		own: []string{
			"internal/abuse", "internal/app/privacy", "internal/disclosure", "internal/dynamo/disclosurestore", "internal/dynamo/selfservicestore",
			"internal/email/accessmail", "internal/email/erasuremail", "internal/erasure", "internal/erasurequeue", "internal/httpapi", "internal/httpapi/privacypages",
			"internal/i18n", "internal/secrets",
		},
		sdk: []string{"dynamodb", "secretsmanager", "ses", "sqs"},
	},
}

func TestEachFunctionLinksOnlyItsOwnPath(t *testing.T) {
	for name, want := range linked {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "./"+name).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			var ours, sdk []string
			for _, p := range strings.Fields(string(out)) {
				switch {
				case strings.HasPrefix(p, module+"internal/"):
					ours = append(ours, strings.TrimPrefix(p, module))
				case strings.HasPrefix(p, module):
					if p != module+"functions/"+name {
						t.Errorf("links %s, which is not deployed code", p)
					}
				case strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") && strings.Count(p, "/") == 4:
					sdk = append(sdk, strings.TrimPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"))
				}
			}
			wantOurs := slices.Concat(shared, want.own)
			slices.Sort(wantOurs)
			slices.Sort(ours)
			slices.Sort(sdk)
			if !slices.Equal(ours, wantOurs) {
				t.Errorf("links\n  %v\nwant\n  %v", ours, wantOurs)
			}
			if !slices.Equal(sdk, want.sdk) {
				t.Errorf("builds clients of %v, want %v", sdk, want.sdk)
			}
		})
	}
}
