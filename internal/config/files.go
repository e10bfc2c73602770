package config

import (
	"fmt"
	"slices"
	"strings"
)

// EnvFilesBucket names the S3 bucket that keeps visitors' files (the
// template's FilesBucket). Needed when any form takes files.
const EnvFilesBucket = "KONTAKT_FILES_BUCKET"

// EnvMalwareScan is "On" when GuardDuty Malware Protection scans the
// bucket (the template's MalwareScanning): files are then never attached,
// and their download links answer only once the scan found nothing.
const EnvMalwareScan = "KONTAKT_MALWARE_SCAN"

// Limits of files sent inside the form post itself. A request reaches the
// function through API Gateway and Lambda, whose invoke payload is at most
// 6 MB; a multipart body with files arrives base64-encoded (a third
// larger), so about 4.4 MB of body is the most that fits. Larger files go
// by direct upload (FileRules.MaxTotalBytes).
const (
	MaxInlineBodyBytes = 4 << 20
	// DefaultMaxFileBytes and the rest are what a form that takes files
	// gets unless it says otherwise.
	DefaultMaxFileBytes  = 10 << 20
	DefaultMaxTotalBytes = 25 << 20
	DefaultMaxFiles      = 5
	// maxTotalBytesCeiling: what one submission's files may come to at
	// most; the redrive function reads them back into memory to attach them.
	maxTotalBytesCeiling = 50 << 20
	maxFilesCeiling      = 20
)

// FileRetentionTiers are the retention periods a form that takes files may
// have: the bucket's lifecycle rules (template.yaml, FilesBucket) delete a
// file at the age its tag names, and there is one rule per tier.
var FileRetentionTiers = []int{1, 7, 14, 30, 60, 90, 180, 365}

// FileRules are a form's rules for files. A form without them takes none:
// a file part is refused (415, Formspree's NO_FILE_UPLOADS).
type FileRules struct {
	// Types are the allowed types (see attachment.Types), checked against
	// what the file's content is, never its name or declared type.
	Types []string `json:"types"`
	// MaxFileBytes bounds each file; MaxTotalBytes all of a submission's
	// files together; MaxFiles their number.
	MaxFileBytes  int `json:"max_file_bytes,omitempty"`
	MaxTotalBytes int `json:"max_total_bytes,omitempty"`
	MaxFiles      int `json:"max_files,omitempty"`
}

// Allows reports whether files of type t may be sent.
func (r *FileRules) Allows(t string) bool { return r != nil && slices.Contains(r.Types, t) }

func applyFileDefaults(r *FileRules) {
	if r == nil {
		return
	}
	if r.MaxFileBytes == 0 {
		r.MaxFileBytes = DefaultMaxFileBytes
	}
	if r.MaxTotalBytes == 0 {
		r.MaxTotalBytes = max(DefaultMaxTotalBytes, r.MaxFileBytes)
	}
	if r.MaxFiles == 0 {
		r.MaxFiles = DefaultMaxFiles
	}
}

// checkFiles validates f.Files.
func checkFiles(f *Form, key func(string) string) error {
	r := f.Files
	if r == nil {
		return nil
	}
	if len(r.Types) == 0 {
		return &Error{Key: key("files.types"), Reason: "name at least one type, e.g. [\"application/pdf\", \"image/jpeg\"]"}
	}
	for j, t := range r.Types {
		if !slices.Contains(KnownFileTypes, t) {
			return &Error{Key: fmt.Sprintf("%s[%d]", key("files.types"), j), Reason: fmt.Sprintf("%q is not a type kontakt recognises by content (%s)", t, strings.Join(KnownFileTypes, ", "))}
		}
	}
	if r.MaxFileBytes < 1 || r.MaxFileBytes > maxTotalBytesCeiling {
		return &Error{Key: key("files.max_file_bytes"), Reason: fmt.Sprintf("must be between 1 and %d", maxTotalBytesCeiling)}
	}
	if r.MaxTotalBytes < r.MaxFileBytes || r.MaxTotalBytes > maxTotalBytesCeiling {
		return &Error{Key: key("files.max_total_bytes"), Reason: fmt.Sprintf("must be between max_file_bytes (%d) and %d", r.MaxFileBytes, maxTotalBytesCeiling)}
	}
	if r.MaxFiles < 1 || r.MaxFiles > maxFilesCeiling {
		return &Error{Key: key("files.max_files"), Reason: fmt.Sprintf("must be between 1 and %d", maxFilesCeiling)}
	}
	if !slices.Contains(FileRetentionTiers, f.RetentionDays) {
		return &Error{Key: key("retention_days"), Reason: fmt.Sprintf("%d: a form that takes files keeps them for one of %v days (the bucket's lifecycle rules)", f.RetentionDays, FileRetentionTiers)}
	}
	return nil
}

// KnownFileTypes are the types kontakt recognises by content, in the order
// error messages list them; attachment.Types has the same keys (a test
// holds them together).
var KnownFileTypes = []string{
	"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "text/plain",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.oasis.opendocument.text",
}

// TakesFiles reports whether any form takes files.
func (c *Config) TakesFiles() bool {
	for _, f := range c.Forms {
		if f.Files != nil {
			return true
		}
	}
	return false
}
