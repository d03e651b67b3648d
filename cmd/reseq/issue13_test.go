package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// Overlap policies, on suricata-verify's overlap captures, against what
// Suricata expects of them under the same policy. eve-payload-01: GOOD,
// then EVIL at the same offsets after GOOD was delivered (the stream holds
// GOOD under Suricata's default, bsd, and windows; EVIL under old-linux,
// eve-payload-02). eve-payload-04: XXX over the tail of GOOD (GOOD under
// the default). Where the policy keeps the later copy the file is rewritten
// in place and conflicts.jsonl says so. bug-3286-*: an HTTP response of
// "THIS_IS_A_TEST" (http.length 14) whatever the policy.
func TestCorpusOverlapPolicy(t *testing.T) {
	const sv = "suricata-verify/tests/"
	cases := []struct {
		rel, policy, want string
		hosts             []string
	}{
		// eve-payload-02's suricata.yaml: host-os-policy windows:
		// [0.0.0.0/0], old-linux: [2.2.2.2]; the receiver 2.2.2.2 wins.
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "first", "EVIL", []string{"windows=0.0.0.0/0", "old-linux=2.2.2.2"}},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "last", "GOOD", []string{"old-linux=2.0.0.0/8", "windows=2.2.2.0/24"}},
		// The policy is the receiver's: the sender's prefix does not apply.
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "first", "GOOD", []string{"old-linux=1.1.1.1"}},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "first", "GOOD", nil},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "bsd", "GOOD", nil},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "windows", "GOOD", nil},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "old-linux", "EVIL", nil},
		{sv + "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", "last", "EVIL", nil},
		{sv + "eve-payload-04-partial-overlap/tcp-overlap2.pcap", "bsd", "GOOD", nil},
		{sv + "eve-payload-04-partial-overlap/tcp-overlap2.pcap", "first", "GOOD", nil},
		{sv + "eve-payload-04-partial-overlap/tcp-overlap2.pcap", "last", "GXXX", nil},
	}
	for _, c := range cases {
		p := corpusCapture(t, c.rel)
		dir := filepath.Join(t.TempDir(), "o")
		argv := []string{"extract", "-q", "-o", dir, "--overlap", c.policy}
		for _, h := range c.hosts {
			argv = append(argv, "--overlap-host", h)
		}
		if code, _, stderr := runReseq(append(argv, p)...); code != 0 {
			t.Fatalf("extract %s: exit %d: %s", c.rel, code, stderr)
		}
		idx := readIndex(t, dir)
		r := findDir(t, idx, "1.1.1.1:12345", "2.2.2.2:8080", 0)
		b, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want || inum(r, "length") != 4 || inum(r, "conflicts") != 1 {
			t.Errorf("%s --overlap %s: %q (length %v, conflicts %v), want %q", c.rel, c.policy, b, r["length"], r["conflicts"], c.want)
		}
		cb, err := os.ReadFile(filepath.Join(dir, "conflicts.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var cr map[string]any
		if err := json.Unmarshal(cb, &cr); err != nil {
			t.Fatalf("conflicts.jsonl %q: %v", cb, err)
		}
		last := c.want != "GOOD"
		if wantKept := map[bool]string{false: "first", true: "last"}[last]; cr["kept"] != wantKept || (cr["rewritten"] == true) != last {
			t.Errorf("%s --overlap %s: conflict %s", c.rel, c.policy, cb)
		}
	}
	for _, rel := range []string{"bug-3286-01-no-evasion/without_evasion.pcap", "bug-3286-02-linux-evasion/with_evasion_linux.pcap",
		"bug-3286-03-windows-evasion/with_evasion_windows.pcap"} {
		for _, pol := range []string{"first", "last", "linux", "windows"} {
			p := corpusCapture(t, sv+rel)
			dir := filepath.Join(t.TempDir(), "o")
			if code, _, stderr := runReseq("extract", "-q", "-o", dir, "--overlap", pol, p); code != 0 {
				t.Fatalf("extract %s: exit %d: %s", rel, code, stderr)
			}
			n := 0
			for _, r := range readIndex(t, dir) {
				if r["src"] != "192.168.1.90:80" || r["file"] == nil {
					continue
				}
				n++
				b, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(string(b), "\r\n\r\nTHIS_IS_A_TEST") || inum(r, "conflicts") != 0 {
					t.Errorf("%s --overlap %s: response %q, conflicts %v", rel, pol, b, r["conflicts"])
				}
			}
			if n == 0 {
				t.Errorf("%s --overlap %s: no response", rel, pol)
			}
		}
	}
}

// Urgent bytes (suricata-verify tcp-urgp-01, -04, run with Suricata's urgent
// policy oob): inline (the default) the byte before the urgent pointer stays
// in the stream; --urgent oob leaves it out, as a receiver without
// SO_OOBINLINE does, and Suricata's rules then match "malicious" and
// "malicXious". Counted either way.
func TestCorpusUrgent(t *testing.T) {
	const sv = "suricata-verify/tests/"
	cases := []struct {
		rel, mode, want string
	}{
		{sv + "tcp-urgp-01-oob/tcp-urgent1.pcap", "inline", "GET /malicXious "},
		{sv + "tcp-urgp-01-oob/tcp-urgent1.pcap", "oob", "GET /malicious "},
		{sv + "tcp-urgp-04-2byte-XY/tcp-urgent-2byte-XY.pcap", "inline", "GET /malicXYious "},
		{sv + "tcp-urgp-04-2byte-XY/tcp-urgent-2byte-XY.pcap", "oob", "GET /malicXious "},
	}
	for _, c := range cases {
		p := corpusCapture(t, c.rel)
		dir := filepath.Join(t.TempDir(), "o")
		if code, _, stderr := runReseq("extract", "-q", "-o", dir, "--urgent", c.mode, p); code != 0 {
			t.Fatalf("extract %s: exit %d: %s", c.rel, code, stderr)
		}
		n := 0
		for _, r := range readIndex(t, dir) {
			if r["dst"] != "10.10.10.55:9090" || r["file"] == nil {
				continue
			}
			n++
			b, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), c.want) || int64(len(b)) != inum(r, "length") || inum(r, "urgent_bytes") != 1 || len(r["gaps"].([]any)) != 0 {
				t.Errorf("%s --urgent %s: %q (length %v, urgent_bytes %v, gaps %v), want %q...", c.rel, c.mode, b, r["length"], r["urgent_bytes"], r["gaps"], c.want)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d requests", c.rel, n)
		}
	}
}

