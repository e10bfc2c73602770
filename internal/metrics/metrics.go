// Package metrics publishes counts as CloudWatch Embedded Metric Format
// (EMF) log lines: one JSON object per line on the function's output, which
// CloudWatch Logs turns into metrics. No CloudWatch client, no extra IAM
// permission, no call on the request path. Only names and numbers go in:
// never anything a visitor sent.
package metrics

import (
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of kontakt's own metrics.
const Namespace = "kontakt"

// DimensionFunction is Publish's dimension: the Lambda function's name, so
// that two stacks in one account keep their metrics (and alarms) apart.
const DimensionFunction = "FunctionName"

// EMF writes EMF lines to W. Function is needed by Publish only.
type EMF struct {
	W        io.Writer
	Function string
	Now      func() time.Time

	mu sync.Mutex
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Dimension is one dimension of a data point. Values come from fixed sets
// (a function name, a form id, a rule), never from a visitor.
type Dimension struct{ Name, Value string }

// Publish writes one line with every count (unit Count) under the
// function's dimension. A failed write loses a data point, never a
// submission, so it is not reported.
func (e *EMF) Publish(counts map[string]int) {
	e.write(counts, Dimension{DimensionFunction, e.Function})
}

// Count writes one line counting one name under dims, in that order.
func (e *EMF) Count(name string, dims ...Dimension) {
	e.write(map[string]int{name: 1}, dims...)
}

func (e *EMF) write(counts map[string]int, dims ...Dimension) {
	if len(counts) == 0 {
		return
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	defs := make([]metricDef, len(names))
	line := make(map[string]any, len(counts)+len(dims)+1)
	for i, n := range names {
		defs[i] = metricDef{Name: n, Unit: "Count"}
		line[n] = counts[n]
	}
	dimNames := make([]string, len(dims))
	for i, d := range dims {
		dimNames[i] = d.Name
		line[d.Name] = d.Value
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	line["_aws"] = metadata{
		Timestamp: now().UnixMilli(),
		CloudWatchMetrics: []directive{{
			Namespace: Namespace, Dimensions: [][]string{dimNames}, Metrics: defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.W.Write(append(b, '\n'))
}
