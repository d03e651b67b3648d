package main

import "testing"

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