// gopacket's linux_sll_oversized_addr.pcapng has bit-flipped fields. tshark
// (one stream, 209 frames) shows the server 10.209.8.148:21999 sending
// nothing beyond sequence number 3717339969 (frame 96; its follow holds
// 4,823 server bytes), and the client acknowledging it steadily; but the
// client's ACKs in frames 71 (3721266730), 74 (3717597439: 3717335295 with
// bit 18 flipped) and 88 (3717862699: 3717338411 with bit 19 flipped) lie
// 256 KiB to 3.9 MB beyond anything the server sent, and no later packet
// agrees with them. Without the handshake the window scale is unknown, and
// the capture never saw more than 1 KB in flight: they are out of window,
// dropped, and the server's stream ends where its own packets and the
// client's other ACKs say (3717340748, frame 99), not 3.9 MB later behind
// an acked gap. (reseq counts two connections where tshark counts one: the
// in-sequence RST of frame 34 is survived, its sender going on, but frame 96
// is a SYN-ACK with RST set; the server's data is all in the first.)
func TestCorpusOutOfWindowBitFlips(t *testing.T) {
	idx := extractIndex(t, "gopacket/layers/testdata/linux_sll_oversized_addr.pcapng")
	oow, server := int64(0), 0
	for _, r := range idx {
		oow += inum(r, "out_of_window")
		if r["src"] != "10.209.8.148:21999" || r["base_seq"] == nil {
			continue
		}
		server++
		if end := uint32(inum(r, "base_seq") + inum(r, "length")); end > 3717340748 || end < 3717323610 {
			t.Errorf("conn %v: the server's stream ends at sequence number %d, beyond 3717340748", r["conn"], end)
		}
		for _, g := range r["gaps"].([]any) {
			if n := int64(g.(map[string]any)["length"].(float64)); n > 10_000 {
				t.Errorf("conn %v: a gap of %d bytes", r["conn"], n)
			}
		}
	}
	if server != 1 || oow < 3 {
		t.Errorf("%d server directions with data, %d out of window; want 1, at least 3", server, oow)
	}
}

// suricata-verify's firewall out-of-window captures: a handshake without
// window scaling, the server advertising 256 bytes, then the client's 11
// bytes 100,000 bytes beyond its ISN. Suricata (--simulate-ips) drops that
// segment ("stream error", anomaly stream.3whs_wrong_seq_wrong_ack) and no
// stream data is seen; reseq, passive, leaves it out of the stream the same
// way and counts it (out_of_window 1): length 0, no 100,000-byte gap. The
// drop itself and stats.ips.blocked are Suricata's inline decisions, which a
// passive reassembler has no counterpart for.
func TestCorpusSuricataOutOfWindow(t *testing.T) {
	for _, c := range []struct{ rel, client string }{
		{"suricata-verify/tests/firewall/tcp-session-stream-out-of-window/input.pcap", "192.0.2.10:43210"},
		{"suricata-verify/tests/firewall/tcp-session-ipv6-stream-out-of-window/input.pcap", "[2001:db8::10]:43210"},
	} {
		idx := extractIndex(t, c.rel)
		if len(idx) != 2 {
			t.Errorf("%s: %d directions, want 2", c.rel, len(idx))
			continue
		}
		for _, r := range idx {
			oow := int64(0)
			if r["src"] == c.client {
				oow = 1
			}
			if inum(r, "length") != 0 || len(r["gaps"].([]any)) != 0 || inum(r, "out_of_window") != oow {
				t.Errorf("%s %v: length %v gaps %v out_of_window %v, want 0, none, %d", c.rel, r["src"], r["length"], r["gaps"], r["out_of_window"], oow)
			}
		}
	}
}

