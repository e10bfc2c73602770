// Package emf reads CloudWatch Embedded Metric Format lines as CloudWatch
// does, for the tests of what the functions write. Its types follow the
// specification, not the writer's (internal/metrics), so that a writer that
// drifts from the specification fails its tests.
package emf

import (
	"encoding/json"
	"fmt"
)

// Metadata is a line's _aws member.
type Metadata struct {
	Timestamp         int64
	CloudWatchMetrics []Directive
}

// Directive names a namespace, its dimension sets and its metrics.
type Directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []struct{ Name, Unit string }
}

// Decode reads one EMF line: its metadata, and the members at the root (the
// dimension and metric values) into root, a pointer to a struct of the
// members a test expects.
func Decode(line string, root any) (Metadata, error) {
	var doc struct {
		AWS *Metadata `json:"_aws"`
	}
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		return Metadata{}, err
	}
	if doc.AWS == nil {
		return Metadata{}, fmt.Errorf("no _aws member: %s", line)
	}
	return *doc.AWS, json.Unmarshal([]byte(line), root)
}
