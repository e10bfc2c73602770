package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/internal/config"
)

func TestRedriveAndSubmitSettings(t *testing.T) {
	e := base()
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DuplicateWindow != config.DefaultDuplicateWindow || cfg.ConfigurationSet != "" {
		t.Errorf("defaults: window %v, configuration set %q", cfg.DuplicateWindow, cfg.ConfigurationSet)
	}
	r, err := config.LoadRedrive(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxAttempts != config.DefaultRedriveMaxAttempts || r.Form("contact") == nil {
		t.Errorf("redrive defaults: %d attempts, form %v", r.MaxAttempts, r.Form("contact"))
	}

	e[config.EnvDuplicateWindow] = "0"
	e[config.EnvRedriveMaxAttempts] = "3"
	e[config.EnvConfigurationSet] = "kontakt-prod_1"
	if cfg, err = config.Load(env(e)); err != nil || cfg.DuplicateWindow != 0 || cfg.ConfigurationSet != "kontakt-prod_1" {
		t.Errorf("Load = %+v, %v", cfg, err)
	}
	if r, err = config.LoadRedrive(env(e)); err != nil || r.MaxAttempts != 3 || r.ConfigurationSet != "kontakt-prod_1" {
		t.Errorf("LoadRedrive = %+v, %v", r, err)
	}
	e[config.EnvPrivacyContact] = "personvern@example.no"
	if _, err := config.LoadErase(env(e)); err == nil || !strings.Contains(err.Error(), config.EnvSecretID) {
		t.Errorf("LoadErase without %s: %v, want an error naming it", config.EnvSecretID, err)
	}
	e[config.EnvSecretID] = "KontaktSecret"
	if er, err := config.LoadErase(env(e)); err != nil || er.ConfigurationSet != "kontakt-prod_1" || er.SecretID != "KontaktSecret" || er.FilesBucket != "" {
		t.Errorf("LoadErase = %+v, %v", er, err)
	}
	e[config.EnvFilesBucket] = " kontakt-files-1 "
	if er, err := config.LoadErase(env(e)); err != nil || er.FilesBucket != "kontakt-files-1" {
		t.Errorf("LoadErase with %s = %+v, %v", config.EnvFilesBucket, er, err)
	}
	delete(e, config.EnvFilesBucket)
	e[config.EnvErasureQueueURL] = "https://sqs.eu-north-1.amazonaws.com/1/q"
	e[config.EnvTokenSecret] = "TokenSecret"
	if p, err := config.LoadPrivacy(env(e)); err != nil || p.ConfigurationSet != "kontakt-prod_1" || p.SecretID != "KontaktSecret" {
		t.Errorf("LoadPrivacy = %+v, %v", p, err)
	}
	delete(e, config.EnvSecretID)
	if _, err := config.LoadPrivacy(env(e)); err == nil || !strings.Contains(err.Error(), config.EnvSecretID) {
		t.Errorf("LoadPrivacy without %s: %v, want an error naming it", config.EnvSecretID, err)
	}
	if got := 10 * time.Minute; config.DefaultDuplicateWindow != got {
		t.Errorf("default window %v, want %v", config.DefaultDuplicateWindow, got)
	}
}

// Each bad value is refused at start-up with the key named.
func TestRedriveSettingErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		load       func(func(string) (string, bool)) error
	}{
		{config.EnvDuplicateWindow, "ten", loadSubmit},
		{config.EnvDuplicateWindow, "-1", loadSubmit},
		{config.EnvDuplicateWindow, "1441", loadSubmit},
		{config.EnvRedriveMaxAttempts, "1", loadRedrive},
		{config.EnvRedriveMaxAttempts, "51", loadRedrive},
		{config.EnvRedriveMaxAttempts, "x", loadRedrive},
		{config.EnvConfigurationSet, "has space", loadSubmit},
		{config.EnvConfigurationSet, "a/b", loadRedrive},
	} {
		e := base()
		e[config.EnvPrivacyContact] = "personvern@example.no"
		e[tc.key] = tc.value
		err := tc.load(env(e))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s=%q: %v, want an error naming %s", tc.key, tc.value, err, tc.key)
		}
	}
}

func loadSubmit(l func(string) (string, bool)) error { _, err := config.Load(l); return err }

func loadRedrive(l func(string) (string, bool)) error { _, err := config.LoadRedrive(l); return err }

// The redrive function reads the forms exactly as the submit function
// does, and only the submit function reads the duplicate window.
func TestEnvVarLists(t *testing.T) {
	for _, v := range config.FormEnvVars {
		if !slices.Contains(config.EnvVars, v) || !slices.Contains(config.RedriveEnvVars, v) {
			t.Errorf("%s missing from the submit or redrive list", v)
		}
	}
	if slices.Contains(config.RedriveEnvVars, config.EnvDuplicateWindow) || slices.Contains(config.EnvVars, config.EnvRedriveMaxAttempts) {
		t.Error("a function lists a variable it does not read")
	}
	if !slices.Contains(config.EraseEnvVars, config.EnvConfigurationSet) {
		t.Error("the erase function does not read the configuration set")
	}
}

// The release pace of held posts: 50 a run by default, 1-1000, and a bad
// value names its key.
func TestRedriveRelease(t *testing.T) {
	e := base()
	if r, err := config.LoadRedrive(env(e)); err != nil || r.Release != config.DefaultRedriveRelease {
		t.Fatalf("default: %+v, %v", r, err)
	}
	e[config.EnvRedriveRelease] = " 200 "
	if r, err := config.LoadRedrive(env(e)); err != nil || r.Release != 200 {
		t.Errorf("200: %+v, %v", r, err)
	}
	for _, bad := range []string{"0", "-1", "1001", "many"} {
		e[config.EnvRedriveRelease] = bad
		var ce *config.Error
		if _, err := config.LoadRedrive(env(e)); !errors.As(err, &ce) || ce.Key != config.EnvRedriveRelease {
			t.Errorf("%q: %v, want an error naming %s", bad, err, config.EnvRedriveRelease)
		}
	}
}
