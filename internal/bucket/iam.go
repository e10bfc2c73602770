package bucket

// The S3 actions each function calls on the files bucket (KONTAKT_FILES_BUCKET),
// on objects only (files/* and, for submit, uploads/*): the template test
// checks each function's policy against these lists, so a new call needs its
// action here and in template.yaml.
//
// Without s3:ListBucket, S3 answers GetObject, HeadObject and
// GetObjectTagging of a missing key with 403 AccessDenied, not 404
// NoSuchKey.
var (
	// SubmitIAMActions: store a submission's files with their retention
	// tag, take over direct uploads, read both back, delete on failure.
	SubmitIAMActions = []string{"s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging"}
	// RedriveIAMActions: read the files again to re-send them; retag the
	// files of copies whose legal hold ends (the hold sweep).
	RedriveIAMActions = []string{"s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"}
	// EraseIAMActions: delete a person's files with their copies.
	EraseIAMActions = []string{"s3:DeleteObject"}
)