// arkime's tcp_handshake_synthetic: in two handshakes (client ports 40002
// and 40010) the client's third packet acknowledges 999999 and 517000,
// 993,998 and 499,999 bytes beyond the server's ISN, and the server never
// sends a byte (it retransmits its SYN-ACK). The handshake says no window
// scaling and a 65,535-byte window: out of window. Arkime's expectation
// (tcp_handshake_synthetic.test): server bytes 0, totDataBytes 0; reseq:
// length 0, no gap (an acked gap of 993,998 bytes before), out_of_window 1.
func TestCorpusArkimeHandshakeFarAck(t *testing.T) {
	idx := extractIndex(t, "arkime/tests/pcap/tcp_handshake_synthetic.pcap")
	for _, cl := range []string{"192.0.2.10:40002", "192.0.2.10:40010"} {
		r := findDir(t, idx, "198.51.100.5:8080", cl, 0)
		if inum(r, "length") != 0 || len(r["gaps"].([]any)) != 0 || inum(r, "out_of_window") != 1 {
			t.Errorf("8080 -> %s: length %v gaps %v out_of_window %v, want 0, none, 1", cl, r["length"], r["gaps"], r["out_of_window"])
		}
	}
}

// tcpdump's bigtcp-ipv4.pcap: one BIG TCP segment of 80,000 bytes, captured
// mid-stream before segmentation, longer than any window reseq would
// assume without the handshake: it starts at the stream's frontier, so it
// is the stream (tshark: 80,000 bytes), not out of window.
func TestCorpusBigTCPSegment(t *testing.T) {
	idx := extractIndex(t, "tcpdump/tests/bigtcp-ipv4.pcap")
	r := findDir(t, idx, "10.25.132.13:35871", "10.25.132.11:36425", 0)
	if inum(r, "length") != 80000 || inum(r, "captured") != 80000 || inum(r, "out_of_window") != 0 {
		t.Errorf("length %v captured %v out_of_window %v, want 80000, 80000, 0", r["length"], r["captured"], r["out_of_window"])
	}
}

// A RST the connection survived (suricata-verify's bug-3286 evasions: RSTs
// answer the SYN, then the real SYN-ACK; Zeek's rst-inject-rae: an injected
// RST, then the SYN-ACK): one connection, as tshark and Suricata see it,
// with tshark's follow byte counts and the survived RSTs in rst_survived.
func TestCorpusRSTSurvived(t *testing.T) {
	for _, c := range []struct {
		rel      string
		c2s, s2c int64
		survived int64 // both directions
		rst      bool  // the server direction ended by a later RST
	}{
		{"suricata-verify/tests/bug-3286-02-linux-evasion/with_evasion_linux.pcap", 338, 79, 2, false},
		{"suricata-verify/tests/bug-3286-03-windows-evasion/with_evasion_windows.pcap", 343, 79, 1, false},
		{"zeek/testing/btest/Traces/tcp/rst-inject-rae.pcap", 175, 0, 1, true},
	} {
		idx := extractIndex(t, c.rel)
		if len(idx) != 2 {
			t.Errorf("%s: %d directions, want 2 (tshark: one connection)", c.rel, len(idx))
			continue
		}
		var survived int64
		for _, r := range idx {
			want := c.c2s
			if r["dir"] == "s2c" {
				want = c.s2c
				if r["rst"] != c.rst {
					t.Errorf("%s: s2c rst %v, want %v", c.rel, r["rst"], c.rst)
				}
			}
			if inum(r, "conn") != 0 || inum(r, "length") != want || inum(r, "gap_bytes") != 0 {
				t.Errorf("%s %s: conn %v length %v gap bytes %v, want 0, %d, 0", c.rel, r["dir"], r["conn"], r["length"], r["gap_bytes"], want)
			}
			survived += inum(r, "rst_survived")
		}
		if survived != c.survived {
			t.Errorf("%s: rst_survived %d, want %d", c.rel, survived, c.survived)
		}
	}
}
