//go:build unix

package fuzz

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since start: on a VM whose host
// steals CPU, wall time moves with the host's load, CPU time much less.
func reportCPU(b *testing.B, start time.Duration) {
	if now := cpuTime(); start >= 0 && now >= 0 && b.N > 0 {
		b.ReportMetric(float64(now-start)/1e6/float64(b.N), "cpu-ms/op")
	}
}
