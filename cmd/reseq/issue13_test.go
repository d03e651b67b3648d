package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
)

// This file holds regression tests on public captures against what other
// projects (Zeek, tshark, Suricata's suricata-verify expectations) say of
// them.

// corpusCapture returns the path of a capture of ../shared/corpus, or skips.
func corpusCapture(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(testshared.Dir(t, "corpus"), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present", rel)
	}
	return p
}

// extractIndex runs reseq extract with args on the corpus capture rel and
// returns its index.
func extractIndex(t *testing.T, rel string, args ...string) []map[string]any {
	t.Helper()
	p := corpusCapture(t, rel)
	dir := filepath.Join(t.TempDir(), "o")
	argv := append([]string{"extract", "-o", dir}, args...)
	argv = append(argv, p)
	if code, _, stderr := runReseq(argv...); code != 0 {
		t.Fatalf("extract %s: exit %d: %s", rel, code, stderr)
	}
	return readIndex(t, dir)
}

// findDir returns the index record of direction src -> dst (and conn), or fails.
func findDir(t *testing.T, idx []map[string]any, src, dst string, conn int) map[string]any {
	t.Helper()
	for _, r := range idx {
		if r["src"] == src && r["dst"] == dst && int(r["conn"].(float64)) == conn {
			return r
		}
	}
	t.Fatalf("no record %s -> %s conn %d", src, dst, conn)
	return nil
}

func inum(r map[string]any, k string) int64 {
	v, _ := r[k].(float64)
	return int64(v)
}

// Zeek's bigtransfer: a sparse capture of an FTP data connection of
// 5,416,666,670 bytes (the 213 reply, Zeek's conn.log and tshark agree):
// consecutive captured segments up to 1.9 GB apart, the sequence numbers
// wrapping twice.
func TestCorpusBigTransferLaps(t *testing.T) {
	idx := extractIndex(t, "zeek/testing/btest/Traces/ftp/bigtransfer.pcap")
	r := findDir(t, idx, "192.168.56.101:37150", "192.168.56.1:59764", 0)
	if got := inum(r, "length"); got != 5416666670 {
		t.Errorf("length %d, want 5416666670", got)
	}
	for _, k := range []string{"late", "conflicts", "out_of_window"} {
		if got := inum(r, k); got != 0 {
			t.Errorf("%s %d, want 0", k, got)
		}
	}
	if r["fin"] != true {
		t.Errorf("fin %v, want true", r["fin"])
	}
	n := 0
	for _, x := range idx {
		if x["dir"] == "c2s" && (x["src"] == "192.168.56.1:59764" || x["dst"] == "192.168.56.1:59764") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d connections on the data tuple, want 1", n)
	}
}
