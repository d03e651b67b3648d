package fuzz

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// BenchmarkRead measures one pass over a whole capture per op, through the
// path users get (reseq.Open: sniffing, format reader, Packet), against
// gopacket's pcapgo ZeroCopyReadPacketData, against a plain io.Copy of the same
// file to io.Discard, and — for the compressed perf capture — against
// klauspost's zstd decoding to io.Discard. The decompressed captures and their
// pcapng copies (EPBs on one interface, written with reseq's pcapng Writer) are
// made once in os.TempDir()/reseq-bench/ and reused. The inmemory runs time the
// format readers alone over a capture already in memory (NewReaderBytes).
func BenchmarkRead(b *testing.B) {
	for _, name := range []string{"small", "perf"} {
		b.Run(name, func(b *testing.B) {
			pcapPath := benchCapture(b, name)
			ngPath := readBenchPcapng(b, pcapPath)
			b.Run("pcap/reseq", func(b *testing.B) { benchReadReseq(b, pcapPath) })
			b.Run("pcap/gopacket", func(b *testing.B) { benchReadGopacket(b, pcapPath, false) })
			b.Run("pcapng/reseq", func(b *testing.B) { benchReadReseq(b, ngPath) })
			b.Run("pcapng/gopacket", func(b *testing.B) { benchReadGopacket(b, ngPath, true) })
			b.Run("pcap/inmemory", func(b *testing.B) { benchReadBytes(b, pcapPath, false) })
			b.Run("pcapng/inmemory", func(b *testing.B) { benchReadBytes(b, ngPath, true) })
			if name != "perf" {
				return
			}
			b.Run("copy", func(b *testing.B) { benchReadCopy(b, pcapPath) })
			zst := filepath.Join(repoRoot(b), "..", "shared", "bench", name+".pcap.zst")
			b.Run("zstd/reseq", func(b *testing.B) { benchReadReseq(b, zst) })
			b.Run("zstd/decode", func(b *testing.B) { benchReadZstd(b, zst) })
		})
	}
}

// readBenchPcapng returns a pcapng copy of the pcap at path (EPBs on one
// interface), written next to it once.
func readBenchPcapng(b *testing.B, path string) string {
	dst := path[:len(path)-len(filepath.Ext(path))] + ".pcapng"
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	in, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	pr, err := pcapfile.NewReader(in)
	if err != nil {
		b.Fatal(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp*")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	w, err := pcapng.NewWriter(bw)
	if err != nil {
		b.Fatal(err)
	}
	res := uint8(6)
	if pr.Nanosecond() {
		res = 9
	}
	if _, err := w.AddInterface(uint16(pr.LinkType()), pr.Snaplen(), res); err != nil {
		b.Fatal(err)
	}
	for {
		p, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := w.WritePacket(0, p.Timestamp, p.Data, p.Length); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		b.Fatal(err)
	}
	return dst
}

func readBenchReport(b *testing.B, pkts int64, size int64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(pkts)*float64(b.N)/s, "pkts/s")
	}
	b.SetBytes(size)
}

func readBenchSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

func benchReadReseq(b *testing.B, path string) {
	b.ReportAllocs()
	size := readBenchSize(b, path)
	var pkts int64
	for i := 0; i < b.N; i++ {
		r, err := reseq.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n := int64(0)
		var sum int
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			sum += len(p.Data)
		}
		r.Close()
		if sum == 0 {
			b.Fatal("no data")
		}
		pkts = n
	}
	readBenchReport(b, pkts, size)
}

// drainPackets calls next to io.EOF, returning the packets and the sum of
// their captured lengths.
func drainPackets[P any](b *testing.B, next func() (P, error), size func(P) int) (n int64, sum int) {
	for {
		p, err := next()
		if err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			return n, sum
		}
		n++
		sum += size(p)
	}
}

// benchReadBytes measures the format reader alone: the capture is loaded into
// memory once and read in place (NewReaderBytes) per op, so neither system
// calls nor page faults count, only the per-packet work of the parser.
func benchReadBytes(b *testing.B, path string, ng bool) {
	b.ReportAllocs()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var pkts int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var n int64
		var sum int
		if ng {
			r, err := pcapng.NewReaderBytes(data)
			if err != nil {
				b.Fatal(err)
			}
			n, sum = drainPackets(b, r.Next, func(p pcapng.Packet) int { return len(p.Data) })
		} else {
			r, err := pcapfile.NewReaderBytes(data)
			if err != nil {
				b.Fatal(err)
			}
			n, sum = drainPackets(b, r.Next, func(p pcapfile.Packet) int { return len(p.Data) })
		}
		if sum == 0 {
			b.Fatal("no data")
		}
		pkts = n
	}
	readBenchReport(b, pkts, int64(len(data)))
}

func benchReadGopacket(b *testing.B, path string, ng bool) {
	b.ReportAllocs()
	size := readBenchSize(b, path)
	var pkts int64
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var read func() ([]byte, error)
		if ng {
			r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
			if err != nil {
				b.Fatal(err)
			}
			read = func() ([]byte, error) { d, _, err := r.ZeroCopyReadPacketData(); return d, err }
		} else {
			r, err := pcapgo.NewReader(f)
			if err != nil {
				b.Fatal(err)
			}
			read = func() ([]byte, error) { d, _, err := r.ZeroCopyReadPacketData(); return d, err }
		}
		n := int64(0)
		var sum int
		for {
			d, err := read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			sum += len(d)
		}
		f.Close()
		if sum == 0 {
			b.Fatal("no data")
		}
		pkts = n
	}
	readBenchReport(b, pkts, size)
}

func benchReadCopy(b *testing.B, path string) {
	b.ReportAllocs()
	size := readBenchSize(b, path)
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, f)
		f.Close()
		if err != nil || n != size {
			b.Fatal(n, err)
		}
	}
	b.SetBytes(size)
}

func benchReadZstd(b *testing.B, path string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := zstd.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		zr.Close()
		f.Close()
		if err != nil || n == 0 {
			b.Fatal(n, err)
		}
	}
	b.SetBytes(readBenchSize(b, path))
}
