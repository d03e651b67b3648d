package reseq

import (
	"encoding/binary"
	"io"
	"math"
	"testing"
)

// rangePcapng hand-writes a little-endian pcapng: interface 0 in
// microseconds, interface 1 with if_tsoffset -2^40 s (before 1677 whatever
// the packet says). Packets: 1000 µs, 2^62 µs (after 2262), 2000 µs, 2^62 µs
// again, and one on interface 1. It returns the bytes and the offset of the
// first out-of-range packet's block.
func rangePcapng() ([]byte, int64) {
	le := binary.LittleEndian
	var b []byte
	u32 := func(v uint32) { b = le.AppendUint32(b, v) }
	// SHB
	u32(0x0A0D0D0A)
	u32(28)
	u32(0x1A2B3C4D)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, math.MaxUint64)
	u32(28)
	// IDB 0: Ethernet, default resolution (µs)
	u32(1)
	u32(20)
	u32(1)
	u32(0)
	u32(20)
	// IDB 1: if_tsoffset
	u32(1)
	u32(36)
	u32(1)
	u32(0)
	b = le.AppendUint16(b, 14)
	b = le.AppendUint16(b, 8)
	off := -(int64(1) << 40)
	b = le.AppendUint64(b, uint64(off))
	u32(0)
	u32(36)
	var late int64
	epb := func(iface uint32, ts uint64, data string) {
		u32(6)
		u32(32 + 4)
		u32(iface)
		u32(uint32(ts >> 32))
		u32(uint32(ts))
		u32(uint32(len(data)))
		u32(uint32(len(data)))
		b = append(b, data...)
		u32(32 + 4)
	}
	epb(0, 1000, "ok-1")
	late = int64(len(b))
	epb(0, 1<<62, "late")
	epb(0, 2000, "ok-2")
	epb(0, 1<<62, "lat2")
	epb(1, 5, "erly")
	return b, late
}

// TestTimestampOutOfRange: a packet whose timestamp Packet.Timestamp cannot
// hold is not silently capped: it comes at the bound, and
// Capture.TimestampsOutOfRange counts them, TimestampRangeOffset naming where
// the first was. The same whether the capture is read alone, merged or
// concatenated.
func TestTimestampOutOfRange(t *testing.T) {
	data, lateOff := rangePcapng()
	dir := t.TempDir()
	ng := writeFile(t, dir, "range.pcapng", data)
	other := writeFile(t, dir, "other.pcap", pcapBytes(t, genPackets(1, 3, 1_500_000, 1)))
	for _, tc := range []struct {
		name   string
		opt    Options
		inputs []string
		want   []string // the data of the packets in order; "!" for the error
	}{
		{"alone", Options{}, []string{ng}, []string{"ok-1", "late", "ok-2", "lat2", "erly"}},
		{"alone-mmap", Options{Mmap: true}, []string{ng}, []string{"ok-1", "late", "ok-2", "lat2", "erly"}},
		{"concat", Options{Concat: true}, []string{ng, other}, []string{"ok-1", "late", "ok-2", "lat2", "erly", "src1-pkt0-", "src1-pkt1-", "src1-pkt2-"}},
		// Merged: "late" holds its capture back until the other one ended.
		{"merge", Options{}, []string{ng, other}, []string{"ok-1", "src1-pkt0-", "src1-pkt1-", "src1-pkt2-", "late", "ok-2", "lat2", "erly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := OpenOptions(tc.opt, tc.inputs...)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var seq []string
			for {
				p, err := r.Next()
				if err == nil {
					seq = append(seq, string(p.Data[:min(len(p.Data), 10)]))
					var want int64
					switch string(p.Data) {
					case "late", "lat2":
						want = math.MaxInt64
					case "erly":
						want = math.MinInt64
					case "ok-1":
						want = 1000_000
					case "ok-2":
						want = 2000_000
					default:
						want = p.Timestamp
					}
					if p.Timestamp != want {
						t.Fatalf("%s at %d", p.Data, p.Timestamp)
					}
					continue
				}
				if err == io.EOF {
					break
				}
				t.Fatalf("error %v", err)
			}
			if len(seq) != len(tc.want) {
				t.Fatalf("got %q, want %q", seq, tc.want)
			}
			for i := range seq {
				if seq[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", seq, tc.want)
				}
			}
			if c := r.Captures()[0]; c.TimestampsOutOfRange != 3 || c.TimestampRangeOffset != lateOff {
				t.Fatalf("TimestampsOutOfRange %d, first at %d (want at %d)", c.TimestampsOutOfRange, c.TimestampRangeOffset, lateOff)
			}
		})
	}
}
