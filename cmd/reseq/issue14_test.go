package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 14 item 9: zeek's ftp/bigtransfer control connection is quiet for
// about 150 s between its PASV/RETR and the 226 reply. Whatever --idle, it
// stays one connection (the quiet stretch makes it dormant, its next packet,
// in sequence, resumes it) with 192.168.56.1 the client; before, --idle
// 120s (the old default) split it in two, the second with the roles swapped.
func TestCorpusIdleResumesFTPControl(t *testing.T) {
	for _, idle := range []string{"120s", "30s", ""} {
		var args []string
		if idle != "" {
			args = []string{"--idle", idle}
		}
		idx := extractIndex(t, "zeek/testing/btest/Traces/ftp/bigtransfer.pcap", args...)
		n := 0
		for _, r := range idx {
			src, dst := r["src"].(string), r["dst"].(string)
			if src == "192.168.56.101:21" || dst == "192.168.56.101:21" {
				n++
				if inum(r, "conn") != 0 {
					t.Errorf("--idle %q: %s -> %s conn %d, want 0", idle, src, dst, inum(r, "conn"))
				}
			}
			if src == "192.168.56.101:21" && dst != "192.168.56.1:59762" || dst == "192.168.56.1:21" {
				t.Errorf("--idle %q: roles swapped: %s -> %s", idle, src, dst)
			}
		}
		if n != 2 {
			t.Errorf("--idle %q: %d directions on port 21, want 2 (one connection)", idle, n)
		}
		c2s := findDir(t, idx, "192.168.56.1:59762", "192.168.56.101:21", 0)
		if inum(c2s, "length") != 104 || c2s["close"] != "fin" {
			t.Errorf("--idle %q: client length %d close %v, want 104, fin", idle, inum(c2s, "length"), c2s["close"])
		}
	}
}

// Issue 14 item 3: connection numbers do not depend on the filter (like
// tshark's tcp.stream): flows and extract number the connections the filter
// keeps as without it, and follow's selector picks the same connection.
func TestFilterKeepsNumbers(t *testing.T) {
	capPath, _, _ := twoConversations(t, t.TempDir())
	rows := func(args ...string) map[string]float64 {
		t.Helper()
		code, out, stderr := runReseq(append(append([]string{"flows", "--json"}, args...), capPath)...)
		if code != exitOK {
			t.Fatalf("flows %v: exit %d: %s", args, code, stderr)
		}
		m := map[string]float64{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			m[r["src"].(string)] = r["index"].(float64)
		}
		return m
	}
	all := rows()
	if all["10.0.0.1:40000"] != 0 || all["[fd77::1]:5001"] != 1 {
		t.Fatalf("unfiltered: %v", all)
	}
	for _, f := range [][]string{{"--port", "8080"}, {"--filter", "port 8080"}, {"--host", "fd77::2"}, {"--filter", "ip6"}} {
		got := rows(f...)
		if len(got) != 1 || got["[fd77::1]:5001"] != 1 {
			t.Errorf("flows %v: %v, want [fd77::1]:5001 numbered 1", f, got)
		}
	}
	if got := rows("--port", "80"); len(got) != 1 || got["10.0.0.1:40000"] != 0 {
		t.Errorf("flows --port 80: %v", got)
	}
	dir := filepath.Join(t.TempDir(), "o")
	if code, _, stderr := runReseq("extract", "-o", dir, "--port", "8080", capPath); code != exitOK {
		t.Fatalf("extract: exit %d: %s", code, stderr)
	}
	for _, r := range readIndex(t, dir) {
		if r["src"] != "[fd77::1]:5001" && r["dst"] != "[fd77::1]:5001" || r["index"] != 1.0 {
			t.Errorf("extract --port 8080: %v", r)
		}
	}
	code, want, stderr := runReseq("follow", capPath, "1")
	if code != exitOK || !strings.Contains(want, "fd77::1") {
		t.Fatalf("follow 1: exit %d: %s%s", code, want, stderr)
	}
	for _, f := range [][]string{{"--port", "8080"}, {"--filter", "ip6"}} {
		code, got, stderr := runReseq(append([]string{"follow", capPath, "1"}, f...)...)
		if code != exitOK || got != want {
			t.Errorf("follow 1 %v: exit %d: %q, want %q (%s)", f, code, got, want, stderr)
		}
	}
}
