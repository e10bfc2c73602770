package dynamo

// The DynamoDB actions each function and operator command calls on the
// table and its indexes, side by side so that one can be read against the
// others. The template test checks each function's policy against its
// list, so a new call needs its action here and in template.yaml; the
// operator commands' lists are checked against docs/operators.md, where
// the operator reads what their own identity needs
// (infra/harness/samtemplate/iamlists_test.go, which checks the S3 lists
// too).
var (
	// SubmitIAMActions: the copy (PutItem, UpdateItem) and the idempotency
	// markers (all four).
	SubmitIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	// UploadIAMActions: upload# items are recorded (PutItem), claimed and
	// given back (UpdateItem). All are in SubmitIAMActions.
	UploadIAMActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}
	// RedriveIAMActions: Query on the pending index only, UpdateItem on the
	// table. GetItem and DeleteItem end legal holds whose date has passed
	// (holdstore).
	RedriveIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// EraseIAMActions: the erase function's.
	EraseIAMActions = []string{"dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// PrivacyIAMActions: the privacy function's; Query reads the lookup
	// index for access reports.
	PrivacyIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// HoldIAMActions: the operator's hold and release commands'.
	HoldIAMActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// ExportIAMActions: the operator's export; Query on the lookup and form
	// indexes, GetItem and PutItem on the table.
	ExportIAMActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
)
