package samtemplate_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/ses"
)

const (
	redriveFunction  = "RedriveFunction"
	configurationSet = "SesConfigurationSet"
)

var redriveActions = append(append(append([]string{}, dynamo.RedriveIAMActions...), ses.IAMActions...), bucket.RedriveIAMActions...)

// assertSendResources: every function sends as identities of the account
// and with the stack's configuration set (SES checks both).
func assertSendResources(t *testing.T, tpl *cloudformation.Template, fn string) {
	t.Helper()
	assertActionResources(t, tpl, fn, "ses:SendEmail", []string{
		"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*",
		"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/" + samtemplate.Ref(configurationSet),
	})
}

func TestRedriveFunction(t *testing.T) {
	tpl := load(t)
	assertFunctionEnv(t, tpl, redriveFunction, config.RedriveEnvVars)
	assertEnvValue(t, tpl, redriveFunction, config.EnvTable, samtemplate.Ref(table))
	assertEnvValue(t, tpl, redriveFunction, config.EnvSender, samtemplate.Ref(senderParam))
	assertEnvValue(t, tpl, redriveFunction, config.EnvRedriveMaxAttempts, samtemplate.Ref("RedriveMaxAttempts"))
	assertEnvValue(t, tpl, redriveFunction, config.EnvRedriveRelease, samtemplate.Ref("RedriveReleasePerRun"))
	assertEnvValue(t, tpl, redriveFunction, config.EnvConfigurationSet, samtemplate.Ref(configurationSet))
	assertPolicyActions(t, tpl, redriveFunction, redriveActions)
	// Due copies come from the pending index only: never a scan, never the
	// lookup index with its reply addresses.
	assertActionResources(t, tpl, redriveFunction, "dynamodb:Query", []string{"${SubmissionsTable.Arn}/index/" + pendingIndex})
	assertActionResources(t, tpl, redriveFunction, "dynamodb:UpdateItem", []string{samtemplate.GetAtt(table, "Arn")})
	assertSendResources(t, tpl, redriveFunction)
	assertActionCondition(t, tpl, redriveFunction, "ses:SendEmail", "StringEquals", "ses:FromAddress", samtemplate.Ref(senderParam))

	// The same forms as the submit function: a form the submit function
	// knows is one the redrive function can send.
	submitEnv, _ := samtemplate.FunctionEnv(tpl, submitFunction)
	redriveEnv, _ := samtemplate.FunctionEnv(tpl, redriveFunction)
	for _, k := range config.FormEnvVars {
		if submitEnv[k] != redriveEnv[k] {
			t.Errorf("%s = %q for submit but %q for redrive", k, submitEnv[k], redriveEnv[k])
		}
	}

	f := read(t, samtemplate.Function, tpl, redriveFunction)
	if f.ReservedConcurrentExecutions == nil || *f.ReservedConcurrentExecutions != 1 {
		t.Errorf("ReservedConcurrentExecutions = %v, want 1 (the second guard behind the claims)", f.ReservedConcurrentExecutions)
	}
	if f.Timeout == nil {
		t.Fatal("no Timeout")
	}
	timeout := time.Duration(*f.Timeout) * time.Second
	if timeout >= redrive.DefaultSettings.Lease {
		t.Errorf("Timeout %v is not shorter than the claim lease %v: a live run could lose its claim", timeout, redrive.DefaultSettings.Lease)
	}
	per := redrive.DefaultSettings.Timeouts
	if one := per.Query + per.Claim + per.Send + per.Mark + per.Reserve; one >= timeout {
		t.Errorf("one copy's budget %v does not fit the %v timeout", one, timeout)
	}
	if f.CodeUri == nil || f.CodeUri.String == nil || *f.CodeUri.String != "." || f.AWSCloudFormationMetadata["BuildMethod"] != "makefile" {
		t.Error("not built by the Makefile (CodeUri . and BuildMethod makefile)")
	}
	if deref(f.Handler) != "bootstrap" || deref(f.Runtime) != "provided.al2023" || !slices.Equal(f.Architectures, []string{"arm64"}) {
		t.Errorf("handler/runtime/architectures = %s %s %v", deref(f.Handler), deref(f.Runtime), f.Architectures)
	}

	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, redriveFunction)
	ev, ok := samtemplate.Lookup(props, "Events", "Schedule")
	if !ok {
		t.Fatal("no Schedule event")
	}
	if typ, _ := samtemplate.Lookup(ev, "Type"); typ != "ScheduleV2" {
		t.Errorf("schedule event type %v, want ScheduleV2 (EventBridge Scheduler)", typ)
	}
	if expr, _ := samtemplate.Lookup(ev, "Properties", "ScheduleExpression"); expr != samtemplate.Ref("RedriveSchedule") {
		t.Errorf("ScheduleExpression = %v, want the RedriveSchedule parameter", expr)
	}
	if got := tpl.Parameters["RedriveSchedule"].Default; got != "rate(5 minutes)" {
		t.Errorf("RedriveSchedule defaults to %v, want rate(5 minutes)", got)
	}
	if got := tpl.Parameters["RedriveReleasePerRun"].Default; got != float64(config.DefaultRedriveRelease) {
		t.Errorf("RedriveReleasePerRun defaults to %v, want %d", got, config.DefaultRedriveRelease)
	}
	if got := tpl.Parameters["RedriveMaxAttempts"].Default; got != float64(config.DefaultRedriveMaxAttempts) {
		t.Errorf("RedriveMaxAttempts defaults to %v, want %d", got, config.DefaultRedriveMaxAttempts)
	}
	if got, _ := samtemplate.Lookup(props, "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("LoggingConfig.LogFormat = %v, want JSON", got)
	}
	group, _ := samtemplate.Lookup(props, "LoggingConfig", "LogGroup")
	name, _ := samtemplate.RefName(fmt.Sprint(group))
	if lg, err := tpl.GetLogsLogGroupWithName(name); err != nil || lg.RetentionInDays == nil {
		t.Errorf("log group %v does not expire its logs (%v)", group, err)
	}
}

