package samtemplate_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/submission"
)

// Item-level access (dynamodb:LeadingKeys, the partition key id of every
// item a call touches): the public functions may touch only their own kinds
// of items. The patterns are pinned exactly, and then tried against keys the
// code makes, with IAM's matching, so that a pattern which looks right but
// lets a receipt through fails here.

const leadingKeys = "dynamodb:LeadingKeys"

var (
	submissionIDs = strings.Repeat("?", submission.IDLength)
	markers       = dynamo.MarkerPrefix + "*"
	formCounters  = dynamo.RateIDPrefix + "*"
	uploads       = dynamo.UploadPrefix + "*"
	askCounters   = dynamo.RateIDPrefix + erasure.AskCounterPrefix + "*"
	receipts      = dynamo.ReceiptIDPrefix + "*"
	pendings      = dynamo.PendingErasureIDPrefix + "*"
	holds         = dynamo.HoldPrefix + "*"
	accessReceipt = dynamo.AccessReceiptPrefix + "*"
	exportReceipt = dynamo.ExportReceiptPrefix + "*"
	// notCopies are the kinds whose ids may be as long as a submission id:
	// every statement that allows copies excludes them.
	notCopies = []string{receipts, pendings, holds, accessReceipt, exportReceipt}
	// Counters whose name begins with "_": never a form's (a form id
	// begins with a letter or digit), so never the submit function's.
	notFormCounters = dynamo.RateIDPrefix + "_*"
)

// Keys of every kind of item, as the code makes them.
var (
	aSubmission      = submission.NewID()
	aMarker          = dynamo.MarkerPrefix + "0f1e2d3c"
	aFormCounter     = dynamo.RateIDPrefix + "contact#ip#0123abcd#1796170000"
	aFormCeiling     = dynamo.RateIDPrefix + "contact#form#1796170000"
	anAskCounter     = dynamo.RateIDPrefix + erasure.AskCounterPrefix + "page#1796169600"
	aReceipt         = dynamo.ReceiptIDPrefix + "op-2026-11-25-1"
	aShortReceipt    = dynamo.ReceiptIDPrefix + strings.Repeat("r", submission.IDLength-len(dynamo.ReceiptIDPrefix)) // as long as a submission id
	aSelfReceipt     = dynamo.ReceiptIDPrefix + "ss-" + submission.NewID()
	aPendingErasure  = dynamo.PendingErasureIDPrefix + submission.NewID()
	aShortPending    = dynamo.PendingErasureIDPrefix + strings.Repeat("p", submission.IDLength-len(dynamo.PendingErasureIDPrefix))
	aHold            = dynamo.HoldPrefix + "email:" + strings.Repeat("0f", 32)
	aShortHold       = dynamo.HoldPrefix + "id:" + strings.Repeat("h", submission.IDLength-len(dynamo.HoldPrefix+"id:")) // a hold on an id of 18 characters
	aHoldRegistry    = dynamo.HoldRegistryID
	anAccessReceipt  = dynamo.AccessReceiptPrefix + "acc-" + submission.NewID()
	aShortAccess     = dynamo.AccessReceiptPrefix + strings.Repeat("a", submission.IDLength-len(dynamo.AccessReceiptPrefix))
	anExportReceipt  = dynamo.ExportReceiptPrefix + strings.Repeat("e", submission.IDLength-len(dynamo.ExportReceiptPrefix))
	anUpload         = dynamo.UploadPrefix + submission.NewID()
	everyKindOfItems = []string{aSubmission, aMarker, aFormCounter, aFormCeiling, anAskCounter, aReceipt, aShortReceipt, aSelfReceipt, aPendingErasure, aShortPending,
		aHold, aShortHold, aHoldRegistry, anAccessReceipt, aShortAccess, anExportReceipt, anUpload}
)

func TestSubmitFunctionItemLevelAccess(t *testing.T) {
	tpl := load(t)
	// GetItem: markers, and copies for the download links of staff emails.
	assertLeadingKeys(t, tpl, submitFunction, "dynamodb:GetItem", []string{submissionIDs, markers}, append(slices.Clone(notCopies), formCounters))
	assertMayTouch(t, tpl, submitFunction, "dynamodb:GetItem", aSubmission, aMarker)
	assertLeadingKeys(t, tpl, submitFunction, "dynamodb:DeleteItem", []string{markers}, nil)
	assertMayTouch(t, tpl, submitFunction, "dynamodb:DeleteItem", aMarker)
	for _, a := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem"} {
		assertLeadingKeys(t, tpl, submitFunction, a, []string{submissionIDs, markers, formCounters, uploads}, append(notCopies, notFormCounters))
		assertMayTouch(t, tpl, submitFunction, a, aSubmission, aMarker, aFormCounter, aFormCeiling, anUpload)
	}
}

