package main

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// BenchmarkExtract times `reseq extract` end to end (open, decode, assemble,
// write every stream file and the index) on a generated capture of 200
// interleaved connections (~40 MB of payload), with the serial and the staged
// pipeline. Profile it with -cpuprofile; the lead runs it on an idle machine.
// The stream files go to b.TempDir(), or under $RESEQ_BENCH_OUT (e.g. a tmpfs).
func BenchmarkExtract(b *testing.B) {
	dir := b.TempDir()
	var pkts []tcpPkt
	for i := range 200 {
		c := conversation{
			client: netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:%d", i/250, i%250+1, 30000+i)),
			server: netip.MustParseAddrPort("10.2.0.1:80"),
			c2s:    pattern(2000+i*13, byte(i)),
			s2c:    pattern(200_000, byte(i*3)),
			mss:    1448,
			isnC:   uint32(i) * 0x01000193,
			isnS:   ^uint32(i) * 0x01000193,
			t0:     1_700_000_000*1_000_000_000 + int64(i)*3*ms,
		}
		pkts = append(pkts, c.packets()...)
	}
	slices.SortStableFunc(pkts, func(a, b tcpPkt) int { return cmp.Compare(a.ts, b.ts) })
	in := writeCapture(b, dir, "bench.pcap", pkts)
	fi, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	outRoot := os.Getenv("RESEQ_BENCH_OUT")
	if outRoot == "" {
		outRoot = dir
	}
	for _, serial := range []bool{true, false} {
		name := "staged"
		if serial {
			name = "serial"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for i := 0; b.Loop(); i++ {
				out := filepath.Join(outRoot, fmt.Sprintf("reseq-bench-%d-%s-%d", os.Getpid(), name, i))
				code, _, e := runWith(serialEnv(serial), "extract", "--quiet", "-o", out, in)
				b.StopTimer()
				if code != exitOK {
					b.Fatalf("exit %d: %s", code, e)
				}
				os.RemoveAll(out)
				b.StartTimer()
			}
		})
	}
}