func TestRedriveSchedulePattern(t *testing.T) {
	p := load(t).Parameters["RedriveSchedule"]
	if p.AllowedPattern == nil {
		t.Fatal("RedriveSchedule has no AllowedPattern")
	}
	re := regexp.MustCompile(*p.AllowedPattern)
	for _, good := range []string{"rate(5 minutes)", "rate(1 minute)", "rate(2 hours)", "cron(0/10 * * * ? *)"} {
		if !re.MatchString(good) {
			t.Errorf("rejects %q", good)
		}
	}
	for _, bad := range []string{"", "rate(1 minutes)", "rate(0 minutes)", "every 5 minutes", "rate(5 minutes) "} {
		if re.MatchString(bad) {
			t.Errorf("accepts %q", bad)
		}
	}
}

// Every function emails with the stack's configuration set, whose bounces
// and complaints reach an SNS topic that SES may publish to.
func TestSesFeedback(t *testing.T) {
	tpl := load(t)
	for _, fn := range []string{submitFunction, eraseFunction, redriveFunction} {
		assertEnvValue(t, tpl, fn, config.EnvConfigurationSet, samtemplate.Ref(configurationSet))
		assertSendResources(t, tpl, fn)
	}
	raw := loadRaw(t)
	if _, err := tpl.GetSESConfigurationSetWithName(configurationSet); err != nil {
		t.Fatal(err)
	}
	dests := tpl.GetAllSESConfigurationSetEventDestinationResources()
	found := false
	for name, d := range dests {
		if d.ConfigurationSetName != samtemplate.Ref(configurationSet) {
			continue
		}
		e := d.EventDestination
		if e == nil || e.SnsDestination == nil || e.Enabled == nil || !*e.Enabled {
			t.Errorf("%s: not an enabled SNS destination", name)
			continue
		}
		found = true
		types := slices.Sorted(slices.Values(e.MatchingEventTypes))
		if !slices.Equal(types, []string{"bounce", "complaint"}) {
			t.Errorf("%s: event types %v, want bounce and complaint", name, types)
		}
		topic, ok := samtemplate.RefName(e.SnsDestination.TopicARN)
		if !ok {
			t.Fatalf("%s: TopicARN %q is not a topic of the stack", name, e.SnsDestination.TopicARN)
		}
		if _, err := tpl.GetSNSTopicWithName(topic); err != nil {
			t.Error(err)
		}
		assertTopicAdmitsSES(t, raw, topic)
	}
	if !found {
		t.Error("no event destination on the configuration set")
	}
}

