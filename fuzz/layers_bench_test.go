package fuzz

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/zstd"

	"github.com/reseq/reseq/layers"
)

// benchFrame is one packet of a bench capture, held in memory.
type benchFrame struct {
	data    []byte
	origLen int
}

var benchCaptures struct {
	once   sync.Once
	frames []benchFrame
	bytes  int64
	err    string
}

// layersBenchFrames decompresses ../shared/bench/{perf,small}.pcap.zst into
// memory once and returns every packet (Ethernet pcap), skipping when absent.
func layersBenchFrames(b *testing.B) []benchFrame {
	dir := filepath.Join(layersShared(b), "bench")
	bc := &benchCaptures
	bc.once.Do(func() {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			bc.err = err.Error()
			return
		}
		defer dec.Close()
		for _, name := range []string{"perf.pcap.zst", "small.pcap.zst"} {
			comp, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				bc.err = err.Error()
				return
			}
			raw, err := dec.DecodeAll(comp, nil)
			if err != nil {
				bc.err = name + ": " + err.Error()
				return
			}
			frames, msg := benchParsePcap(raw)
			if msg != "" {
				bc.err = name + ": " + msg
				return
			}
			bc.frames = append(bc.frames, frames...)
			bc.bytes += int64(len(raw))
		}
	})
	if bc.err != "" {
		b.Skip(bc.err)
	}
	return bc.frames
}

// benchParsePcap slices an in-memory Ethernet pcap into its records without
// copying them.
func benchParsePcap(raw []byte) ([]benchFrame, string) {
	if len(raw) < 24 {
		return nil, "short file"
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, "not a classic pcap"
	}
	if lt := bo.Uint32(raw[20:]) & 0x0fffffff; lt != uint32(layers.LinkTypeEthernet) {
		return nil, "not Ethernet"
	}
	var frames []benchFrame
	for off := 24; off+16 <= len(raw); {
		caplen, orig := int(bo.Uint32(raw[off+8:])), int(bo.Uint32(raw[off+12:]))
		off += 16
		if caplen > len(raw)-off {
			break
		}
		frames = append(frames, benchFrame{raw[off : off+caplen : off+caplen], orig})
		off += caplen
	}
	return frames, ""
}

// BenchmarkDecode decodes every packet of both bench captures once per op:
// reseq's layers.Packet.Decode against gopacket's DecodingLayerParser (Ethernet,
// Dot1Q, IPv4, IPv6, TCP, IgnoreUnsupported). Both read the TCP sequence
// number and payload length of each packet so neither can skip work. The
// packets are slices of the decompressed captures, one contiguous buffer, in
// file order: both decoders see the same memory, as a reader delivers it.
//
// The captures hold ~270 MB, so the first touch of each header misses every
// cache, a cost of ~100 ns that swamps the decoders' own. In a reading
// pipeline the reader has just copied the frame, so its header is warm. The
// reseq and gopacket runs model that: both loops, every touchBatch frames,
// load the header lines of the next touchBatch frames (independent loads the
// CPU overlaps) before decoding the current ones. The cold-reseq and
// cold-gopacket runs leave it out and measure the cache misses too.
func BenchmarkDecode(b *testing.B) {
	frames := layersBenchFrames(b)
	for _, warm := range []bool{true, false} {
		prefix := ""
		if !warm {
			prefix = "cold-"
		}
		b.Run(prefix+"reseq", func(b *testing.B) { benchReseq(b, frames, warm) })
		b.Run(prefix+"gopacket", func(b *testing.B) { benchGopacket(b, frames, warm) })
	}
}

// touchBatch is how many frames the warm loops touch at once, ahead of the
// ones they decode: a cache miss costs more than one decode, and the misses
// of one batch overlap.
const touchBatch = 8

// touch returns a byte of each of the two first cache lines (where the
// headers are) of the touchBatch frames after the batch that starts at i, when
// i starts a batch and warm is set: the same work in both loops.
func touch(frames []benchFrame, i int, warm bool) uint64 {
	if !warm || i%touchBatch != 0 {
		return 0
	}
	var s uint64
	next := frames[min(i+touchBatch, len(frames)):min(i+2*touchBatch, len(frames))]
	for _, f := range next {
		if len(f.data) > 64 {
			s += uint64(f.data[0]) + uint64(f.data[64])
		}
	}
	return s
}

func benchReseq(b *testing.B, frames []benchFrame, warm bool) {
	var p layers.Packet
	var sink uint64
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range frames {
			sink += touch(frames, i, warm)
			p.Decode(layers.LinkTypeEthernet, frames[i].data, frames[i].origLen)
			if p.Transport == layers.TransportTCP {
				sink += uint64(p.TCP.Seq()) + uint64(len(p.Payload))
			}
		}
	}
	b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if sink == 0 {
		b.Fatal("no TCP decoded")
	}
}

func benchGopacket(b *testing.B, frames []benchFrame, warm bool) {
	var (
		eth     gl.Ethernet
		dot1q   gl.Dot1Q
		ip4     gl.IPv4
		ip6     gl.IPv6
		tcp     gl.TCP
		decoded = make([]gopacket.LayerType, 0, 8)
		sink    uint64
	)
	parser := gopacket.NewDecodingLayerParser(gl.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp)
	parser.IgnoreUnsupported = true
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range frames {
			sink += touch(frames, i, warm)
			_ = parser.DecodeLayers(frames[i].data, &decoded)
			for _, t := range decoded {
				if t == gl.LayerTypeTCP {
					sink += uint64(tcp.Seq) + uint64(len(tcp.Payload))
				}
			}
		}
	}
	b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if sink == 0 {
		b.Fatal("no TCP decoded")
	}
}

// BenchmarkDecodeCached measures the decoders alone: the first frames of the
// bench captures, up to 256 KiB of them, copied into one contiguous buffer
// that stays in the cache, decoded once per op.
func BenchmarkDecodeCached(b *testing.B) {
	all := layersBenchFrames(b)
	var frames []benchFrame
	arena := make([]byte, 0, 256<<10)
	for _, f := range all {
		if len(arena)+len(f.data) > cap(arena) {
			break
		}
		off := len(arena)
		arena = append(arena, f.data...)
		frames = append(frames, benchFrame{arena[off:len(arena):len(arena)], f.origLen})
	}
	b.Run("reseq", func(b *testing.B) { benchReseq(b, frames, false) })
	b.Run("gopacket", func(b *testing.B) { benchGopacket(b, frames, false) })
}
