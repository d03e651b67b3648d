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

// Bytes on a RST are diagnostic (RFC 9293, 3.5.3), not stream data: no
// length, no gap ("closed" claimed 13 bytes were not captured, where
// Suricata expects none), counted in rst_bytes, the same whether or not the
// capture holds anything else of the direction.
func TestCorpusRSTPayload(t *testing.T) {
	cases := []struct {
		rel, src, dst    string
		length, rstBytes int64
	}{
		{"suricata-verify/tests/bug-6244-tcp-rst-with-data/tcp-rst-with-data.pcap", "1.1.1.1:12345", "2.2.2.2:8080", 0, 13},
		{"suricata-verify/tests/bug-6244-tcp-rst-with-data-02/tcp-rst-with-data.pcap", "2.2.2.2:8080", "1.1.1.1:12345", 17, 13},
		{"suricata-verify/tests/tcp-rst-unacked-stream-01-raw/input.pcap", "1.1.1.1:12345", "2.2.2.2:8080", 0, 13},
		{"suricata-verify/tests/tcp-rst-unacked-stream-03-gap/input.pcap", "1.1.1.1:12345", "2.2.2.2:8080", 0, 13},
		{"suricata-verify/tests/tcp-rst-unacked-stream-04-gap-ips/input.pcap", "1.1.1.1:12345", "2.2.2.2:8080", 0, 13},
		{"tcpdump/tests/tcp_rst_data.pcap", "199.204.31.89:80", "172.16.133.41:52875", 0, 58},
		{"tcpdump/tests/tcp_rst_diag_payload.pcap", "192.0.2.1:39829", "192.168.0.1:8080", 0, 8},
	}
	for _, c := range cases {
		idx := extractIndex(t, c.rel)
		r := findDir(t, idx, c.src, c.dst, 0)
		if inum(r, "length") != c.length || len(r["gaps"].([]any)) != 0 || inum(r, "rst_bytes") != c.rstBytes || r["rst"] != true {
			t.Errorf("%s: length %v gaps %v rst %v rst_bytes %v, want %d, none, true, %d",
				c.rel, r["length"], r["gaps"], r["rst"], r["rst_bytes"], c.length, c.rstBytes)
		}
	}
}

// Late packets of an ended connection join it: a FIN retransmitted after
// the linger (suricata-verify bug-7264: no second connection with the roles
// swapped repeating the last 31 bytes), a late SYN with the connection's own
// ISN (arkime tcp-reassembly-synthetic, tshark's stream 9). tshark counts
// one connection each.
func TestCorpusClosedIdentity(t *testing.T) {
	idx := extractIndex(t, "suricata-verify/tests/bug-7264-tcp-3whs-ack-data-tls-01/input.pcap")
	if len(idx) != 2 {
		t.Errorf("bug-7264: %d directions, want 2 (one connection)", len(idx))
	}
	idx = extractIndex(t, "arkime/tests/pcap/tcp-reassembly-synthetic.pcap")
	n := 0
	for _, r := range idx {
		if r["src"] == "10.180.156.1:40009" || r["dst"] == "10.180.156.1:40009" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("arkime 10.180.156.1:40009: %d directions, want 2 (one connection)", n)
	}
}

// fpcap's pcapng-example: frame 2 is stamped 2061 and the LINUX_SLL
// interface's frames carry overflowed timestamps; one far-future stamp must
// not expire or split connections: tshark's 15 connections, and
// 127.0.0.1:40304 <-> 3306 is one.
func TestCorpusClockLeap(t *testing.T) {
	idx := extractIndex(t, "fpcap/tracefiles/pcapng-example.pcapng")
	if len(idx) != 30 {
		t.Errorf("%d directions, want 30 (tshark's 15 connections)", len(idx))
	}
	r := findDir(t, idx, "127.0.0.1:40304", "127.0.0.1:3306", 0)
	if r["close"] != "fin" {
		t.Errorf("127.0.0.1:40304: close %v, want fin", r["close"])
	}
	for _, x := range idx {
		if x["src"] == "127.0.0.1:40304" && inum(x, "conn") != 0 {
			t.Errorf("127.0.0.1:40304 split: conn %v", x["conn"])
		}
	}
}
