package main

// Every time and duration reseq writes is made here, so that one layout
// serves each kind of output:
//
//   - records (JSON, CSV, the index, report.json): RFC 3339, UTC, exactly
//     nine fractional digits, so that times sort as text (fmtTime);
//   - the flows table: UTC with its zone, microseconds (fmtTableTime);
//   - the report's short clock and the plot's caption (fmtClock,
//     fmtCaptionTime); the report's generation time (fmtGenerated);
//   - file names (-T %T): tcpflow's ISO 8601 in seconds (appendFileTime);
//   - durations for people (fmtDuration), and in seconds on a graph's
//     axis (fmtSecs).

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"
)

// timeLayout is every record's time: RFC 3339, UTC, exactly nine fractional
// digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// The other layouts (see the file's comment).
const (
	tableTimeLayout   = "2006-01-02 15:04:05.000000Z"
	captionTimeLayout = "2006-01-02 15:04:05.000000 UTC"
	clockLayout       = "15:04:05.000"
)

// fileTimeLayout is %T's layout: tcpflow's ISO 8601. Windows does not allow
// ':' in file names; there it is written as '-'.
var fileTimeLayout = func() string {
	if runtime.GOOS == "windows" {
		return "2006-01-02T15-04-05Z"
	}
	return "2006-01-02T15:04:05Z"
}()

// utc is the time ns nanoseconds after 1970 (UTC).
func utc(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// fmtTime writes ns in timeLayout.
func fmtTime(ns int64) string { return utc(ns).Format(timeLayout) }

// timePtr is fmtTime for a field that is null when there is no time.
func timePtr(ns int64) *string {
	s := fmtTime(ns)
	return &s
}

// fmtTableTime rewrites a record's time (timeLayout) in the table's form;
// text that is not such a time is written as the zero time.
func fmtTableTime(rec string) string {
	t, _ := time.Parse(time.RFC3339Nano, rec)
	return t.UTC().Format(tableTimeLayout)
}

// fmtClock rewrites a record's time as the time of day to the millisecond;
// text that is not such a time is returned as it is.
func fmtClock(rec string) string {
	t, err := time.Parse(time.RFC3339Nano, rec)
	if err != nil {
		return rec
	}
	return t.Format(clockLayout)
}

// fmtCaptionTime writes ns for a graph's caption.
func fmtCaptionTime(ns int64) string { return utc(ns).Format(captionTimeLayout) }

// fmtGenerated writes when an output was made: RFC 3339, UTC, seconds.
func fmtGenerated(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// appendFileTime appends ns in fileTimeLayout.
func appendFileTime(b []byte, ns int64) []byte { return utc(ns).AppendFormat(b, fileTimeLayout) }

// fmtDuration writes a duration for people, bounded in width: 0.000123s,
// 2.500s, 3m04.005s, 1h02m03.004s, 15d04h28m25s.
func fmtDuration(ns int64) string {
	d := time.Duration(ns)
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	sec := func(x time.Duration) float64 { return float64(x) / 1e9 }
	switch {
	case d < time.Second:
		return fmt.Sprintf("%s%.3fms", neg, float64(d)/1e6)
	case d < time.Minute:
		return fmt.Sprintf("%s%.3fs", neg, sec(d))
	case d < time.Hour:
		return fmt.Sprintf("%s%dm%06.3fs", neg, d/time.Minute, sec(d%time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%s%dh%02dm%06.3fs", neg, d/time.Hour, d%time.Hour/time.Minute, sec(d%time.Minute))
	}
	return fmt.Sprintf("%s%dd%02dh%02dm%02ds", neg, d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second)
}

// fmtSecs writes a time in seconds for a graph's axis: 0, µs, ms or s,
// four or five significant digits.
func fmtSecs(s float64) string {
	a := math.Abs(s)
	switch {
	case a == 0:
		return "0"
	case a < 1e-3:
		return strconv.FormatFloat(s*1e6, 'g', 4, 64) + " µs"
	case a < 1:
		return strconv.FormatFloat(s*1e3, 'g', 4, 64) + " ms"
	}
	return strconv.FormatFloat(s, 'g', 5, 64) + " s"
}
