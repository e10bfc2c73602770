package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// make validate refuses a form SES could never email: more than 50
// recipients for one message.
func TestValidateRefusesMoreThanFiftyRecipients(t *testing.T) {
	dir := t.TempDir()
	forms := func(n int) string {
		rs := make([]string, n)
		for i := range rs {
			rs[i] = fmt.Sprintf(`"staff%d@example.no"`, i)
		}
		path := filepath.Join(dir, fmt.Sprintf("forms-%d.json", n))
		if err := os.WriteFile(path, []byte(`{"forms":[{"id":"contact","allowed_origins":["https://www.example.no"],"recipients":[`+strings.Join(rs, ",")+`]}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	template := filepath.Join("..", "..", "template.yaml")
	if err := run([]string{forms(50)}, template); err != nil {
		t.Fatalf("50 recipients: %v", err)
	}
	err := run([]string{forms(51)}, template)
	if err == nil || !strings.Contains(err.Error(), "forms[0].recipients") || !strings.Contains(err.Error(), "at most 50") {
		t.Fatalf("51 recipients: %v", err)
	}
}
