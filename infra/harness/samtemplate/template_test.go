package samtemplate_test

import (
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/policies"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasurequeue"
	"github.com/opt-e/kontakt/internal/httpapi"
	"github.com/opt-e/kontakt/internal/secrets"
	"github.com/opt-e/kontakt/internal/ses"
	"github.com/opt-e/kontakt/internal/submission"
)

// What the code relies on, taken from the code's own constants: a rename on
// either side fails here, not in production.
const (
	submitFunction = "SubmitFunction"
	eraseFunction  = "EraseFunction"
	httpAPI        = "HttpApi"
	table          = "SubmissionsTable"
	ttlAttribute   = dynamo.TTLAttribute
	lookupIndex    = dynamo.LookupIndex
	pendingIndex   = dynamo.PendingIndex
	senderParam    = "SenderAddress"
	secret         = "KontaktSecret"
)

var (
	submitEnv     = config.EnvVars
	submitActions = append(append(append(append([]string{}, dynamo.SubmitIAMActions...), ses.IAMActions...), secrets.IAMActions...), bucket.SubmitIAMActions...)
	eraseActions  = append(append(append(append([]string{}, dynamo.EraseIAMActions...), ses.NoticeIAMActions...), secrets.IAMActions...), bucket.EraseIAMActions...)
	submitRoutes  = []string{"POST /f/{form}", "OPTIONS /f/{form}", "GET /f/{form}/token", "GET /f/{form}/" + httpapi.ScriptFile,
		"GET /f/{form}" + submission.FilesPath + "{submission}/{n}", "POST /f/{form}" + httpapi.UploadsSuffix, "OPTIONS /f/{form}" + httpapi.UploadsSuffix}
)

func TestEraseFunction(t *testing.T) {
	tpl := load(t)
	assertFunctionEnv(t, tpl, eraseFunction, config.EraseEnvVars)
	assertEnvValue(t, tpl, eraseFunction, config.EnvTable, samtemplate.Ref(table))
	assertPolicyActions(t, tpl, eraseFunction, eraseActions)
	// Query on the lookup index only: erasure never scans and never reads
	// the pending index.
	assertActionResources(t, tpl, eraseFunction, "dynamodb:Query", []string{"${SubmissionsTable.Arn}/index/" + lookupIndex})
	assertActionCondition(t, tpl, eraseFunction, "ses:SendEmail", "StringEquals", "ses:FromAddress", samtemplate.Ref(senderParam))
	assertSendResources(t, tpl, eraseFunction)
	// Lookup keys are keyed with the generated secret: erasure reads it
	// (and nothing else in Secrets Manager) to compute them.
	assertEnvValue(t, tpl, eraseFunction, config.EnvSecretID, samtemplate.Ref(secret))
	assertActionResources(t, tpl, eraseFunction, "secretsmanager:GetSecretValue", []string{samtemplate.Ref(secret)})

	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, eraseFunction)
	ev, _ := samtemplate.Lookup(props, "Events", "Erasure", "Properties")
	rt, _ := samtemplate.Lookup(ev, "FunctionResponseTypes")
	if got := fmt.Sprint(rt); got != "[ReportBatchItemFailures]" {
		t.Errorf("FunctionResponseTypes = %s, want [ReportBatchItemFailures]", got)
	}
	timeout, _ := samtemplate.Lookup(props, "Timeout")
	q := read(t, samtemplate.RawProperties, raw, "ErasureQueue")
	vis, _ := samtemplate.Lookup(q, "VisibilityTimeout")
	if vt, ft := samtemplate.Number(vis), samtemplate.Number(timeout); ft == 0 || vt < 6*ft {
		t.Errorf("queue visibility timeout %v < 6 x function timeout %v", vis, timeout)
	}
	// An erasure's claim keeps holds off a copy while the run that made it
	// may still be deleting: with room for the clocks of Lambda and the
	// operator's machine to differ.
	if ft := time.Duration(samtemplate.Number(timeout)) * time.Second; 10*ft > dynamo.ClaimLifetime {
		t.Errorf("erase function timeout %v: dynamo.ClaimLifetime %v must be at least ten times as long", ft, dynamo.ClaimLifetime)
	}
	mrc, _ := samtemplate.Lookup(q, "RedrivePolicy", "maxReceiveCount")
	if samtemplate.Number(mrc) != 5 {
		t.Errorf("maxReceiveCount = %v, want 5", mrc)
	}
	for _, id := range []string{"ErasureQueue", "ErasureDeadLetterQueue"} {
		p, _ := samtemplate.RawProperties(raw, id)
		if sse, _ := samtemplate.Lookup(p, "SqsManagedSseEnabled"); sse != true {
			t.Errorf("%s: server-side encryption is off", id)
		}
	}
	alarm := read(t, samtemplate.RawProperties, raw, "ErasureDeadLetterAlarm")
	if dims, _ := samtemplate.Lookup(alarm, "Dimensions"); !strings.Contains(fmt.Sprint(dims), "ErasureDeadLetterQueue") {
		t.Errorf("the alarm does not watch the dead-letter queue: %v", dims)
	}
}

