package fuzz

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/wrapcap"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
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

// tnReseq is plReseq reporting what reassembly held at most and the heap in
// use after the pass.
func tnReseq(b *testing.B, path string) {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	var st pipeline.Stats
	var bytes int64
	for i := 0; i < b.N; i++ {
		r, err := reseq.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := &plCountHandler{}
		a := tcpasm.New(tcpasm.DefaultConfig(), h)
		st, err = pipeline.Run(r, a, pipeline.Options{CapturePoint: true})
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
		r.Close()
		bytes = h.data + h.late
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(bytes), "bytes/op")
	b.ReportMetric(float64(st.Frag.PeakBytes)/(1<<20), "frag-peak-MiB")
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}
