package rie

import (
	"regexp"
	"strconv"
	"time"
)

// Report is one invocation's REPORT line: how long the emulator held the
// invoke (runtime and extensions until both asked for the next event) and
// the billed duration, rounded up to the millisecond as Lambda bills.
type Report struct {
	RequestID string
	Duration  time.Duration
	Billed    time.Duration
}

var reportLine = regexp.MustCompile(`REPORT RequestId: (\S+)\t(?:Init Duration: [0-9.]+ ms\t)?Duration: ([0-9.]+) ms\tBilled Duration: ([0-9]+) ms`)

// Reports returns the REPORT lines logged so far, oldest first. The
// emulator prints one before it answers the invoke, so after Invoke returns
// its report is here.
func (e *Emulator) Reports() []Report { return parseReports(e.logs.Bytes(0)) }

func parseReports(logs []byte) []Report {
	var out []Report
	for _, m := range reportLine.FindAllSubmatch(logs, -1) {
		d, err1 := strconv.ParseFloat(string(m[2]), 64)
		b, err2 := strconv.ParseFloat(string(m[3]), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Report{
			RequestID: string(m[1]),
			Duration:  time.Duration(d * float64(time.Millisecond)),
			Billed:    time.Duration(b) * time.Millisecond,
		})
	}
	return out
}
