package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// EnvTestAWS chooses the AWS implementation the integration and end-to-end
// tests run against: unset for the npm emulators, "moto" for moto_server
// (make test-aws), which enforces much of what real AWS enforces and the
// emulators do not.
const EnvTestAWS = "KONTAKT_TEST_AWS"

// Sender is the address FunctionVars sends from. On moto it is verified as
// an operator verifies it, and mail from any other address is refused, as
// in SES.
const Sender = "kontakt@example.no"

// ConfigurationSet is the SES configuration set the tests name, created on
// moto as the template creates SesConfigurationSet.
const ConfigurationSet = "kontakt-local"

func onMoto() (bool, error) {
	switch v := os.Getenv(EnvTestAWS); v {
	case "":
		return false, nil
	case "moto":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want moto or nothing", EnvTestAWS, v)
	}
}

// OnMoto reports whether the tests run against moto (KONTAKT_TEST_AWS=moto).
func OnMoto() bool {
	m, _ := onMoto()
	return m
}

// motoGaps are the tests that do not run against moto, by the gap in moto
// (not in kontakt) that each meets: real AWS and the npm emulators show
// what those tests check. A test is named as <package directory>.<test
// name>; a subtest's full name skips only it. TestMotoSkipsExist keeps the
// list free of stale names.
var motoGaps = []struct {
	why   string
	tests []string
}{{
	why: "moto keeps no Reply-To of a sent message (ses.Message has source, destinations, subject and one body only)",
	tests: []string{
		"app.TestSubmitSendsAndStores/submit-json.json/Reply-To",
		"app.TestSubmitSendsAndStores/submit-urlencoded.json/Reply-To",
		"e2e.TestSubmitFunction/Reply-To",
		"app.TestInternationalisedAddressIsSentAndErased/Reply-To",
		"browser.TestPlainFormLandsOnNext/Reply-To",
		"browser.TestFormspreeClientsSend/ajax/Reply-To",
		"browser.TestFormspreeClientsSend/core-json/Reply-To",
		"browser.TestFormspreeClientsSend/react/Reply-To",
	},
}, {
	// These meet many requests at one conditional write: the rate-limit
	// counters, the idempotency marker, the redrive claim. On moto they
	// fail at random (12 posts at once got 6 × 200 under a limit of 3).
	why: "moto's conditional writes are not atomic under concurrency: two requests can both pass the same condition",
	tests: []string{
		"app.TestRateLimitUnderConcurrency",
		"app.TestIdenticalPostsAtOnceSendOneEmail",
		"app.TestTwoRedriveRunsAtOnce",
	},
}}

// motoSkips is motoGaps by test: the reason each listed test is skipped.
var motoSkips = func() map[string]string {
	skips := map[string]string{}
	for _, gap := range motoGaps {
		for _, name := range gap.tests {
			skips[name] = gap.why
		}
	}
	return skips
}()

// Gate is every stack test's first line: it skips t under -short (make
// unit, where TestMain started no stack and env is nil) and where the stack
// is moto and t is on the skip list. kind names the test in the skip
// message ("integration test").
func Gate(t testing.TB, env *Env, kind string) {
	t.Helper()
	if env == nil {
		t.Skip(kind + " (not run with -short)")
	}
	SkipOnMoto(t)
}

// SkipOnMoto skips t when the tests run against moto and t is on the skip
// list. The packages' integration gates call it, so every test is checked.
func SkipOnMoto(t testing.TB) {
	t.Helper()
	if !OnMoto() {
		return
	}
	if why, ok := motoSkips[packageDir()+"."+t.Name()]; ok {
		t.Skip("skipped on moto: " + why)
	}
}

// packageDir is the directory name of the package under test: go test
// runs each test binary in its package's directory.
func packageDir() string {
	wd, _ := os.Getwd()
	return filepath.Base(wd)
}

// printMotoSkips says up front which of this package's tests moto skips
// and why, so a run without -v still shows what it did not check.
func printMotoSkips() {
	prefix := packageDir() + "."
	var names []string
	for name := range motoSkips {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "moto: skipping %s: %s\n", n, motoSkips[n])
	}
}

// setUpMoto does on a fresh moto what an operator does before the first
// deploy (README, "Operators"): verify the sender in SES and create the
// configuration set. moto refuses mail from an unverified sender, as SES
// does.
func (e *Env) setUpMoto(ctx context.Context) error {
	ses := sesapi.NewFromConfig(e.AWS)
	if _, err := ses.VerifyEmailIdentity(ctx, &sesapi.VerifyEmailIdentityInput{EmailAddress: aws.String(Sender)}); err != nil {
		return fmt.Errorf("verify sender on moto: %w", err)
	}
	if _, err := ses.CreateConfigurationSet(ctx, &sesapi.CreateConfigurationSetInput{
		ConfigurationSet: &sestypes.ConfigurationSet{Name: aws.String(ConfigurationSet)},
	}); err != nil {
		return fmt.Errorf("create configuration set on moto: %w", err)
	}
	return nil
}

// PutSecret creates or replaces a string secret in Secrets Manager (the
// stand-in, or moto's) and returns its ARN.
func (e *Env) PutSecret(ctx context.Context, name, value string) (string, error) {
	if e.Secrets != nil {
		return e.Secrets.Put(name, value), nil
	}
	sm := secretsmanager.NewFromConfig(e.AWS)
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err == nil {
		return aws.ToString(out.ARN), nil
	}
	if exists := (*smtypes.ResourceExistsException)(nil); !errors.As(err, &exists) {
		return "", fmt.Errorf("create secret: %w", err)
	}
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("put secret: %w", err)
	}
	return aws.ToString(put.ARN), nil
}
