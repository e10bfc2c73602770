package metrics_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/opt-e/kontakt/infra/harness/emf"
	"github.com/opt-e/kontakt/internal/metrics"
)

// One EMF line per Publish, as CloudWatch's specification wants it: the
// _aws directive naming every metric, the dimension and the values at the
// root.
func TestPublishWritesOneEMFLine(t *testing.T) {
	var out bytes.Buffer
	e := &metrics.EMF{W: &out, Function: "kontakt-Redrive-1", Now: func() time.Time { return time.UnixMilli(1795885200123) }}
	e.Publish(map[string]int{"SubmissionsFailed": 2, "RedriveSent": 5})
	e.Publish(nil)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), out.String())
	}
	var got struct {
		FunctionName      string
		SubmissionsFailed int
		RedriveSent       int
	}
	md, err := emf.Decode(lines[0], &got)
	if err != nil {
		t.Fatal(err)
	}
	d := md.CloudWatchMetrics
	if md.Timestamp != 1795885200123 || len(d) != 1 || d[0].Namespace != metrics.Namespace {
		t.Fatalf("directive %+v", md)
	}
	if len(d[0].Dimensions) != 1 || strings.Join(d[0].Dimensions[0], ",") != metrics.DimensionFunction || got.FunctionName != "kontakt-Redrive-1" {
		t.Errorf("dimensions %v, FunctionName %q", d[0].Dimensions, got.FunctionName)
	}
	if len(d[0].Metrics) != 2 || d[0].Metrics[0].Name != "RedriveSent" || d[0].Metrics[1].Unit != "Count" {
		t.Errorf("metrics %+v", d[0].Metrics)
	}
	if got.SubmissionsFailed != 2 || got.RedriveSent != 5 {
		t.Errorf("values %d %d", got.SubmissionsFailed, got.RedriveSent)
	}
}
