package dynamo

// FormIndex lists a form's copies by received time (the disclosure export
// between two dates). Keys only: each copy is then read whole.
const FormIndex = "by_form"

// Disclosure receipts: no content, under prefixes of their own.
const (
	KindAccessReceipt    = "access_receipt"
	KindExportReceipt    = "export_receipt"
	AccessReceiptPrefix  = "access-receipt#"
	ExportReceiptPrefix  = "export-receipt#"
	AttrDisclosedBy      = "disclosed_by"
	AttrDisclosureReason = "reason" // on receipts; AttrReason is a held copy's
	AttrSelector         = "selector"
	AttrItemCount        = "item_count"
)
