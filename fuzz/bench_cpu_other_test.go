//go:build !unix

package fuzz

import (
	"testing"
	"time"
)

func cpuTime() time.Duration                      { return -1 }
func reportCPU(b *testing.B, start time.Duration) {}
