package config

// The variables each function reads from its environment, side by side so
// that one can be read against the others: the SAM template sets exactly
// these on each function, and the template test checks it does.
var (
	// FormEnvVars are the variables that describe the forms: every function
	// that emails a submission (submit, redrive) reads them.
	FormEnvVars = []string{
		EnvTable, EnvSender, EnvRecipients, EnvAllowedOrigins, EnvRetentionDays,
		EnvLanguage, EnvFormID, EnvRedirectURL, EnvFormsFile, EnvConfigurationSet, EnvFilesBucket, EnvPublicURL, EnvMalwareScan,
	}
	// EnvVars lists every variable the submit function reads: the forms, the
	// duplicate window and the generated secret its abuse rules are keyed
	// with.
	EnvVars = append(append([]string{}, FormEnvVars...), EnvDuplicateWindow, EnvSecretID)
	// RedriveEnvVars lists every variable the redrive function reads: it
	// sends the same emails as the submit function, so it reads the same
	// forms.
	RedriveEnvVars = append(append([]string{}, FormEnvVars...), EnvRedriveMaxAttempts, EnvRedriveRelease, EnvAPIURL)
	// EraseEnvVars lists every variable the erase function reads.
	EraseEnvVars = []string{EnvTable, EnvSender, EnvPrivacyContact, EnvReceiptRetentionDays, EnvConfigurationSet, EnvSecretID, EnvFilesBucket}
	// PrivacyEnvVars lists every variable the privacy function reads.
	PrivacyEnvVars = []string{
		EnvTable, EnvSender, EnvPrivacyContact, EnvErasureQueueURL, EnvTokenSecret,
		EnvTokenLifetimeHours, EnvPublicURL, EnvPrivacyNote, EnvLanguage, EnvSecretID, EnvConfigurationSet,
		EnvPolicyURL, EnvPolicyVersion, EnvReceiptRetentionDays,
	}
)
