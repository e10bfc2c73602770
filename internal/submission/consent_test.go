package submission_test

import (
	"errors"
	"testing"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

func consentForm() *config.Form {
	return &config.Form{ID: "contact", MaxFields: 50, MaxFieldLength: 1000, Consents: []config.Consent{
		{Purpose: config.PurposeOptionalDetails, Field: "details_ok", Fields: []string{"phone", "email"}, PolicyVersion: "2026-03"},
		{Purpose: config.PurposeMarketing, Field: "marketing", PolicyVersion: "2026-03"},
	}}
}

// Each consent is answered on its own: marketing given and optional
// details not leaves the phone out and records both answers; no answer at
// all is no consent.
func TestConsentsByPurpose(t *testing.T) {
	content, ins, err := submission.Check(consentForm(), []submission.Field{
		{Name: "message", Value: "Hei"}, {Name: "phone", Value: "12345678"}, {Name: "email", Value: "kari@example.no"},
		{Name: "marketing", Value: "on"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(content) != 1 || content[0].Name != "message" || ins.ReplyTo != "" {
		t.Errorf("kept %+v, reply-to %q; fields that need the optional_details consent must go", content, ins.ReplyTo)
	}
	if len(ins.Consents) != 2 {
		t.Fatalf("consents = %+v", ins.Consents)
	}
	if c := ins.Consents[0]; c.Purpose != config.PurposeOptionalDetails || c.Given || c.Field != "details_ok" || c.PolicyVersion != "2026-03" {
		t.Errorf("optional details evidence = %+v", c)
	}
	if c := ins.Consents[1]; c.Purpose != config.PurposeMarketing || !c.Given || c.Value != "on" {
		t.Errorf("marketing evidence = %+v", c)
	}

	content, ins, err = submission.Check(consentForm(), []submission.Field{
		{Name: "message", Value: "Hei"}, {Name: "phone", Value: "12345678"}, {Name: "details_ok", Value: "ja"},
	})
	if err != nil || len(content) != 2 || !ins.Consents[0].Given || ins.Consents[1].Given {
		t.Errorf("with details consent: %+v, %+v, %v", content, ins.Consents, err)
	}
}

// A required consent that is not given refuses the post, naming its field.
func TestRequiredConsentByPurpose(t *testing.T) {
	f := consentForm()
	f.Consents[1].Required = true
	_, _, err := submission.Check(f, []submission.Field{{Name: "message", Value: "Hei"}, {Name: "marketing", Value: "nei"}})
	var ve *submission.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "marketing" || ve.Problems[0].Code != submission.CodeConsent {
		t.Errorf("err = %v %+v", err, ve)
	}
}