// The privacy pages: pending requests and their counters; for a verified
// access request, reading the person's copies and writing its receipt.
func TestPrivacyFunctionItemLevelAccess(t *testing.T) {
	tpl := load(t)
	assertLeadingKeys(t, tpl, "PrivacyFunction", "dynamodb:DeleteItem", []string{pendings}, nil)
	assertMayTouch(t, tpl, "PrivacyFunction", "dynamodb:DeleteItem", aPendingErasure, aShortPending)
	assertStatement(t, tpl, "PrivacyFunction", "PendingRequests", []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, []string{pendings}, nil)
	assertStatement(t, tpl, "PrivacyFunction", "ReadOwnCopies", []string{"dynamodb:GetItem"}, []string{submissionIDs}, notCopies)
	assertStatement(t, tpl, "PrivacyFunction", "WriteAccessReceipts", []string{"dynamodb:PutItem"}, []string{accessReceipt}, nil)
	assertMayTouch(t, tpl, "PrivacyFunction", "dynamodb:GetItem", aPendingErasure, aShortPending, aSubmission)
	assertMayTouch(t, tpl, "PrivacyFunction", "dynamodb:PutItem", aPendingErasure, aShortPending, anAccessReceipt, aShortAccess)
	assertLeadingKeys(t, tpl, "PrivacyFunction", "dynamodb:UpdateItem", []string{askCounters}, nil)
	assertMayTouch(t, tpl, "PrivacyFunction", "dynamodb:UpdateItem", anAskCounter)
}

// The erase function writes receipts, reads held copies' hold ends and
// deletes copies by key; finding copies (by any address's lookup key)
// cannot be narrowed that way.
func TestEraseFunctionItemLevelAccess(t *testing.T) {
	tpl := load(t)
	assertLeadingKeys(t, tpl, eraseFunction, "dynamodb:BatchWriteItem", []string{submissionIDs}, notCopies)
	assertMayTouch(t, tpl, eraseFunction, "dynamodb:BatchWriteItem", aSubmission)
	assertLeadingKeys(t, tpl, eraseFunction, "dynamodb:PutItem", []string{receipts}, nil)
	assertMayTouch(t, tpl, eraseFunction, "dynamodb:PutItem", aReceipt, aShortReceipt, aSelfReceipt)
	// UpdateItem: receipts, and the claim on each copy it erases.
	assertMayTouch(t, tpl, eraseFunction, "dynamodb:UpdateItem", aReceipt, aShortReceipt, aSelfReceipt, aSubmission)
	assertStatement(t, tpl, eraseFunction, "ClaimAndDeleteCopies", []string{"dynamodb:BatchWriteItem", "dynamodb:UpdateItem"}, []string{submissionIDs}, notCopies)
	assertStatement(t, tpl, eraseFunction, "WriteReceipts", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, []string{receipts}, nil)
	assertStatement(t, tpl, eraseFunction, "ReadHeldCopies", []string{"dynamodb:GetItem"}, []string{submissionIDs}, notCopies)
	assertMayTouch(t, tpl, eraseFunction, "dynamodb:GetItem", aReceipt, aShortReceipt, aSelfReceipt, aSubmission)
}

// assertStatement checks the statement sid of fn: exactly these actions,
// limited to exactly these patterns (see assertLeadingKeys).
func assertStatement(t *testing.T, tpl *cloudformation.Template, fn, sid string, actions, like, notLike []string) {
	t.Helper()
	stmts := read(t, samtemplate.PolicyStatements, tpl, fn)
	for _, s := range stmts {
		if s.Sid != sid {
			continue
		}
		if s.Effect != "Allow" || !reflect.DeepEqual(sorted(s.Actions), sorted(actions)) {
			t.Errorf("%s: statement %q: %s %q, want Allow %q", fn, sid, s.Effect, s.Actions, actions)
		}
		got, _ := samtemplate.ConditionValue(s.Condition, "ForAllValues:StringLike", leadingKeys)
		if !reflect.DeepEqual(sorted(got), sorted(like)) {
			t.Errorf("%s: statement %q: leading keys like %q, want %q", fn, sid, got, like)
		}
		gotNot, _ := samtemplate.ConditionValue(s.Condition, "ForAllValues:StringNotLike", leadingKeys)
		if !reflect.DeepEqual(sorted(gotNot), sorted(notLike)) {
			t.Errorf("%s: statement %q: leading keys not like %q, want %q", fn, sid, gotNot, notLike)
		}
		return
	}
	t.Errorf("%s: no statement %q", fn, sid)
}