func TestPrivacyFunction(t *testing.T) {
	tpl := load(t)
	fn := "PrivacyFunction"
	assertFunctionEnv(t, tpl, fn, config.PrivacyEnvVars)
	assertEnvValue(t, tpl, fn, config.EnvTokenSecret, samtemplate.Ref("TokenSecret"))
	assertEnvValue(t, tpl, fn, config.EnvErasureQueueURL, samtemplate.Ref("ErasureQueue"))
	want := append(append(append(append([]string{}, dynamo.PrivacyIAMActions...), ses.NoticeIAMActions...), erasurequeue.IAMActions...), secrets.IAMActions...)
	assertPolicyActions(t, tpl, fn, want)
	assertActionResources(t, tpl, fn, "sqs:SendMessage", []string{samtemplate.GetAtt("ErasureQueue", "Arn")})
	assertActionResources(t, tpl, fn, "secretsmanager:GetSecretValue", []string{samtemplate.Ref("TokenSecret"), samtemplate.Ref(secret)})
	assertEnvValue(t, tpl, fn, config.EnvSecretID, samtemplate.Ref(secret))
	// Links go out with the configuration set, so their bounces reach the
	// feedback topic.
	assertEnvValue(t, tpl, fn, config.EnvConfigurationSet, samtemplate.Ref(configurationSet))
	assertSendResources(t, tpl, fn)
	assertActionCondition(t, tpl, fn, "ses:SendEmail", "StringEquals", "ses:FromAddress", samtemplate.Ref(senderParam))
	assertRoutes(t, tpl, fn, samtemplate.Ref(httpAPI), "2.0", []string{"GET /erasure", "POST /erasure", "GET /erasure/confirm", "POST /erasure/confirm",
		"GET /privacy", "POST /privacy", "GET /privacy/confirm", "POST /privacy/confirm"})
	assertActionResources(t, tpl, fn, "dynamodb:Query", []string{"${SubmissionsTable.Arn}/index/" + lookupIndex})
}

func TestSubmitFunctionBuild(t *testing.T) {
	f := read(t, samtemplate.Function, load(t), submitFunction)
	str := func(p *string) string {
		if p == nil {
			return "<unset>"
		}
		return *p
	}
	if got := str(f.Handler); got != "bootstrap" {
		t.Errorf("Handler = %s, want bootstrap", got)
	}
	if got := str(f.Runtime); got != "provided.al2023" {
		t.Errorf("Runtime = %s, want provided.al2023", got)
	}
	if !reflect.DeepEqual(f.Architectures, []string{"arm64"}) {
		t.Errorf("Architectures = %q, want [arm64]", f.Architectures)
	}
	if f.CodeUri == nil || f.CodeUri.String == nil || *f.CodeUri.String != "." {
		t.Errorf("CodeUri is not \".\" (the Makefile's directory)")
	}
	if got := f.AWSCloudFormationMetadata["BuildMethod"]; got != "makefile" {
		t.Errorf("Metadata.BuildMethod = %v, want makefile (sam build runs build-%s)", got, submitFunction)
	}
	if f.MemorySize == nil || *f.MemorySize != 128 {
		t.Errorf("MemorySize = %v, want 128", f.MemorySize)
	}
	if f.Timeout == nil || *f.Timeout != 10 {
		t.Errorf("Timeout = %v, want 10", f.Timeout)
	}
}

