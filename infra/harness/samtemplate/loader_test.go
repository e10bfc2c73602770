package samtemplate_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/awslabs/goformation/v7/cloudformation"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
)

const intrinsicsYAML = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Sender:
    Type: String
  Days:
    Type: Number
    Default: 7
Conditions:
  HasSender: !Not [!Equals [!Ref Sender, ""]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Runtime: provided.al2023
      CodeUri: .
      Timeout: !Ref Days
      Environment:
        Variables:
          SHORT_REF: !Ref Sender
          LONG_REF: {Ref: Tbl}
          PSEUDO: !Ref AWS::Region
          SHORT_GETATT: !GetAtt Tbl.Arn
          LONG_GETATT: {"Fn::GetAtt": [Tbl, StreamArn]}
          SUB: !Sub "arn:${AWS::Partition}:x:${Tbl}"
          SUB_VARS: !Sub ["${A}/${B}", {A: !Ref Tbl, B: literal}]
          SUB_ESCAPE: !Sub "${!NotAVariable}"
          JOINED: !Join ["", [!Ref Tbl, "-", !Ref Sender]]
          IF: !If [HasSender, !Ref Sender, none]
          NOVALUE: !Ref AWS::NoValue
  Tbl:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
`

func TestIntrinsicsStayRecognisable(t *testing.T) {
	raw, err := samtemplate.ParseRaw([]byte(intrinsicsYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SHORT_REF":    "${Sender}",
		"LONG_REF":     "${Tbl}",
		"PSEUDO":       "${AWS::Region}",
		"SHORT_GETATT": "${Tbl.Arn}",
		"LONG_GETATT":  "${Tbl.StreamArn}",
		"SUB":          "arn:${AWS::Partition}:x:${Tbl}",
		"SUB_VARS":     "${Tbl}/literal",
		"SUB_ESCAPE":   "${!NotAVariable}",
		"JOINED":       "${Tbl}-${Sender}",
	}
	vars, _ := samtemplate.Lookup(raw, "Resources", "Fn", "Properties", "Environment", "Variables")
	env := vars.(map[string]any)
	for k, w := range want {
		if env[k] != w {
			t.Errorf("%s = %#v, want %q", k, env[k], w)
		}
	}
	if v, ok := env["NOVALUE"]; ok {
		t.Errorf("NOVALUE = %#v, want the key dropped", v)
	}
	// Conditions are kept, not evaluated against placeholders.
	if _, ok := samtemplate.Lookup(env["IF"], "Fn::If"); !ok {
		t.Errorf("IF = %#v, want the Fn::If kept", env["IF"])
	}
	if _, ok := samtemplate.Lookup(raw, "Conditions", "HasSender", "Fn::Not"); !ok {
		t.Errorf("condition HasSender was evaluated: %#v", raw["Conditions"])
	}
	if got, want := samtemplate.Ref("Tbl"), "${Tbl}"; got != want {
		t.Errorf("Ref = %q, want %q", got, want)
	}
	if got, want := samtemplate.GetAtt("Tbl", "Arn"), "${Tbl.Arn}"; got != want {
		t.Errorf("GetAtt = %q, want %q", got, want)
	}
}

func TestNumericFieldsGetParameterDefaults(t *testing.T) {
	// Without the Fn::If (which cannot go into a string), the typed view loads.
	src := strings.Replace(intrinsicsYAML, "          IF: !If [HasSender, !Ref Sender, none]\n", "", 1)
	tpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := read(t, samtemplate.Function, tpl, "Fn")
	if f.Timeout == nil || *f.Timeout != 7 {
		t.Errorf("Timeout = %v, want the parameter's default 7", f.Timeout)
	}
	env, _ := samtemplate.FunctionEnv(tpl, "Fn")
	if env["SHORT_REF"] != "${Sender}" {
		t.Errorf("SHORT_REF = %q", env["SHORT_REF"])
	}

	noDefault := strings.Replace(src, "Timeout: !Ref Days", "Timeout: !Ref Sender", 1)
	if _, err := samtemplate.Parse([]byte(noDefault)); err == nil || !strings.Contains(err.Error(), "Sender") {
		t.Errorf("a numeric field from a parameter without default: err = %v, want one naming Sender", err)
	}
}

func TestUnmodelledPropertiesAndTypos(t *testing.T) {
	src := `
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      LoggingConfig: {LogFormat: JSON}
      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
  Q:
    Type: AWS::SQS::Queue
`
	tpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := samtemplate.Function(tpl, "Fn")
	ev := f.Events["Queue"]
	if ev.Properties == nil || ev.Properties.SQSEvent == nil || ev.Properties.SQSEvent.Queue != "${Q.Arn}" {
		t.Errorf("the SQS event did not survive FunctionResponseTypes: %+v", ev.Properties)
	}
	raw, err := samtemplate.ParseRaw([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	props, _ := samtemplate.RawProperties(raw, "Fn")
	if v, _ := samtemplate.Lookup(props, "Events", "Queue", "Properties", "FunctionResponseTypes", "0"); v != "ReportBatchItemFailures" {
		t.Errorf("raw FunctionResponseTypes = %v", v)
	}
	if v, _ := samtemplate.Lookup(props, "LoggingConfig", "LogFormat"); v != "JSON" {
		t.Errorf("raw LoggingConfig.LogFormat = %v", v)
	}

	typo := strings.Replace(src, "Handler:", "Hanlder:", 1)
	if _, err := samtemplate.Parse([]byte(typo)); err == nil || !strings.Contains(err.Error(), "Fn") || !strings.Contains(err.Error(), "Hanlder") {
		t.Errorf("a misspelt property: err = %v, want one naming the resource and the key", err)
	}
}

func TestGlobalsAreMerged(t *testing.T) {
	src := `
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 5
    Layers: [global]
    LoggingConfig: {LogFormat: JSON}
    Environment:
      Variables: {SHARED: "1", OVERRIDDEN: global}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Timeout: 9
      Layers: [own]
      Environment:
        Variables: {OWN: "1", OVERRIDDEN: own}
`
	tpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := samtemplate.Function(tpl, "Fn")
	if aws.ToString(f.Runtime) != "provided.al2023" || f.Timeout == nil || *f.Timeout != 9 {
		t.Errorf("Runtime %v Timeout %v, want provided.al2023 from Globals and the function's own 9", f.Runtime, f.Timeout)
	}
	if strings.Join(f.Layers, ",") != "global,own" {
		t.Errorf("Layers = %q, want global then own", f.Layers)
	}
	env, _ := samtemplate.FunctionEnv(tpl, "Fn")
	if env["SHARED"] != "1" || env["OWN"] != "1" || env["OVERRIDDEN"] != "own" {
		t.Errorf("Environment = %v", env)
	}
	raw, _ := samtemplate.ParseRaw([]byte(src))
	props, _ := samtemplate.RawProperties(raw, "Fn")
	if v, _ := samtemplate.Lookup(props, "LoggingConfig", "LogFormat"); v != "JSON" {
		t.Errorf("RawProperties did not merge Globals: LoggingConfig = %v", props["LoggingConfig"])
	}
}

// oneFunction parses a template whose one resource is the function Fn with
// the one property given (a line of YAML).
func oneFunction(t *testing.T, property string) *cloudformation.Template {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      " + property + "\n"))
	if err != nil {
		t.Fatalf("%s: %v", property, err)
	}
	return tpl
}

func TestPolicyStatementsRejectWhatTheyCannotCheck(t *testing.T) {
	for _, tc := range []struct{ name, property string }{
		{"managed name", "Policies: AWSLambdaExecute"},
		{"managed list", "Policies: [AWSLambdaExecute]"},
		{"template", "Policies: [{SQSPollerPolicy: {QueueName: q}}]"},
		{"mixed", "Policies: [{Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*'}]}, AWSLambdaExecute]"},
		{"not action", "Policies: [{Statement: [{Effect: Allow, NotAction: s3:GetObject, Resource: '*'}]}]"},
		{"external role", "Role: arn:aws:iam::1:role/x"},
		{"single mapping", "Policies: {SQSPollerPolicy: {QueueName: q}}"},
	} {
		if got, err := samtemplate.PolicyActions(oneFunction(t, tc.property), "Fn"); err == nil {
			t.Errorf("%s: PolicyActions = %q, want an error", tc.name, got)
		}
	}
	tpl := oneFunction(t, "Policies: {Statement: [{Effect: Allow, Action: [b, a], Resource: x}, {Effect: Deny, Action: c, Resource: x}]}")
	if got, err := samtemplate.PolicyActions(tpl, "Fn"); err != nil || strings.Join(got, ",") != "a,b" {
		t.Errorf("PolicyActions of a single document = %q, %v; want allowed actions a,b", got, err)
	}
}

func TestTableInputRefusesWhatItCannotReproduce(t *testing.T) {
	base := `
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
`
	for name, extra := range map[string]string{
		"provisioned without throughput": "",
		"stack-dependent name":           "      BillingMode: PAY_PER_REQUEST\n      TableName: !Sub ${AWS::StackName}-t\n",
		"bad key type":                   "      BillingMode: PAY_PER_REQUEST\n      GlobalSecondaryIndexes: [{IndexName: i, KeySchema: [{AttributeName: id, KeyType: SORT}], Projection: {ProjectionType: ALL}}]\n",
	} {
		tpl, err := samtemplate.Parse([]byte(base + extra))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := samtemplate.TableInput(tpl, "T"); err == nil {
			t.Errorf("%s: TableInput succeeded", name)
		}
	}
	tpl, err := samtemplate.Parse([]byte(base + "      TableName: fixed\n      ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := read(t, samtemplate.TableInput, tpl, "T")
	if aws.ToString(in.TableName) != "fixed" || in.BillingMode != "PROVISIONED" || aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits) != 2 {
		t.Errorf("TableInput = %+v", in)
	}
	if _, err := samtemplate.TTLAttribute(tpl, "T"); err == nil {
		t.Error("TTLAttribute of a table without TTL succeeded")
	}
}

func TestSubstituteAndRefName(t *testing.T) {
	got, err := samtemplate.Substitute("https://${Api}.execute-api.${AWS::Region}/${!literal}", map[string]string{"Api": "abc", "AWS::Region": "eu-north-1"})
	if err != nil || got != "https://abc.execute-api.eu-north-1/${literal}" {
		t.Errorf("Substitute = %q, %v", got, err)
	}
	if _, err := samtemplate.Substitute("${Missing}", nil); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("Substitute with a missing value: %v", err)
	}
	for s, want := range map[string]string{"${X}": "X", "${X.Arn}": "", "a${X}": "", "X": ""} {
		if got, _ := samtemplate.RefName(s); got != want {
			t.Errorf("RefName(%q) = %q, want %q", s, got, want)
		}
	}
}

// goformation registers its YAML tag handlers in a shared map on every parse.
func TestConcurrentLoads(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := samtemplate.Load(templatePath); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
