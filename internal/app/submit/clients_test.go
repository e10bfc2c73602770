package submit

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/config"
)

// The S3 clients cost cold-start time: built only for a stack whose forms
// take files.
func TestNewClientsBuildsS3OnlyForFiles(t *testing.T) {
	cfg := &config.Config{Forms: []*config.Form{{ID: "contact"}}}
	if c := NewClients(aws.Config{Region: "eu-north-1"}, cfg); c.S3 != nil || c.Presign != nil || c.Tagging != nil || c.DynamoDB == nil {
		t.Errorf("no form takes files: %+v", c)
	}
	cfg.Forms[0].Files = &config.FileRules{Types: []string{"application/pdf"}, MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20, MaxFiles: 1}
	if c := NewClients(aws.Config{Region: "eu-north-1"}, cfg); c.S3 == nil || c.Presign == nil || c.Tagging == nil {
		t.Errorf("a form takes files: %+v", c)
	}
}
