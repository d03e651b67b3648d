package main

import (
	"strings"
	"testing"
)

// TestHelpAndBadFlags: for every registered command, -h prints its usage
// to stdout with exit 0, and a bad flag is one line on stderr naming the
// command, exit 2.
func TestHelpAndBadFlags(t *testing.T) {
	for name := range commands {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := runReseq(name, h)
			if code != exitOK || !strings.Contains(out, "reseq "+name) || errOut != "" {
				t.Errorf("%s %s: exit %d, stdout %.60q, stderr %q", name, h, code, out, errOut)
			}
		}
		code, out, errOut := runReseq(name, "--no-such-flag", "x")
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "reseq "+name+": ") {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
	code, out, _ := runReseq("help", "extract")
	if code != exitOK || !strings.HasPrefix(out, "usage: reseq extract") {
		t.Errorf("help extract: exit %d, %.60q", code, out)
	}
	for _, args := range [][]string{
		{"extract", "-o", t.TempDir(), "--max-bytes", "12Q", "x.pcap"},
		{"http", "-o", t.TempDir(), "--max-body", "-1", "x.pcap"},
		{"flows", "--max-memory", "lots", "x.pcap"},
	} {
		code, out, errOut := runReseq(args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "reseq "+args[0]+": ") || !strings.Contains(errOut, "bad size") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int64
		w    string
		want string
	}{{1, "connection", "1 connection"}, {0, "connection", "0 connections"}, {2, "body", "2 bodies"}, {1, "body", "1 body"}, {3, "late byte", "3 late bytes"}} {
		if got := plural(c.n, c.w); got != c.want {
			t.Errorf("plural(%d, %q) = %q", c.n, c.w, got)
		}
	}
}
