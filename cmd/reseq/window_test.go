package main

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ACKs each almost 1 GiB beyond the last, and random sequence numbers: no
// stream grows past what its packets support, and every file's size is its
// record's length.
func TestExtractImplausibleNumbers(t *testing.T) {
	dir := t.TempDir()
	cl, sv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	t0 := int64(1_700_000_000) * 1_000_000_000
	pkts := []tcpPkt{
		{ts: t0, src: cl, dst: sv, seq: 999, flags: 0x02},
		{ts: t0 + 1, src: sv, dst: cl, seq: 4999, ack: 1000, flags: 0x12},
		{ts: t0 + 2, src: cl, dst: sv, seq: 1000, ack: 5000, flags: 0x18, payload: []byte("0123456789")},
	}
	ack := uint32(1010)
	for i := range 1000 {
		ack += 1<<30 - 1
		pkts = append(pkts, tcpPkt{ts: t0 + 3 + int64(i), src: sv, dst: cl, seq: 5000, ack: ack, flags: 0x10})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	cl2 := netip.MustParseAddrPort("10.0.0.3:40001")
	pkts = append(pkts, tcpPkt{ts: t0 + 2000, src: cl2, dst: sv, seq: 7, flags: 0x02})
	for i := range 5000 {
		src, dst := cl2, sv
		if rng.IntN(2) == 1 {
			src, dst = sv, cl2
		}
		pkts = append(pkts, tcpPkt{ts: t0 + 2001 + int64(i), src: src, dst: dst, seq: rng.Uint32(), ack: rng.Uint32(),
			flags: 0x18, payload: []byte("abcdefgh")[:rng.IntN(9)]})
	}
	capPath := writeCapture(t, dir, "c.pcap", pkts)
	out := filepath.Join(dir, "o")
	if code, _, e := runReseq("extract", "--quiet", "-o", out, capPath); code != 0 {
		t.Fatalf("exit %d %s", code, e)
	}
	m, recs := flowsByKey(t, out)
	if r := m[cl.String()+">"+sv.String()+"#0"]; r["length"].(float64) != 10 || r["out_of_window"].(float64) < 400 {
		t.Errorf("ACK walk: length %v, out_of_window %v", r["length"], r["out_of_window"])
	}
	for _, r := range recs {
		length := int64(r["length"].(float64))
		if length > 64<<20 {
			t.Errorf("%v>%v: length %d", r["src"], r["dst"], length)
		}
		if f, _ := r["file"].(string); f != "" {
			fi, err := os.Stat(filepath.Join(out, f))
			if err != nil || fi.Size() != length {
				t.Errorf("%s: size %v (%v), length %d", f, fi.Size(), err, length)
			}
		}
	}
}

// 200k SYNs under --max-memory 16M: the oldest connections are evicted
// (close reason evicted), every connection is still listed.
func TestExtractSYNFloodEvicts(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 200_000
	dir := t.TempDir()
	sv := netip.MustParseAddrPort("192.168.0.1:80")
	t0 := int64(1_700_000_000) * 1_000_000_000
	pkts := make([]tcpPkt, n)
	for i := range pkts {
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		pkts[i] = tcpPkt{ts: t0 + int64(i)*1000, src: cl, dst: sv, seq: uint32(i) * 7919, flags: 0x02}
	}
	capPath := writeCapture(t, dir, "c.pcap", pkts)
	if code, out, e := runReseq("flows", "--json", "--max-memory", "16M", capPath); code != 0 {
		t.Fatalf("exit %d %s", code, e)
	} else if rows := strings.Count(out, "\n"); rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	} else if ev := strings.Count(out, `"close":"evicted"`); ev < n/2 {
		t.Errorf("%d directions evicted of %d connections", ev, n)
	}
}
