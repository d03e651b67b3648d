package fuzz

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/wrapcap"
)

// BenchmarkTunnel measures what tunnels and IP fragments cost on the whole
// path (read, decode, reassemble IP, assemble TCP, count): each bench capture
// bare, wrapped in VXLAN (outer Ethernet, IPv4, UDP, VXLAN around every
// frame), and with every IPv4 packet fragmented to 576 bytes. The variants
// are made once by internal/wrapcap into os.TempDir()/reseq-bench/.
// scripts/bench_tunnel.sh prints the per-round ratios to bare.
func BenchmarkTunnel(b *testing.B) {
	for _, name := range []string{"perf", "small"} {
		b.Run(name, func(b *testing.B) {
			bare := benchCapture(b, name)
			for _, v := range []struct{ label, spec string }{{"bare", ""}, {"vxlan", "vxlan:5001"}, {"frag576", "frag:576"}} {
				b.Run(v.label, func(b *testing.B) {
					path := bare
					if v.spec != "" {
						path = benchVariant(b, bare, v.spec)
					}
					tnReseq(b, path)
				})
			}
		})
	}
}

// benchVariant returns bare wrapped by spec, made once beside it.
func benchVariant(b *testing.B, bare, spec string) string {
	dst := strings.TrimSuffix(bare, ".pcap") + "." + strings.NewReplacer(":", "_", ",", "+").Replace(spec) + ".pcap"
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	in, err := os.Open(bare)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp*")
	if err != nil {
		b.Fatal(err)
	}
	_, err = wrapcap.WrapFile(tmp, in, spec)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		b.Fatal(err)
	}
	return dst
}

// tnReseq is plReseq reporting also what IP reassembly held at most and the
// heap the runtime took.
func tnReseq(b *testing.B, path string) {
	st := plReseq(b, path, false)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(st.Frag.PeakBytes)/(1<<20), "frag-peak-MiB")
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}
