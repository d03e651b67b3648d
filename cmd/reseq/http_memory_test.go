package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// TestHTTPMemoryBudget: HTTP parser state counts in --max-memory. Under
// --max-memory 8M (an eighth, 1 MiB, for HTTP parser state) a generated
// capture keeps more than that pending: 24 connections each hold an
// unfinished 60 KB header block at once, and one client pipelines 1500
// requests of about 1 KB that no response answers. The run ends normally,
// warns once with the reason, gives the oldest pending requests up (their
// records say so) and still lists every request.
func TestHTTPMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	server := netip.MustParseAddrPort("10.0.0.2:80")
	const requests = 1500
	var c2s strings.Builder
	pad := strings.Repeat("p", 900)
	for i := range requests {
		fmt.Fprintf(&c2s, "GET /r%d HTTP/1.1\r\nHost: h\r\nX-Pad: %s\r\n\r\n", i, pad)
	}
	t0 := int64(1_700_000_000) * 1e9
	pipelined := &conversation{client: netip.MustParseAddrPort("10.0.0.1:40000"), server: server,
		c2s: []byte(c2s.String()), isnC: 1000, isnS: 2000, mss: 1400, t0: t0}
	pkts := pipelined.packets()
	unfinished := "GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("b", 60_000)
	for i := range 24 {
		c := &conversation{client: netip.AddrPortFrom(netip.MustParseAddr("10.0.1.1"), uint16(41000+i)), server: server,
			c2s: []byte(unfinished), isnC: uint32(5000 + i), isnS: 7000, mss: 1400, t0: t0 + int64(i)*1000}
		pkts = mergeByTime(pkts, c.packets())
	}
	capt := writeCapture(t, dir, "mem.pcap", pkts)

	// count returns the requests /rN listed and those given up.
	count := func(out string) (listed, given int) {
		for _, r := range readHTTPIndex(t, out) {
			if strings.HasPrefix(r.Target, "/r") {
				listed++
			}
			if strings.Contains(r.Incomplete, givenUp) {
				given++
			}
		}
		return listed, given
	}

	out := dir + "/out"
	code, _, stderr := runReseq("http", "-o", out, "--quiet", "--max-memory", "8M", capt)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Count(stderr, "HTTP parser state reached its share of --max-memory") != 1 {
		t.Errorf("no single budget warning in %q", stderr)
	}
	listed, given := count(out)

	// Without a budget only the per-connection bound on pending requests
	// (http1.DefaultMaxPending, 1 MiB: about 720 of them) gives requests up;
	// with it, the unfinished header blocks compete for the same 1 MiB.
	out2 := dir + "/out2"
	code, _, stderr = runReseq("http", "-o", out2, "--quiet", "--max-memory", "0", capt)
	if code != exitOK {
		t.Fatalf("--max-memory 0: exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "reached its share") {
		t.Errorf("--max-memory 0 warned: %q", stderr)
	}
	listed2, given2 := count(out2)
	if listed != requests || listed2 != requests || given2 < requests/3 || given2 >= given || given == requests {
		t.Errorf("budget: %d of %d requests listed, %d given up; none: %d listed, %d given up", listed, requests, given, listed2, given2)
	}
}