func assertTopicAdmitsSES(t *testing.T, raw map[string]any, topic string) {
	t.Helper()
	res, _ := samtemplate.Lookup(raw, "Resources")
	for name, r := range res.(map[string]any) {
		if typ, _ := samtemplate.Lookup(r, "Type"); typ != "AWS::SNS::TopicPolicy" {
			continue
		}
		topics, _ := samtemplate.Lookup(r, "Properties", "Topics")
		if fmt.Sprint(topics) != fmt.Sprint([]any{samtemplate.Ref(topic)}) {
			continue
		}
		stmts, _ := samtemplate.Lookup(r, "Properties", "PolicyDocument", "Statement")
		for _, st := range stmts.([]any) {
			svc, _ := samtemplate.Lookup(st, "Principal", "Service")
			action, _ := samtemplate.Lookup(st, "Action")
			acct, _ := samtemplate.Lookup(st, "Condition", "StringEquals", "AWS:SourceAccount")
			if svc == "ses.amazonaws.com" && action == "sns:Publish" && acct == samtemplate.Ref("AWS::AccountId") {
				return
			}
			t.Errorf("%s: statement %v is not SES publishing from this account", name, st)
		}
	}
	t.Errorf("no topic policy lets SES publish to %s", topic)
}

// alarm is one CloudWatch alarm as written in the template.
type alarm struct {
	name                      string
	namespace, metric         string
	dimensions                map[string]string
	threshold                 float64
	comparison, missing, stat string
	actions                   string
}

func alarms(t *testing.T) []alarm {
	t.Helper()
	raw := loadRaw(t)
	res, _ := samtemplate.Lookup(raw, "Resources")
	var out []alarm
	for name, r := range res.(map[string]any) {
		if typ, _ := samtemplate.Lookup(r, "Type"); typ != "AWS::CloudWatch::Alarm" {
			continue
		}
		p, _ := samtemplate.RawProperties(raw, name)
		get := func(k string) string { v, _ := samtemplate.Lookup(p, k); return fmt.Sprint(v) }
		a := alarm{name: name, namespace: get("Namespace"), metric: get("MetricName"), comparison: get("ComparisonOperator"),
			missing: get("TreatMissingData"), stat: get("Statistic"), actions: get("AlarmActions"), dimensions: map[string]string{}}
		th, _ := samtemplate.Lookup(p, "Threshold")
		a.threshold = samtemplate.Number(th)
		dims, _ := samtemplate.Lookup(p, "Dimensions")
		ds, _ := dims.([]any)
		for _, d := range ds {
			n, _ := samtemplate.Lookup(d, "Name")
			v, _ := samtemplate.Lookup(d, "Value")
			a.dimensions[fmt.Sprint(n)] = fmt.Sprint(v)
		}
		out = append(out, a)
	}
	return out
}

func findAlarm(t *testing.T, all []alarm, namespace, metric string, dims map[string]string) *alarm {
	t.Helper()
	for i, a := range all {
		if a.namespace == namespace && a.metric == metric && fmt.Sprint(a.dimensions) == fmt.Sprint(dims) {
			if a.actions != fmt.Sprint([]any{samtemplate.Ref("AlarmTopic")}) {
				t.Errorf("%s: actions %s, want the alarm topic", a.name, a.actions)
			}
			return &all[i]
		}
	}
	t.Errorf("no alarm on %s %s %v", namespace, metric, dims)
	return nil
}

