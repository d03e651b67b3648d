package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFilterFlags(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	tests := []struct {
		args  []string
		code  int
		conns int    // rows of flows --json
		err   string // in stderr
	}{
		{[]string{"-f", "port 50001"}, exitOK, 1, ""},
		{[]string{"--filter", "port 50001 or port 50000"}, exitOK, 2, ""},
		{[]string{"--filter", "tcp and not host 10.0.0.1"}, exitOK, 0, ""},
		{[]string{"--filter", "port 80", "--port", "50000"}, exitOK, 1, ""}, // AND
		{[]string{"--since", "+0s", "--until", "2100-01-01T00:00:00Z"}, exitOK, 2, ""},
		{[]string{"--until", "+0s"}, exitOK, 0, ""},
		{[]string{"--since", "2100-01-01T00:00:00Z"}, exitOK, 0, ""},
		{[]string{"--filter", "host 10.0.0.1 and port x80"}, exitUsage, 0,
			"--filter: column 24: expected a port number\n    host 10.0.0.1 and port x80\n                           ^\n"},
		{[]string{"--since", "yesterday"}, exitUsage, 0, "--since \"yesterday\""},
		{[]string{"--until", "-5m"}, exitUsage, 0, "--until"},
	}
	for _, tc := range tests {
		args := append([]string{"flows", "--json", sample}, tc.args...)
		code, out, errs := runReseq(args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, errs, tc.code, tc.err)
			continue
		}
		if n := strings.Count(out, "\n"); code == exitOK && n != tc.conns {
			t.Errorf("%v: %d connections, want %d", tc.args, n, tc.conns)
		}
	}
}