func TestSubmitFunctionLogging(t *testing.T) {
	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, submitFunction)
	if got, _ := samtemplate.Lookup(props, "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("LoggingConfig.LogFormat = %v, want JSON", got)
	}
	if got, _ := samtemplate.Lookup(props, "LoggingConfig", "ApplicationLogLevel"); got != samtemplate.Ref("LogLevel") {
		t.Errorf("LoggingConfig.ApplicationLogLevel = %v, want the LogLevel parameter", got)
	}
	tpl := load(t)
	if got := tpl.Parameters["LogLevel"].Default; got != "INFO" {
		t.Errorf("LogLevel defaults to %v, want INFO", got)
	}
	// The log group the function writes to expires its logs.
	group, _ := samtemplate.Lookup(props, "LoggingConfig", "LogGroup")
	name, ok := samtemplate.RefName(group.(string))
	if !ok {
		t.Fatalf("LoggingConfig.LogGroup = %v, want a Ref to a log group in the template", group)
	}
	lg, err := tpl.GetLogsLogGroupWithName(name)
	if err != nil {
		t.Fatal(err)
	}
	if lg.RetentionInDays == nil {
		t.Errorf("log group %s keeps logs forever", name)
	}
}

func TestSubmitFunctionRoutes(t *testing.T) {
	tpl := load(t)
	assertRoutes(t, tpl, submitFunction, samtemplate.Ref(httpAPI), "2.0", submitRoutes)

	api, err := tpl.GetServerlessHttpApiWithName(httpAPI)
	if err != nil {
		t.Fatal(err)
	}
	if api.CorsConfiguration != nil {
		t.Error("the HTTP API configures CORS; the function answers preflights per form")
	}
	s := api.DefaultRouteSettings
	if s == nil || s.ThrottlingBurstLimit == nil || s.ThrottlingRateLimit == nil {
		t.Fatal("the HTTP API has no default route throttling")
	}
	if *s.ThrottlingBurstLimit < 1 || *s.ThrottlingRateLimit < 1 {
		t.Errorf("default throttling %d/%v must be positive", *s.ThrottlingBurstLimit, *s.ThrottlingRateLimit)
	}
	// Parameter-driven: the typed view shows the defaults, the raw one the Refs.
	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, httpAPI)
	for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
		v, _ := samtemplate.Lookup(props, "DefaultRouteSettings", k)
		if _, ok := samtemplate.RefName(v.(string)); !ok {
			t.Errorf("DefaultRouteSettings.%s = %v, want a parameter", k, v)
		}
	}
}