func TestAlarms(t *testing.T) {
	all := alarms(t)
	// AWS pauses sending at 10% bounces and 0.5% complaints: alarm well
	// before, on the account's own rates (no dimensions).
	for _, c := range []struct {
		metric   string
		max      float64
		pausedAt float64
	}{{"Reputation.BounceRate", 0.05, 0.10}, {"Reputation.ComplaintRate", 0.001, 0.005}} {
		if a := findAlarm(t, all, "AWS/SES", c.metric, map[string]string{}); a != nil {
			if a.threshold <= 0 || a.threshold > c.max || a.threshold >= c.pausedAt || a.comparison != "GreaterThanOrEqualToThreshold" {
				t.Errorf("%s: %s %v, want >= a threshold in (0, %v]", a.name, a.comparison, a.threshold, c.max)
			}
		}
	}
	// Errors and throttles of every function, at the first one.
	for _, fn := range []string{submitFunction, eraseFunction, redriveFunction} {
		for _, m := range []string{"Errors", "Throttles"} {
			if a := findAlarm(t, all, "AWS/Lambda", m, map[string]string{"FunctionName": samtemplate.Ref(fn)}); a != nil {
				assertAnyIsAlarm(t, a)
			}
		}
	}
	// Posts held over a form's ceiling, counted by the submit function's
	// guard under its name: the ceiling was reached.
	if a := findAlarm(t, all, metrics.Namespace, abuse.MetricHeld, map[string]string{metrics.DimensionFunction: samtemplate.Ref(submitFunction)}); a != nil {
		assertAnyIsAlarm(t, a)
	}
	// The redrive function's own metrics, as internal/metrics names them.
	for _, m := range []string{redrive.MetricFailed, redrive.MetricPermanent} {
		if a := findAlarm(t, all, metrics.Namespace, m, map[string]string{metrics.DimensionFunction: samtemplate.Ref(redriveFunction)}); a != nil {
			assertAnyIsAlarm(t, a)
		}
	}
}

// Error log lines (level ERROR) of the submit and redrive functions are
// counted by a metric filter on the function's own log group, and alarmed.
func TestErrorLogAlarms(t *testing.T) {
	raw := loadRaw(t)
	all := alarms(t)
	res, _ := samtemplate.Lookup(raw, "Resources")
	for _, fn := range []string{submitFunction, redriveFunction} {
		props, _ := samtemplate.RawProperties(raw, fn)
		group, _ := samtemplate.Lookup(props, "LoggingConfig", "LogGroup")
		found := false
		for name, r := range res.(map[string]any) {
			if typ, _ := samtemplate.Lookup(r, "Type"); typ != "AWS::Logs::MetricFilter" {
				continue
			}
			p, _ := samtemplate.RawProperties(raw, name)
			if lg, _ := samtemplate.Lookup(p, "LogGroupName"); lg != group {
				continue
			}
			// Other filters on the group count outcomes (the dashboard's
			// Submissions), not errors.
			if pat, _ := samtemplate.Lookup(p, "FilterPattern"); !strings.Contains(fmt.Sprint(pat), "$.level") {
				continue
			}
			found = true
			if pat, _ := samtemplate.Lookup(p, "FilterPattern"); pat != `{ $.level = "ERROR" }` {
				t.Errorf("%s: pattern %v, want the ERROR level", name, pat)
			}
			ns, _ := samtemplate.Lookup(p, "MetricTransformations", "0", "MetricNamespace")
			metric, _ := samtemplate.Lookup(p, "MetricTransformations", "0", "MetricName")
			if a := findAlarm(t, all, fmt.Sprint(ns), fmt.Sprint(metric), map[string]string{}); a != nil {
				assertAnyIsAlarm(t, a)
			}
		}
		if !found {
			t.Errorf("%s: no metric filter on its log group %v", fn, group)
		}
	}
}

func assertAnyIsAlarm(t *testing.T, a *alarm) {
	t.Helper()
	if a.threshold != 0 || a.comparison != "GreaterThanThreshold" || a.stat != "Sum" || a.missing != "notBreaching" {
		t.Errorf("%s: %s %s %v (missing data %s), want Sum GreaterThanThreshold 0, notBreaching", a.name, a.stat, a.comparison, a.threshold, a.missing)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}
