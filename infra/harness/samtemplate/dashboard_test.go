package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/abuse"
	"github.com/opt-e/kontakt/internal/erasure"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/redrive"
)

// awsMetrics are the AWS services' own metrics the dashboard may show:
// the ones the alarms watch, and the functions' duration.
var awsMetrics = map[string]bool{
	"AWS/Lambda Errors": true, "AWS/Lambda Throttles": true, "AWS/Lambda Duration": true,
	"AWS/SES Reputation.BounceRate": true, "AWS/SES Reputation.ComplaintRate": true,
	"AWS/SQS ApproximateNumberOfMessagesVisible": true,
}

var searchMetric = regexp.MustCompile(`^SEARCH\('\{([^,}]+)[^}]*\} MetricName="([^"]+)"'`)

// dashboardMetrics returns "namespace name" for every metric on the
// dashboard: plain metric rows and SEARCH expressions.
func dashboardMetrics(t *testing.T, raw map[string]any) map[string]bool {
	t.Helper()
	p := read(t, samtemplate.RawProperties, raw, "Dashboard")
	body, _ := samtemplate.Lookup(p, "DashboardBody")
	// !Sub keeps its string; the substitutions are names, not JSON.
	text, ok := body.(string)
	if !ok {
		sub, _ := samtemplate.Lookup(body, "Fn::Sub")
		text, _ = sub.(string)
	}
	text = regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(text, "X")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(text), &dash); err != nil {
		t.Fatalf("the dashboard body is not JSON: %v\n%s", err, text)
	}
	out := map[string]bool{}
	for _, w := range dash.Widgets {
		for _, row := range w.Properties.Metrics {
			if len(row) == 0 {
				continue
			}
			if opts, ok := row[0].(map[string]any); ok {
				expr, _ := opts["expression"].(string)
				m := searchMetric.FindStringSubmatch(expr)
				if m == nil {
					t.Errorf("expression %q: not a SEARCH this test can read", expr)
					continue
				}
				out[m[1]+" "+m[2]] = true
				continue
			}
			if len(row) < 2 {
				t.Errorf("metric row %v: want namespace and name", row)
				continue
			}
			out[fmt.Sprint(row[0])+" "+fmt.Sprint(row[1])] = true
		}
	}
	return out
}

// Every metric on the dashboard is one the code (EMF, internal/metrics and
// its callers) or a metric filter of the template writes, or an AWS metric
// of the list above; every alarm's metric is on the dashboard.
func TestDashboardMetrics(t *testing.T) {
	raw := loadRaw(t)
	written := map[string]bool{}
	for _, name := range []string{abuse.MetricBlocked, abuse.MetricHeld, redrive.MetricSent, redrive.MetricRetried, redrive.MetricThrottled, redrive.MetricFailed, redrive.MetricPermanent,
		erasure.MetricNothingErased, erasure.MetricAskMailboxLimit, erasure.MetricAskSourceLimit, erasure.MetricAskPageCeiling} {
		written[metrics.Namespace+" "+name] = true
	}
	res, _ := samtemplate.Lookup(raw, "Resources")
	for name, r := range res.(map[string]any) {
		if typ, _ := samtemplate.Lookup(r, "Type"); typ != "AWS::Logs::MetricFilter" {
			continue
		}
		p, _ := samtemplate.RawProperties(raw, name)
		ts, _ := samtemplate.Lookup(p, "MetricTransformations")
		list, _ := ts.([]any)
		for _, tr := range list {
			ns, _ := samtemplate.Lookup(tr, "MetricNamespace")
			n, _ := samtemplate.Lookup(tr, "MetricName")
			written[fmt.Sprint(ns)+" "+fmt.Sprint(n)] = true
		}
	}
	on := dashboardMetrics(t, raw)
	if len(on) == 0 {
		t.Fatal("no metrics on the dashboard")
	}
	for m := range on {
		if !written[m] && !awsMetrics[m] {
			t.Errorf("the dashboard shows %q, which nothing writes", m)
		}
	}
	for _, a := range alarms(t) {
		if !on[a.namespace+" "+a.metric] {
			t.Errorf("alarm %s watches %s %s, which is not on the dashboard", a.name, a.namespace, a.metric)
		}
	}
	for _, want := range []string{"kontakt Submissions", "kontakt Blocked", "kontakt ErasuresDone", "AWS/Lambda Duration"} {
		if !on[want] {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
}
