package fuzz

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/gopacket/gopacket"
	glayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"
	"github.com/klauspost/compress/zstd"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// BenchmarkPipeline measures the whole path — read, decode, reassemble, a
// handler that counts bytes — over the ../shared/bench captures, one pass per
// op, for reseq and for gopacket as its users run it (pcapgo ZeroCopy +
// DecodingLayerParser + reassembly with default options, streams started
// without a SYN, FlushAll at the end).
//
// Two more runs show this machine's budget in the same run: "read" copies the
// file into the process and nothing else (one reused buffer of pipeline's
// chunk size: the physical limit of any reader of the file), and
// "reseq-noasm" is reseq's whole path with an assembler that does nothing
// (read, frame, decode, hand over): what is left of a pass for assembling.
func BenchmarkPipeline(b *testing.B) {
	for _, name := range []string{"perf", "small"} {
		b.Run(name, func(b *testing.B) {
			path := benchCapture(b, name)
			b.Run("reseq", func(b *testing.B) { plReseq(b, path, false) })
			b.Run("reseq-serial", func(b *testing.B) { plReseq(b, path, true) })
			b.Run("gopacket", func(b *testing.B) { plGopacket(b, path) })
			b.Run("read", func(b *testing.B) { plRead(b, path) })
			b.Run("reseq-noasm", func(b *testing.B) { plNoAssemble(b, path) })
		})
	}
}

// plRead reads the file to its end into one reused buffer of 256 KiB (the
// size pipeline lends the readers): the cost of getting the bytes into the
// process, which every reader of the file pays.
func plRead(b *testing.B, path string) {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	buf := make([]byte, 256<<10)
	var total int64
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		total = 0
		for {
			n, err := f.Read(buf)
			total += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
	if st, err := os.Stat(path); err != nil || st.Size() != total {
		b.Fatalf("read %d bytes of %s (%v)", total, path, err)
	}
	b.SetBytes(total)
}

// plNop takes segments and only counts them.
type plNop struct{ segs, bytes int64 }

func (a *plNop) Assemble(s *tcpasm.Segment) { a.segs++; a.bytes += int64(len(s.Payload)) }
func (a *plNop) AssembleBatch(segs []tcpasm.Segment) {
	for i := range segs {
		a.Assemble(&segs[i])
	}
}

// plNoAssemble is plReseq with an assembler that does nothing.
func plNoAssemble(b *testing.B, path string) {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	var pkts int64
	for i := 0; i < b.N; i++ {
		r, err := reseq.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		a := &plNop{}
		st, err := pipeline.Run(r, a, pipeline.Options{CapturePoint: true})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		if a.segs != st.TCP || a.bytes != st.Bytes {
			b.Fatalf("assembler saw %d segments, %d bytes; Run counted %d, %d", a.segs, a.bytes, st.TCP, st.Bytes)
		}
		pkts = st.Packets
	}
	b.ReportMetric(float64(pkts)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// repoRoot walks up from the working directory to the directory holding go.work.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	return testshared.RootTB(tb)
}

// benchCapture returns the decompressed bench capture name.pcap, decompressing
// ../shared/bench/name.pcap.zst once into os.TempDir()/reseq-bench/ (shared with
// other benchmarks: written atomically, reused when present).
func benchCapture(b *testing.B, name string) string {
	src := filepath.Join(repoRoot(b), "..", "shared", "bench", name+".pcap.zst")
	if _, err := os.Stat(src); err != nil {
		b.Skipf("bench capture absent: %v", err)
	}
	dir := filepath.Join(os.TempDir(), "reseq-bench")
	dst := filepath.Join(dir, name+".pcap")
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	zr, err := zstd.NewReader(in)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	tmp, err := os.CreateTemp(dir, name+".pcap.tmp*")
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(tmp, zr)
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

// plCountHandler counts delivered bytes and nothing else.
type plCountHandler struct{ data, late, gaps int64 }

func (h *plCountHandler) Open(*tcpasm.Conn)                                          {}
func (h *plCountHandler) Data(_ *tcpasm.Stream, _ int64, d []byte, _ int64)          { h.data += int64(len(d)) }
func (h *plCountHandler) Gap(_ *tcpasm.Stream, _, n int64, _ tcpasm.Reason, _ int64) { h.gaps += n }
func (h *plCountHandler) Late(_ *tcpasm.Stream, _ int64, d []byte, _ int64)          { h.late += int64(len(d)) }
func (h *plCountHandler) Conflict(*tcpasm.Stream, tcpasm.Conflict, int64)            {}
func (h *plCountHandler) Close(*tcpasm.Stream, tcpasm.Reason, int64)                 {}

// plReseq runs reseq as its users do: pipeline.Run (reading and decoding on
// one goroutine, assembling on the other; serial: all on one).
func plReseq(b *testing.B, path string, serial bool) pipeline.Stats {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	var st pipeline.Stats
	var pkts, bytes int64
	for i := 0; i < b.N; i++ {
		r, err := reseq.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := &plCountHandler{}
		a := tcpasm.New(tcpasm.DefaultConfig(), h)
		st, err = pipeline.Run(r, a, pipeline.Options{CapturePoint: true, Serial: serial})
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
		r.Close()
		pkts, bytes = st.Packets, h.data+h.late
	}
	b.ReportMetric(float64(pkts)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(bytes), "bytes/op")
	return st
}

// gopacket side: a stream that counts bytes, started without a SYN.
type plFactory struct{ bytes *int64 }

func (f plFactory) New(_, _ gopacket.Flow, _ *glayers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	return plStream{bytes: f.bytes}
}

type plStream struct{ bytes *int64 }

func (s plStream) Accept(_ *glayers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, _ reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	*start = true
	return true
}

func (s plStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	n, _ := sg.Lengths()
	*s.bytes += int64(n)
}

func (s plStream) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }

type plContext struct{ ci gopacket.CaptureInfo }

func (c *plContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

func plGopacket(b *testing.B, path string) {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	var pkts, bytes int64
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		var (
			eth   glayers.Ethernet
			dot1q glayers.Dot1Q
			ip4   glayers.IPv4
			ip6   glayers.IPv6
			tcp   glayers.TCP
		)
		parser := gopacket.NewDecodingLayerParser(glayers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp)
		parser.IgnoreUnsupported = true
		decoded := make([]gopacket.LayerType, 0, 8)
		var count int64
		asm := reassembly.NewAssembler(reassembly.NewStreamPool(plFactory{bytes: &count}))
		ctx := &plContext{}
		n := int64(0)
		for {
			data, ci, err := r.ZeroCopyReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			if err := parser.DecodeLayers(data, &decoded); err != nil {
				continue
			}
			var flow gopacket.Flow
			isTCP := false
			for _, t := range decoded {
				switch t {
				case glayers.LayerTypeIPv4:
					flow = ip4.NetworkFlow()
				case glayers.LayerTypeIPv6:
					flow = ip6.NetworkFlow()
				case glayers.LayerTypeTCP:
					isTCP = true
				}
			}
			if !isTCP {
				continue
			}
			ctx.ci = ci
			asm.AssembleWithContext(flow, &tcp, ctx)
		}
		asm.FlushAll()
		f.Close()
		pkts, bytes = n, count
	}
	b.ReportMetric(float64(pkts)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(bytes), "bytes/op")
}