// assertLeadingKeys checks that every statement allowing action limits it
// with ForAllValues:StringLike (and, if notLike, ForAllValues:StringNotLike)
// on dynamodb:LeadingKeys to exactly these patterns: one statement without
// the condition would allow every key.
func assertLeadingKeys(t *testing.T, tpl *cloudformation.Template, fn, action string, like, notLike []string) {
	t.Helper()
	for _, s := range allowing(t, tpl, fn, action) {
		got, _ := samtemplate.ConditionValue(s.Condition, "ForAllValues:StringLike", leadingKeys)
		if !reflect.DeepEqual(sorted(got), sorted(like)) {
			t.Errorf("%s: statement %q allows %s for leading keys like %q, want %q", fn, s.Sid, action, got, like)
		}
		gotNot, _ := samtemplate.ConditionValue(s.Condition, "ForAllValues:StringNotLike", leadingKeys)
		if !reflect.DeepEqual(sorted(gotNot), sorted(notLike)) {
			t.Errorf("%s: statement %q allows %s for leading keys not like %q, want %q", fn, s.Sid, action, gotNot, notLike)
		}
	}
}

// assertMayTouch evaluates the function's statements for action on every
// kind of item and checks it is allowed exactly on want.
func assertMayTouch(t *testing.T, tpl *cloudformation.Template, fn, action string, want ...string) {
	t.Helper()
	stmts := read(t, samtemplate.PolicyStatements, tpl, fn)
	for _, key := range everyKindOfItems {
		allowed := false
		for _, s := range stmts {
			if s.Effect == "Allow" && slices.Contains(s.Actions, action) && leadingKeyMatches(s.Condition, key) {
				allowed = true
			}
		}
		if want := slices.Contains(want, key); allowed != want {
			t.Errorf("%s: %s on item %q allowed = %v, want %v", fn, action, key, allowed, want)
		}
	}
}

// leadingKeyMatches evaluates a statement's LeadingKeys conditions for a
// call on one item, as IAM does: StringLike must match one of its patterns,
// StringNotLike none of its.
func leadingKeyMatches(cond map[string]any, key string) bool {
	if like, ok := samtemplate.ConditionValue(cond, "ForAllValues:StringLike", leadingKeys); ok &&
		!slices.ContainsFunc(like, func(p string) bool { return iamLike(p, key) }) {
		return false
	}
	if notLike, ok := samtemplate.ConditionValue(cond, "ForAllValues:StringNotLike", leadingKeys); ok &&
		slices.ContainsFunc(notLike, func(p string) bool { return iamLike(p, key) }) {
		return false
	}
	return true
}

// iamLike is IAM's StringLike: * matches any run of characters, ? one.
func iamLike(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if iamLike(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && iamLike(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && iamLike(pattern[1:], s[1:])
}

func TestIAMLike(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"idem#*", "idem#abc", true}, {"idem#*", "idem#", true}, {"idem#*", "xidem#", false},
		{"???", "abc", true}, {"???", "ab", false}, {"???", "abcd", false}, {"a*c", "abbbc", true}, {"a*c", "abbbd", false},
	} {
		if got := iamLike(tc.p, tc.s); got != tc.want {
			t.Errorf("iamLike(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// The redrive function claims and records copies, and ends legal holds
// whose date has passed: nothing else.
func TestRedriveFunctionItemLevelAccess(t *testing.T) {
	tpl := load(t)
	assertStatement(t, tpl, "RedriveFunction", "ClaimAndRecordCopies", []string{"dynamodb:UpdateItem"}, []string{submissionIDs}, notCopies)
	assertStatement(t, tpl, "RedriveFunction", "UpdateHoldRegistry", []string{"dynamodb:UpdateItem"}, []string{dynamo.HoldRegistryID}, nil)
	assertMayTouch(t, tpl, "RedriveFunction", "dynamodb:UpdateItem", aSubmission, aHoldRegistry)
	assertLeadingKeys(t, tpl, "RedriveFunction", "dynamodb:GetItem", []string{holds, dynamo.HoldRegistryID}, nil)
	assertMayTouch(t, tpl, "RedriveFunction", "dynamodb:GetItem", aHold, aShortHold, aHoldRegistry)
	assertLeadingKeys(t, tpl, "RedriveFunction", "dynamodb:DeleteItem", []string{holds}, nil)
	assertMayTouch(t, tpl, "RedriveFunction", "dynamodb:DeleteItem", aHold, aShortHold)
}
