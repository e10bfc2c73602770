package config

// EnvFilesBucket names the S3 bucket that holds the files sent with
// submissions (template.yaml's FilesBucket). The submit, redrive, erase
// and privacy functions read it.
const EnvFilesBucket = "KONTAKT_FILES_BUCKET"