func TestSubmitFunctionEnv(t *testing.T) {
	tpl := load(t)
	assertFunctionEnv(t, tpl, submitFunction, submitEnv)
	assertEnvValue(t, tpl, submitFunction, "KONTAKT_TABLE", samtemplate.Ref(table))
	assertEnvValue(t, tpl, submitFunction, "KONTAKT_SENDER", samtemplate.Ref(senderParam))
	assertEnvValue(t, tpl, submitFunction, "KONTAKT_RETENTION_DAYS", samtemplate.Ref("RetentionDays"))
	assertEnvValue(t, tpl, submitFunction, config.EnvSecretID, samtemplate.Ref(secret))

	// Every parameter-driven value resolves with the defaults plus a sender.
	env := read(t, samtemplate.FunctionEnv, tpl, submitFunction)
	vars := samtemplate.ParameterDefaults(tpl)
	vars[senderParam] = "skjema@example.no"
	vars[table] = table
	vars[secret] = secret
	vars[configurationSet] = configurationSet
	vars[filesBucket] = filesBucket
	for k, v := range env {
		if _, err := samtemplate.Substitute(v, vars); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if vars["FormId"] != "contact" || vars["DefaultLanguage"] != "nb" || vars["RetentionDays"] != "30" {
		t.Errorf("parameter defaults FormId=%q DefaultLanguage=%q RetentionDays=%q, want contact, nb, 30",
			vars["FormId"], vars["DefaultLanguage"], vars["RetentionDays"])
	}
}

func TestSubmitFunctionPolicy(t *testing.T) {
	tpl := load(t)
	assertPolicyActions(t, tpl, submitFunction, submitActions)
	// The table itself, not its indexes: the submit function never queries.
	for _, a := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem"} {
		assertActionResources(t, tpl, submitFunction, a, []string{samtemplate.GetAtt(table, "Arn")})
	}
	assertSendResources(t, tpl, submitFunction)
	assertActionCondition(t, tpl, submitFunction, "ses:SendEmail", "StringEquals", "ses:FromAddress", samtemplate.Ref(senderParam))
	// Its own generated secret, and captcha secrets under the one prefix
	// that config accepts.
	assertActionResources(t, tpl, submitFunction, "secretsmanager:GetSecretValue", []string{samtemplate.Ref(secret),
		"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + config.CaptchaSecretPrefix + "*"})
}

// The generated secret is long enough for abuse.Keys and has no
// punctuation to trip over in a shell.
func TestGeneratedSecret(t *testing.T) {
	props := read(t, samtemplate.RawProperties, loadRaw(t), secret)
	if n, _ := samtemplate.Lookup(props, "GenerateSecretString", "PasswordLength"); samtemplate.Number(n) < abuse.MinSecretLength {
		t.Errorf("PasswordLength = %v, want at least %d", n, abuse.MinSecretLength)
	}
	if v, _ := samtemplate.Lookup(props, "GenerateSecretString", "ExcludePunctuation"); v != true {
		t.Errorf("ExcludePunctuation = %v, want true", v)
	}
}

func TestSubmissionsTable(t *testing.T) {
	tpl := load(t)
	assertTTL(t, tpl, table, ttlAttribute)
	assertIndex(t, tpl, table, lookupIndex, "lookup_key", "S", "received_at", "N", "INCLUDE", []string{"form_id", ttlAttribute})
	assertIndex(t, tpl, table, pendingIndex, "pending", "S", "next_attempt_at", "N", "ALL", nil)
	assertIndex(t, tpl, table, dynamo.FormIndex, "form_id", "S", "received_at", "N", "KEYS_ONLY", nil)

	tb := read(t, samtemplate.Table, tpl, table)
	if tb.BillingMode == nil || *tb.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", tb.BillingMode)
	}
	if tb.SSESpecification == nil || !tb.SSESpecification.SSEEnabled {
		t.Error("SSE is not enabled")
	}
	if p := tb.PointInTimeRecoverySpecification; p != nil && p.PointInTimeRecoveryEnabled != nil && *p.PointInTimeRecoveryEnabled {
		t.Error("point-in-time recovery is on; a restore would bring erased personal data back")
	}
	if tb.StreamSpecification != nil {
		t.Error("the table has a stream: another copy of personal data to erase")
	}
	if tb.TableName != nil {
		t.Errorf("TableName is set to %q; a fixed name blocks replacement and clashes between stacks", *tb.TableName)
	}
	if tb.AWSCloudFormationDeletionPolicy != policies.DeletionPolicy("Retain") {
		t.Errorf("DeletionPolicy = %q, want Retain", tb.AWSCloudFormationDeletionPolicy)
	}
	if tb.KeySchema == nil || len(tb.KeySchema) != 1 || tb.KeySchema[0].AttributeName != "id" || tb.KeySchema[0].KeyType != "HASH" {
		t.Errorf("KeySchema = %+v, want HASH id", tb.KeySchema)
	}
}

// TableInput must describe exactly the template's table: convert it back and
// compare.
func TestTableInputRoundTrip(t *testing.T) {
	tpl := load(t)
	in := read(t, samtemplate.TableInput, tpl, table)
	if aws.ToString(in.TableName) != table {
		t.Errorf("TableName = %q, want the logical id %q", aws.ToString(in.TableName), table)
	}
	tb := read(t, samtemplate.Table, tpl, table)
	want := *tb
	want.TimeToLiveSpecification = nil // not part of CreateTable
	want.PointInTimeRecoverySpecification = nil
	want.AWSCloudFormationDeletionPolicy = ""
	want.AWSCloudFormationUpdateReplacePolicy = ""
	if got := tableFromInput(in); !reflect.DeepEqual(got, &want) {
		t.Errorf("TableInput does not round-trip:\n got %+v\nwant %+v", got, &want)
	}

	// CreateTable's own rules: every defined attribute is a key somewhere,
	// every key is defined.
	defined := map[string]bool{}
	for _, a := range in.AttributeDefinitions {
		defined[aws.ToString(a.AttributeName)] = true
	}
	used := map[string]bool{}
	keys := in.KeySchema
	for _, g := range in.GlobalSecondaryIndexes {
		keys = append(keys, g.KeySchema...)
	}
	for _, k := range keys {
		n := aws.ToString(k.AttributeName)
		used[n] = true
		if !defined[n] {
			t.Errorf("key attribute %s has no AttributeDefinition", n)
		}
	}
	for n := range defined {
		if !used[n] {
			t.Errorf("attribute %s is defined but is no key (CreateTable rejects that)", n)
		}
	}
}

func tableFromInput(in *awsdynamodb.CreateTableInput) *cfndynamodb.Table {
	out := &cfndynamodb.Table{BillingMode: aws.String(string(in.BillingMode))}
	for _, a := range in.AttributeDefinitions {
		out.AttributeDefinitions = append(out.AttributeDefinitions, cfndynamodb.Table_AttributeDefinition{
			AttributeName: aws.ToString(a.AttributeName), AttributeType: string(a.AttributeType),
		})
	}
	keys := func(in []ddbtypes.KeySchemaElement) []cfndynamodb.Table_KeySchema {
		var out []cfndynamodb.Table_KeySchema
		for _, k := range in {
			out = append(out, cfndynamodb.Table_KeySchema{AttributeName: aws.ToString(k.AttributeName), KeyType: string(k.KeyType)})
		}
		return out
	}
	out.KeySchema = keys(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		p := &cfndynamodb.Table_Projection{ProjectionType: aws.String(string(g.Projection.ProjectionType)), NonKeyAttributes: g.Projection.NonKeyAttributes}
		out.GlobalSecondaryIndexes = append(out.GlobalSecondaryIndexes, cfndynamodb.Table_GlobalSecondaryIndex{
			IndexName: aws.ToString(g.IndexName), KeySchema: keys(g.KeySchema), Projection: p,
		})
	}
	if s := in.SSESpecification; s != nil {
		out.SSESpecification = &cfndynamodb.Table_SSESpecification{SSEEnabled: aws.ToBool(s.Enabled), KMSMasterKeyId: s.KMSMasterKeyId}
		if s.SSEType != "" {
			out.SSESpecification.SSEType = aws.String(string(s.SSEType))
		}
	}
	if in.TableClass != "" {
		out.TableClass = aws.String(string(in.TableClass))
	}
	out.DeletionProtectionEnabled = in.DeletionProtectionEnabled
	return out
}

func TestParameters(t *testing.T) {
	tpl := load(t)
	for name, p := range tpl.Parameters {
		if p.Description == nil || *p.Description == "" {
			t.Errorf("parameter %s has no Description", name)
		}
		constrained := p.AllowedPattern != nil || len(p.AllowedValues) > 0 ||
			(p.Type == "Number" && p.MinValue != nil && p.MaxValue != nil)
		if !constrained {
			t.Errorf("parameter %s has no AllowedPattern, AllowedValues or MinValue/MaxValue", name)
		}
		if p.AllowedPattern != nil {
			re, err := regexp.Compile(*p.AllowedPattern)
			if err != nil {
				t.Errorf("parameter %s: AllowedPattern: %v", name, err)
				continue
			}
			if d, ok := p.Default.(string); ok && !re.MatchString(d) {
				t.Errorf("parameter %s: default %q does not match its own AllowedPattern", name, d)
			}
		}
	}
	retention := tpl.Parameters["RetentionDays"]
	if retention.Default != 30.0 || retention.MinValue == nil || *retention.MinValue != 1 || retention.MaxValue == nil || *retention.MaxValue != 365 {
		t.Errorf("RetentionDays: default %v, range %v..%v, want 30 in 1..365", retention.Default, retention.MinValue, retention.MaxValue)
	}
	lang := tpl.Parameters["DefaultLanguage"]
	if lang.Default != "nb" || !reflect.DeepEqual(lang.AllowedValues, []any{"nb", "en"}) {
		t.Errorf("DefaultLanguage: default %v, allowed %v, want nb of [nb en]", lang.Default, lang.AllowedValues)
	}
	if _, ok := tpl.Parameters[senderParam].Default.(string); ok {
		t.Errorf("%s has a default; every operator must choose their own", senderParam)
	}
}

// The patterns accept what config.Load accepts and reject the rest.
func TestParameterPatterns(t *testing.T) {
	tpl := load(t)
	cases := map[string]struct{ good, bad []string }{
		"SenderAddress": {
			good: []string{"skjema@example.no"},
			bad:  []string{"", "Skjema <skjema@example.no>", "a@b.no,c@d.no", "skjema"},
		},
		"RecipientAddresses": {
			good: []string{"", "post@example.no", "post@example.no,kari@example.no", "post@example.no, kari@example.no"},
			bad:  []string{"post", "post@example.no,", "Kari <kari@example.no>"},
		},
		"AllowedOrigins": {
			good: []string{"", "https://www.example.no", "https://example.no,http://localhost:8080"},
			bad:  []string{"www.example.no", "https://example.no/kontakt", "https://example.no,"},
		},
		"UploadOrigins": {
			good: []string{"", "https://www.example.no", "https://example.no, http://localhost:8080"},
			bad:  []string{"*", "https://example.no/upload", "https://example.no,"},
		},
		"FormId":      {good: []string{"contact", "tilbud-2"}, bad: []string{"", "Contact", "-x", "a b"}},
		"RedirectUrl": {good: []string{"", "https://www.example.no/takk"}, bad: []string{"/takk", "javascript:alert(1)"}},
		"FormsFile":   {good: []string{"", "forms.json", "config/forms.json"}, bad: []string{"/etc/forms.json", "forms json"}},
	}
	for name, c := range cases {
		p, ok := tpl.Parameters[name]
		if !ok || p.AllowedPattern == nil {
			t.Errorf("parameter %s has no AllowedPattern", name)
			continue
		}
		re := regexp.MustCompile(*p.AllowedPattern)
		for _, s := range c.good {
			if !re.MatchString(s) {
				t.Errorf("%s rejects %q", name, s)
			}
		}
		for _, s := range c.bad {
			if re.MatchString(s) {
				t.Errorf("%s accepts %q", name, s)
			}
		}
	}
}

// sam deploy --guided groups the parameters: each belongs to one group.
func TestParameterGroups(t *testing.T) {
	tpl := load(t)
	groups, ok := samtemplate.Lookup(tpl.Metadata, "AWS::CloudFormation::Interface", "ParameterGroups")
	if !ok {
		t.Fatal("no Metadata AWS::CloudFormation::Interface ParameterGroups")
	}
	var grouped []string
	for _, g := range groups.([]any) {
		ps, _ := samtemplate.Lookup(g, "Parameters")
		for _, p := range ps.([]any) {
			grouped = append(grouped, p.(string))
		}
	}
	var params []string
	for name := range tpl.Parameters {
		params = append(params, name)
	}
	sort.Strings(params)
	sort.Strings(grouped)
	if !reflect.DeepEqual(grouped, params) {
		t.Errorf("grouped parameters %q, want each of %q once", grouped, params)
	}
}

func TestOutputs(t *testing.T) {
	tpl := load(t)
	for _, name := range []string{"FormEndpoint", "ApiUrl", "TableName"} {
		if _, ok := tpl.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	if v, _ := tpl.Outputs["FormEndpoint"].Value.(string); !strings.Contains(v, samtemplate.Ref(httpAPI)) || !strings.HasSuffix(v, "/f/") {
		t.Errorf("FormEndpoint = %q, want the HTTP API's URL ending in /f/", v)
	}
	if v := tpl.Outputs["TableName"].Value; v != samtemplate.Ref(table) {
		t.Errorf("TableName = %v, want %s", v, samtemplate.Ref(table))
	}
}

// A misspelt Ref, GetAtt or Sub variable would deploy as an error at best;
// catch it here.
func TestEveryReferenceExists(t *testing.T) {
	raw := loadRaw(t)
	tpl := load(t)
	known := map[string]bool{}
	for name := range tpl.Parameters {
		known[name] = true
	}
	for name := range tpl.Resources {
		known[name] = true
	}
	ref := regexp.MustCompile(`\$\{([^!}][^}]*)\}`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			for _, m := range ref.FindAllStringSubmatch(x, -1) {
				name := strings.SplitN(m[1], ".", 2)[0]
				if !known[name] && !strings.HasPrefix(name, "AWS::") {
					t.Errorf("%s refers to %s, which is neither a parameter nor a resource", path, m[0])
				}
			}
		}
	}
	walk("", raw)
}

// cfn-lint runs the SAM transform and checks every property against
// CloudFormation's schemas, which goformation's types do not. It is not a Go
// module: the test runs where it is installed (pip install cfn-lint).
func TestCfnLint(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed")
	}
	out, err := exec.Command(bin, "--include-checks", "I", "--", templatePath).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 127 {
		t.Skipf("cfn-lint cannot run here: %s", out)
	}
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", templatePath, err, out)
	}
}

// Every function is built the way DESIGN.md says, and `sam build` finds a
// Makefile target for it that cross-compiles its own ./functions/<name>.
func TestEveryFunctionBuildsWithTheMakefile(t *testing.T) {
	tpl := load(t)
	fns := tpl.GetAllServerlessFunctionResources()
	if len(fns) < 3 {
		t.Fatalf("only %d functions in the template", len(fns))
	}
	for id, f := range fns {
		if f.Handler == nil || *f.Handler != "bootstrap" || f.Runtime == nil || *f.Runtime != "provided.al2023" ||
			!reflect.DeepEqual(f.Architectures, []string{"arm64"}) || f.AWSCloudFormationMetadata["BuildMethod"] != "makefile" {
			t.Errorf("%s: not a provided.al2023 arm64 bootstrap built by the Makefile", id)
			continue
		}
		cmd := exec.Command("make", "-n", "--no-print-directory", "build-"+id, "ARTIFACTS_DIR=/artifacts")
		cmd.Dir = "../../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: make build-%s: %v\n%s", id, id, err, out)
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-o /artifacts/bootstrap ./functions/"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: build command lacks %q:\n%s", id, want, out)
			}
		}
	}
}
