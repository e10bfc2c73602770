package abuse

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// MetricNamespace is the CloudWatch namespace of kontakt's metrics.
const MetricNamespace = "kontakt"

// Metrics writes CloudWatch Embedded Metric Format lines: one JSON object
// per line on the function's standard output, which CloudWatch Logs turns
// into metrics without an API call or an IAM permission. A line holds the
// form id and the rule, never anything a visitor sent.
type Metrics struct {
	W   io.Writer
	Now func() time.Time
	mu  sync.Mutex
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type blockedLine struct {
	AWS     emfMeta `json:"_aws"`
	Form    string  `json:"form"`
	Rule    Rule    `json:"rule"`
	Blocked int     `json:"Blocked"`
}

// Blocked counts one submission caught by rule on form (metric Blocked,
// dimensions form and rule). RuleRateUnavailable counts a post let through
// unchecked.
func (m *Metrics) Blocked(form string, rule Rule) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	line, err := json.Marshal(blockedLine{
		AWS: emfMeta{Timestamp: now().UnixMilli(), CloudWatchMetrics: []emfDirective{{
			Namespace:  MetricNamespace,
			Dimensions: [][]string{{"form", "rule"}},
			Metrics:    []emfMetric{{Name: "Blocked", Unit: "Count"}},
		}}},
		Form: form, Rule: rule, Blocked: 1,
	})
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A failed write loses one count; it must not fail the request.
	_, _ = m.W.Write(append(line, '\n'))
}
