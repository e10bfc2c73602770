package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/testenv"
)

// devStack writes the stack.json that make dev writes, for the emulators
// TestMain started, and returns its directory.
func devStack(t *testing.T, q *testenv.Queues) string {
	t.Helper()
	dir := t.TempDir()
	info := map[string]string{
		"dynamodb": local.DynamoURL, "sqs": local.SQSURL, "ses": local.SESURL, "mail_viewer": local.SESURL,
		"table": local.Table, "region": os.Getenv("AWS_REGION"), "sender": "kontakt@example.no",
		"secrets": local.Secrets.URL, "secret_id": local.SecretID,
	}
	if q != nil {
		info["erasure_queue_url"], info["erasure_dlq_url"] = q.Erasure.URL, q.DeadLetter.URL
	}
	data, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(dir, "stack.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// local is the emulators' stack that TestMain starts for the tests that
// run the command against make dev's kind of stack; under -short (make
// unit) it is nil and those tests skip (testenv.Gate).
var local *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, testing.Short, &local) }
